# Hubtab: `make demo` and `make test` do all the set-up on a fresh machine.
PYTHON ?= python3
UV = $(PYTHON) -m uv
VENV = .venv/bin

.PHONY: install demo test lint format bench bench-customers bench-billing clean messages

install:
	@$(UV) --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet uv
	@$(UV) sync --frozen --quiet

demo: install
	@mkdir -p var
	@env -u DATABASE_URL $(VENV)/hubtab migrate --noinput -v0
	@env -u DATABASE_URL $(VENV)/hubtab demo
	@env -u DATABASE_URL bash scripts/demo-run

test: install lint
	@bash scripts/ensure-chromium
	@bash scripts/run-tests

lint: install
	@$(VENV)/ruff check src tests bench conftest.py
	@$(VENV)/ruff format --check --quiet src tests bench conftest.py
	@$(VENV)/mypy src/hubtab --no-error-summary
	@mkdir -p var && $(VENV)/lint-imports --no-cache > var/lint-imports.txt 2>&1 || { cat var/lint-imports.txt; exit 1; }

messages: install  ## refresh the translation catalogues from the code, then compile them (needs gettext)
	@cd src/hubtab && ../../$(VENV)/django-admin makemessages --all --settings=hubtab.settings --ignore "*/tests/*" -e html,txt,py
	@$(VENV)/python scripts/compile-messages

format: install
	@$(VENV)/ruff check --fix src tests bench conftest.py
	@$(VENV)/ruff format src tests bench conftest.py

bench: install
	@$(VENV)/python bench/ledger.py

bench-customers: install  ## the CRM at 100,000 people and 1,000,000 orders (docs/performance.md, "CRM")
	@$(VENV)/python bench/customers.py

bench-billing: install  ## billing with 10,000 customers in debt, the morning run, charges through localstripe (docs/performance.md, "Billing")
	@$(VENV)/python bench/billing.py

clean:
	rm -rf var/*.sqlite3 var/static

import pytest
from django_scopes import scopes_disabled


@pytest.fixture(autouse=True)
def _read_ledger_rows_directly():
    # Ledger tests assert on the ledger's own tables across hubs; the services under test scope
    # (or deliberately unscope) their own queries.
    with scopes_disabled():
        yield

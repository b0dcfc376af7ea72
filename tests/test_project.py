"""Project-wide checks: what a fresh clone needs to be right."""

import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_the_models_and_the_migrations_agree():
    # Exits non-zero (SystemExit) if a model change has no migration.
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


def test_the_deploy_checks_pass_with_production_settings(settings):
    from django.core.management.base import SystemCheckError

    settings.DEBUG = False
    settings.SECRET_KEY = "x" * 60
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = True
    from hubtab import settings as production

    settings.MAILERS = production.MAILERS  # the test run swaps in an in-memory mailer
    try:
        call_command("check", "--deploy", "--fail-level", "ERROR", verbosity=0)
    except SystemCheckError as exc:  # pragma: no cover - the message is the point
        pytest.fail(str(exc))

"""Project-wide checks: what a fresh clone needs to be right."""

import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_the_models_and_the_migrations_agree():
    # Exits non-zero (SystemExit) if a model change has no migration.
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


def test_the_deploy_checks_pass_with_production_settings():
    """`check --deploy` with the environment a production install sets: not even a warning."""
    import os
    import secrets
    import subprocess
    import sys
    from pathlib import Path

    env = {
        **os.environ,
        "HUBTAB_SECRET_KEY": secrets.token_urlsafe(50),
        "HUBTAB_SECURE_COOKIES": "true",
        "HUBTAB_ALLOWED_HOSTS": "hubtab.example.org",
    }
    hubtab = Path(sys.executable).with_name("hubtab")
    result = subprocess.run(
        [str(hubtab), "check", "--deploy", "--fail-level", "WARNING"], env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr

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


@pytest.mark.django_db
def test_a_nul_character_anywhere_is_a_clear_400_not_a_server_error(client, hub):
    import json

    from hubtab.api.services import token_create

    response = client.get(f"/hubs/{hub.slug}/customers/", {"q": "a\x00b"})
    assert response.status_code == 400 and b"NUL character" in response.content
    token = token_create(hub=hub, name="t", scopes=["customers:write", "customers:read"], created_by=None)[1]
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": "nul"}
    response = client.post(
        "/api/v1/customers", json.dumps({"email": "a@example.org", "first_name": "x\x00"}),
        content_type="application/json", headers=headers,
    )  # fmt: skip
    assert response.status_code == 422 and response.json()["error"]["code"] == "validation_error"
    response = client.get("/api/v1/customers", {"tag": "\x00"}, headers=headers)
    assert response.status_code == 422

"""Pages that say no (403) or nothing here (404) look like Hubtab and speak the reader's language;
a refusal is one line in the log, not a traceback."""

import io
import logging

import pytest
from django.urls import reverse

from hubtab.core.logs import ForbiddenOneLine
from hubtab.core.models import Role, User
from hubtab.core.services import membership_grant

pytestmark = pytest.mark.django_db


@pytest.fixture
def support_client(client, hub):
    user = User.objects.create_user("support@example.org", "pw-long-enough")
    membership_grant(hub=hub, user=user, role=Role.SUPPORT)
    client.force_login(user)
    return client


@pytest.mark.parametrize(("language", "heading"), [("en", "This page is not for your role"),
                                                   ("fr", "Cette page n\u2019est pas pour votre rôle")])  # fmt: skip
def test_a_forbidden_page_has_the_layout_and_the_readers_language(support_client, hub, language, heading):
    response = support_client.get(reverse("credit_settings", args=[hub.slug]), HTTP_ACCEPT_LANGUAGE=language)
    page = response.content.decode()
    assert response.status_code == 403
    assert heading in page and "hubtab.css" in page and f'lang="{language}"' in page


@pytest.mark.parametrize(("language", "heading"), [("en", "We can't find this page"),
                                                   ("fr", "Nous ne trouvons pas cette page")])  # fmt: skip
def test_a_missing_page_has_the_layout_and_the_readers_language(support_client, language, heading):
    response = support_client.get("/hubs/no-such-hub/", HTTP_ACCEPT_LANGUAGE=language)
    page = response.content.decode()
    assert response.status_code == 404 and heading in page and "hubtab.css" in page


def test_a_forbidden_request_is_one_line_in_the_log(support_client, hub):
    console = next(h for h in logging.getLogger().handlers if any(isinstance(f, ForbiddenOneLine) for f in h.filters))
    stream = io.StringIO()
    previous = console.setStream(stream)  # type: ignore[attr-defined]
    try:
        support_client.get(reverse("credit_settings", args=[hub.slug]))
    finally:
        console.setStream(previous)  # type: ignore[attr-defined]
    written = stream.getvalue()
    assert "Forbidden" in written and "Traceback" not in written and len(written.strip().splitlines()) == 1

"""The hub's team: owners invite crew by email with a role; every crew action leaves an audit row."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from hubtab.core.errors import DomainError
from hubtab.core.models import AuditEvent, Invitation, Membership, Role
from hubtab.core.services import invitation_create, membership_grant, membership_remove, user_create
from hubtab.crm.models import Customer
from hubtab.testing import mail_text

pytestmark = pytest.mark.django_db

PASSWORD = "green-beans-2026"


@pytest.fixture
def owner(hub):
    user = user_create(email="owner@example.org", password=PASSWORD, email_verified=True, first_name="Olivia")
    membership_grant(hub=hub, user=user, role=Role.OWNER)
    return user


def _roles(hub, email):
    return set(Membership.objects.across_hubs().filter(hub=hub, user__email=email).values_list("role", flat=True))


def test_an_owner_invites_finance_crew_who_accept_with_the_emailed_link(client, hub, owner, smtp_server):
    client.force_login(owner)
    response = client.post(reverse("team", args=[hub.slug]), {"email": "Sam@Example.org", "role": "finance"})
    assert response.status_code == 302
    assert len(smtp_server) == 1 and smtp_server[0]["To"] == "sam@example.org"
    body = mail_text(smtp_server[0])
    assert hub.name in smtp_server[0]["Subject"] and "Olivia" in body
    link = re.search(r"https?://\S+", body).group(0)
    path = link.split("testserver", 1)[-1]
    team_page = client.get(reverse("team", args=[hub.slug])).content.decode()
    assert "sam@example.org" in team_page  # waiting for an answer

    sam = user_create(email="sam@example.org", password=PASSWORD, email_verified=True)
    client.force_login(sam)
    assert "as <strong>Finance</strong>" in client.get(path).content.decode()
    response = client.post(path)
    assert response.status_code == 302 and response["Location"] == reverse("dashboard", args=[hub.slug])
    assert _roles(hub, "sam@example.org") == {"finance"}
    # The link works once.
    response = client.post(path)
    assert response.status_code == 400 and "already been accepted" in response.content.decode()
    actions = list(AuditEvent.objects.across_hubs().filter(hub=hub).order_by("id").values_list("action", flat=True))
    assert actions == ["crew.invite", "crew.join"]


def test_an_invitation_is_only_for_the_address_it_was_sent_to(client, hub, owner):
    _, token = invitation_create(hub=hub, email="sam@example.org", role="support", invited_by=owner)
    eve = user_create(email="eve@example.org", password=PASSWORD, email_verified=True)
    client.force_login(eve)
    response = client.post(reverse("invitation_accept", args=[token]))
    assert response.status_code == 400 and "This invitation is for sam@example.org" in response.content.decode()
    assert _roles(hub, "eve@example.org") == set()


def test_a_withdrawn_or_expired_invitation_gives_nothing(client, hub, owner):
    sam = user_create(email="sam@example.org", password=PASSWORD, email_verified=True)
    withdrawn, token = invitation_create(hub=hub, email="sam@example.org", role="owner", invited_by=owner)
    client.force_login(owner)
    client.post(reverse("invitation_withdraw", args=[hub.slug, withdrawn.id]))
    client.force_login(sam)
    assert client.post(reverse("invitation_accept", args=[token])).status_code == 400

    expired, token = invitation_create(hub=hub, email="sam@example.org", role="owner", invited_by=owner)
    Invitation.objects.across_hubs().filter(id=expired.id).update(expires_at=timezone.now() - timedelta(1))
    response = client.post(reverse("invitation_accept", args=[token]))
    assert response.status_code == 400 and "expired" in response.content.decode()
    assert _roles(hub, "sam@example.org") == set()
    assert client.get(reverse("invitation_accept", args=["not-a-token"])).status_code == 404


def test_someone_not_logged_in_is_asked_to_log_in_or_sign_up_first(client, hub, owner):
    _, token = invitation_create(hub=hub, email="sam@example.org", role="support", invited_by=owner)
    page = client.get(reverse("invitation_accept", args=[token])).content.decode()
    assert "Create a login" in page and "/accounts/signup/?next=" in page
    assert client.post(reverse("invitation_accept", args=[token])).status_code == 200  # nothing accepted
    assert Invitation.objects.across_hubs().get().accepted_at is None


def test_bad_invitations_are_refused_with_a_reason(client, hub, owner):
    client.force_login(owner)
    url = reverse("team", args=[hub.slug])
    assert "valid email" in client.post(url, {"email": "not-an-email", "role": "support"}).content.decode()
    assert client.post(url, {"email": "a@example.org", "role": "customer"}).status_code == 200  # not a crew role
    page = client.post(url, {"email": "owner@example.org", "role": "owner"}).content.decode()
    assert "already has the owner role" in page
    assert Invitation.objects.across_hubs().count() == 0


def test_a_hub_always_keeps_an_owner(hub, owner):
    only = Membership.objects.across_hubs().get(hub=hub, user=owner, role="owner")
    with pytest.raises(DomainError) as refused:
        membership_remove(hub=hub, membership=only, actor=owner)
    assert refused.value.code == "last_owner"
    assert _roles(hub, "owner@example.org") == {"owner"}


def test_crew_changes_to_a_customer_are_on_its_page_and_in_the_activity_log(client, hub, owner):
    client.force_login(owner)
    client.post(
        reverse("customer_new", args=[hub.slug]),
        {"email": "hugo@example.org", "first_name": "Hugo", "last_name": "Martin", "tags": "box"},
    )
    hugo = Customer.objects.across_hubs().get(email="hugo@example.org")
    client.post(
        reverse("customer_edit", args=[hub.slug, hugo.id]),
        {"email": "hugo@example.org", "first_name": "Hugo", "last_name": "Martin", "phone": "0601", "tags": "box, veg"},
    )
    client.post(reverse("customer_archive", args=[hub.slug, hugo.id]))
    events = AuditEvent.objects.across_hubs().filter(subject_id=hugo.id).order_by("id")
    assert [e.action for e in events] == ["customer.create", "customer.update", "customer.archive"]
    assert events[1].data == {"phone": ["", "0601"], "tags": [["box"], ["box", "veg"]]}
    assert all(e.actor_id == owner.id and e.actor_email == "owner@example.org" for e in events)
    page = client.get(reverse("customer_detail", args=[hub.slug, hugo.id])).content.decode()
    assert "Changed phone, tags" in page
    log = client.get(reverse("audit", args=[hub.slug])).content.decode()
    assert log.index("Archived the record") < log.index("Created the record")  # newest first


def test_removing_a_role_asks_first_and_says_who_loses_what(client, hub, owner):
    from django.urls import reverse

    from hubtab.core.models import Membership

    sam = user_create(email="sam@example.org", password=None)
    membership = membership_grant(hub=hub, user=sam, role=Role.FINANCE)
    client.force_login(owner)
    url = reverse("team_remove", args=[hub.slug, membership.id])
    asked = client.post(url)  # the "remove" button on the Team page
    page = asked.content.decode()
    assert asked.status_code == 200 and "sam@example.org" in page and "will no longer be" in page
    assert Membership.objects.across_hubs().filter(id=membership.id).exists()
    done = client.post(url, {"confirm": "yes"})
    assert done.status_code == 302 and not Membership.objects.across_hubs().filter(id=membership.id).exists()

"""Marketing consent as crew handle it: recorded by hand on the person's page (agreed on the phone,
withdrawn in person), with source, actor and time in the timeline and the audit trail; and honoured
where emails leave Hubtab: copying emails and the Mailchimp export."""

import csv
import io

import pytest
from django.urls import reverse

from hubtab.core.errors import DomainError
from hubtab.core.models import AuditEvent, Role
from hubtab.core.services import membership_grant, user_create
from hubtab.crm.consent import HOW_MAX, consent_record, consent_set
from hubtab.crm.models import Activity, ActivityKind, ConsentSource, Customer
from hubtab.crm.services import customer_create

pytestmark = pytest.mark.django_db

CONSENT_KINDS = (ActivityKind.CONSENT_GIVEN, ActivityKind.CONSENT_WITHDRAWN)


def _crew(hub, role, email):
    user = user_create(email=email, password="pw-long-enough", email_verified=True)
    membership_grant(hub=hub, user=user, role=role)
    return user


@pytest.fixture
def support(hub):
    return _crew(hub, Role.SUPPORT, "support@example.org")


@pytest.fixture
def marie(hub):
    return customer_create(hub=hub, email="marie@example.org", first_name="Marie", last_name="Dubois")


def _fresh(customer):
    return Customer.objects.across_hubs().get(id=customer.id)


def _lines(hub, customer):
    rows = Activity.objects.across_hubs().filter(hub=hub, customer=customer, kind__in=CONSENT_KINDS).order_by("id")
    return [(row.kind, row.data, row.actor_id) for row in rows]


def _audits(hub):
    return list(AuditEvent.objects.across_hubs().filter(hub=hub, action="customer.consent").order_by("id"))


# --- the service -------------------------------------------------------------------------------------


def test_crew_record_a_consent_given_on_the_phone_then_withdrawn_in_person(hub, support, marie):
    assert consent_record(hub=hub, customer=marie, actor=support, given=True, how="  On the phone,\n 3 March ")
    saved = _fresh(marie)
    assert (saved.marketing_consent, saved.consent_source) == (True, ConsentSource.CREW)
    assert saved.consent_changed_at is not None and marie.marketing_consent  # the caller's copy follows
    assert _lines(hub, marie) == [
        (ActivityKind.CONSENT_GIVEN, {"source": "crew", "comment": "On the phone, 3 March"}, support.id)
    ]

    assert consent_record(hub=hub, customer=marie, actor=support, given=False, how="")
    assert _fresh(marie).marketing_consent is False
    assert _lines(hub, marie)[1] == (ActivityKind.CONSENT_WITHDRAWN, {"source": "crew"}, support.id)
    audits = _audits(hub)
    assert [(a.data["given"], a.data["how"], a.actor_id, a.subject_id) for a in audits] == [
        (True, "On the phone, 3 March", support.id, marie.id),
        (False, "", support.id, marie.id),
    ]


def test_recording_what_is_already_so_writes_nothing(hub, support, marie):
    consent_set(hub=hub, customer=marie, given=True, source=ConsentSource.SIGNUP)
    assert consent_record(hub=hub, customer=marie, actor=support, given=True, how="paper form") is False
    saved = _fresh(marie)
    assert saved.consent_source == ConsentSource.SIGNUP  # still where it first came from
    assert len(_lines(hub, marie)) == 1 and _audits(hub) == []


@pytest.mark.parametrize(
    ("given", "how", "message"),
    [
        ("yes", "", "Choose whether the person agreed"),
        (None, "", "Choose whether the person agreed"),
        (True, "x" * (HOW_MAX + 1), f"at most {HOW_MAX} characters"),
        (True, ["phone"], "in words"),
    ],
)
def test_bad_input_is_refused_with_a_reason_and_changes_nothing(hub, support, marie, given, how, message):
    with pytest.raises(DomainError) as refused:
        consent_record(hub=hub, customer=marie, actor=support, given=given, how=how)
    assert refused.value.code == "validation_error" and message in refused.value.message
    assert _fresh(marie).marketing_consent is False and _lines(hub, marie) == [] and _audits(hub) == []


def test_another_hubs_person_is_not_found(hub, other_hub, support):
    theirs = customer_create(hub=other_hub, email="theirs@example.org")
    with pytest.raises(DomainError) as refused:
        consent_record(hub=hub, customer=theirs, actor=support, given=True)
    assert refused.value.code == "not_found" and _fresh(theirs).marketing_consent is False


# --- the person's page -------------------------------------------------------------------------------


def test_support_record_consent_on_the_persons_page_and_see_it_in_the_timeline_and_changes(client, hub, support, marie):
    client.force_login(support)
    page = client.get(reverse("customer_detail", args=[hub.slug, marie.id])).content.decode()
    assert (
        "Record consent to marketing emails, given or withdrawn" in page
        and reverse("customer_consent", args=[hub.slug, marie.id]) in page
    )
    response = client.post(
        reverse("customer_consent", args=[hub.slug, marie.id]), {"given": "yes", "how": "In person at the market"}
    )
    assert response.status_code == 302 and response["Location"].endswith("#consent")
    assert _fresh(marie).marketing_consent is True
    page = client.get(response["Location"]).content.decode()
    assert "Recorded: Marie Dubois agreed to marketing emails." in page
    assert "Agreed to marketing messages (Recorded by crew): In person at the market" in page  # the timeline
    assert "Recorded agreement to marketing emails" in page  # changes to this record
    assert "support@example.org" in page

    again = client.post(reverse("customer_consent", args=[hub.slug, marie.id]), {"given": "yes"}, follow=True)
    assert "Nothing to record" in again.content.decode() and len(_audits(hub)) == 1


@pytest.mark.parametrize(
    ("posted", "message"),
    [
        ({"given": "maybe"}, "Choose whether the person agreed"),
        ({"how": "phone"}, "Choose whether the person agreed"),
        ({"given": "yes", "how": "x" * (HOW_MAX + 1)}, f"at most {HOW_MAX} characters"),
    ],
)
def test_a_bad_consent_form_says_why_and_changes_nothing(client, hub, support, marie, posted, message):
    client.force_login(support)
    response = client.post(reverse("customer_consent", args=[hub.slug, marie.id]), posted)
    assert response.status_code == 200 and message in response.content.decode()
    assert _fresh(marie).marketing_consent is False and _lines(hub, marie) == [] and _audits(hub) == []


def test_finance_may_not_record_consent_and_sees_no_form(client, hub, marie):
    client.force_login(_crew(hub, Role.FINANCE, "finance@example.org"))
    page = client.get(reverse("customer_detail", args=[hub.slug, marie.id])).content.decode()
    assert "Record consent to marketing emails, given or withdrawn" not in page
    response = client.post(reverse("customer_consent", args=[hub.slug, marie.id]), {"given": "yes"})
    assert response.status_code == 403 and _fresh(marie).marketing_consent is False and _audits(hub) == []


def test_another_hubs_person_is_not_found_from_the_page(client, hub, other_hub, support):
    theirs = customer_create(hub=other_hub, email="theirs@example.org")
    client.force_login(support)
    response = client.post(reverse("customer_consent", args=[hub.slug, theirs.id]), {"given": "yes"})
    assert response.status_code == 404 and _fresh(theirs).marketing_consent is False


# --- copying emails and exporting ----------------------------------------------------------------------


@pytest.fixture
def mixed(hub):
    """Ann and Bob agreed to marketing emails; Cid and Dee did not."""
    people = {}
    for name in ("ann", "bob", "cid", "dee"):
        people[name] = customer_create(hub=hub, email=f"{name}@example.org", first_name=name.title(), tags=["box"])
    for name in ("ann", "bob"):
        consent_set(hub=hub, customer=people[name], given=True, source=ConsentSource.IMPORT)
    return people


def test_copied_emails_leave_out_who_did_not_agree_to_marketing_unless_crew_say_otherwise(client, hub, support, mixed):
    client.force_login(support)
    url = reverse("customers_emails", args=[hub.slug])
    response = client.get(url, {"format": "text"})  # by default: only those who agreed
    assert sorted(response.content.decode().split(", ")) == ["ann@example.org", "bob@example.org"]
    assert (response["X-Count"], response["X-Without-Consent"], response["X-Left-Out"]) == ("2", "2", "2")
    # The list's box posts "0" then "1" when ticked: the last one counts.
    ticked = client.post(url, {"format": "text", "marketing_only": ["0", "1"], "p": [mixed["ann"].id, mixed["cid"].id]})
    assert ticked.content.decode() == "ann@example.org" and ticked["X-Left-Out"] == "1"
    everyone = client.post(url, {"format": "text", "marketing_only": "0"})
    assert sorted(everyone.content.decode().split(", ")) == [f"{n}@example.org" for n in ("ann", "bob", "cid", "dee")]
    assert (everyone["X-Count"], everyone["X-Without-Consent"], everyone["X-Left-Out"]) == ("4", "2", "0")
    audits = AuditEvent.objects.across_hubs().filter(hub=hub, action="customers.copy_emails").order_by("id")
    assert [(a.params["count"], a.data["marketing_only"]) for a in audits] == [(2, True), (1, True), (4, False)]


def test_the_emails_page_says_who_was_left_out_and_offers_to_include_them(client, hub, support, mixed):
    client.force_login(support)
    url = reverse("customers_emails", args=[hub.slug])
    page = client.post(url, {"c": "tags_any", "v": "box", "j": "and"}).content.decode()
    assert "2 people who have not agreed to marketing emails were left out." in page
    assert "cid@example.org" not in page and "Include them too" in page
    assert 'name="c" value="tags_any"' in page  # the offer keeps the selection
    page = client.post(url, {"c": "tags_any", "v": "box", "j": "and", "marketing_only": "0"}).content.decode()
    assert "cid@example.org" in page and "2 of them have not agreed to marketing emails" in page


def test_the_person_list_offers_only_those_who_agreed_to_marketing_ticked(client, hub, support, mixed):
    client.force_login(support)
    page = client.get(reverse("customer_index", args=[hub.slug])).content.decode()
    assert 'name="marketing_only" value="1" checked' in page and "Only those who agreed to marketing" in page


def test_the_mailchimp_export_says_who_agreed_to_marketing(client, hub, support, mixed):
    client.force_login(support)
    response = client.get(reverse("customer_export", args=[hub.slug]), {"preset": "mailchimp", "csv_sep": "comma"})
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert {r["Email Address"]: r["Marketing Consent"] for r in rows} == {
        "ann@example.org": "yes", "bob@example.org": "yes", "cid@example.org": "no", "dee@example.org": "no",
    }  # fmt: skip

"""Notes on a person (who wrote them, pinned first, follow-ups on the overview) and the timeline's
lines for notes and tags, one person's or many people's at once."""

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from hubtab.core.errors import DomainError
from hubtab.core.models import AuditEvent, Role
from hubtab.core.services import membership_grant, user_create
from hubtab.crm.models import Activity, ActivityKind, Customer, Note
from hubtab.crm.notes import note_add, note_delete, note_edit, note_follow_up_done, note_pin
from hubtab.crm.selectors import follow_ups_due, notes_of
from hubtab.crm.services import customer_create, customer_update, tags_change

pytestmark = pytest.mark.django_db


def _crew(hub, role, email):
    user = user_create(email=email, password="pw-long-enough", email_verified=True)
    membership_grant(hub=hub, user=user, role=role)
    return user


@pytest.fixture
def owner(hub):
    return _crew(hub, Role.OWNER, "owner@example.org")


@pytest.fixture
def support(hub):
    return _crew(hub, Role.SUPPORT, "support@example.org")


@pytest.fixture
def marie(hub):
    return customer_create(hub=hub, email="marie@example.org", first_name="Marie", last_name="Dubois")


def _url(name, hub, customer, note=None):
    args = [hub.slug, customer.id] + ([note.id] if note else [])
    return reverse(name, args=args)


def _timeline(hub, customer, kinds=(ActivityKind.NOTE_ADDED, ActivityKind.TAGGED, ActivityKind.UNTAGGED)):
    rows = Activity.objects.across_hubs().filter(hub=hub, customer=customer, kind__in=kinds).order_by("id")
    return [(row.kind, row.data, row.actor_id) for row in rows]


def _audit(hub, action):
    return list(AuditEvent.objects.across_hubs().filter(hub=hub, action=action))


def test_an_author_adds_edits_and_deletes_their_own_note_each_step_audited(hub, support, marie):
    note = note_add(hub=hub, customer=marie, author=support, body="  Prefers Thursday pickups.  ")
    assert (note.body, note.author, note.pinned) == ("Prefers Thursday pickups.", support, False)
    assert _timeline(hub, marie) == [(ActivityKind.NOTE_ADDED, {"excerpt": "Prefers Thursday pickups."}, support.id)]

    note_edit(hub=hub, note=note, actor=support, body="Prefers Friday pickups.", pinned=True, follow_up_on=None)
    saved = Note.objects.across_hubs().get(id=note.id)
    assert (saved.body, saved.pinned) == ("Prefers Friday pickups.", True)
    # The timeline quotes the note as it reads now.
    assert _timeline(hub, marie)[0][1] == {"excerpt": "Prefers Friday pickups."}

    note_delete(hub=hub, note=saved, actor=support)
    assert not Note.objects.across_hubs().filter(id=note.id).exists()
    # The line stays (a note was written) without its words.
    assert _timeline(hub, marie) == [(ActivityKind.NOTE_ADDED, {"deleted": True}, support.id)]
    assert [len(_audit(hub, action)) for action in ("note.add", "note.edit", "note.delete")] == [1, 1, 1]
    assert _audit(hub, "note.delete")[0].subject_id == marie.id


def test_the_owner_deletes_anyones_note_but_nobody_else_changes_it(client, hub, owner, support, marie):
    other = _crew(hub, Role.SUPPORT, "other@example.org")
    note = note_add(hub=hub, customer=marie, author=support, body="Allergic to nuts.")
    for attempt in (
        lambda: note_edit(hub=hub, note=note, actor=other, body="Changed", pinned=False, follow_up_on=None),
        lambda: note_edit(hub=hub, note=note, actor=owner, body="Changed", pinned=False, follow_up_on=None),
        lambda: note_delete(hub=hub, note=note, actor=other),
    ):
        with pytest.raises(DomainError) as refused:
            attempt()
        assert refused.value.code == "forbidden"
    assert Note.objects.across_hubs().get(id=note.id).body == "Allergic to nuts."

    # On the pages: another support member sees the note and why they can't change it; a forced
    # post is refused with that message and changes nothing.
    client.force_login(other)
    page = client.get(_url("customer_note_edit", hub, marie, note)).content.decode()
    assert "Only the author of a note can change it." in page and 'name="body"' not in page
    client.post(_url("customer_note_edit", hub, marie, note), {"body": "Changed"})
    response = client.post(_url("customer_note_delete", hub, marie, note), follow=True)
    assert "Only the author of a note, or the hub&#x27;s owner, can delete it." in response.content.decode()
    assert Note.objects.across_hubs().get(id=note.id).body == "Allergic to nuts."

    client.force_login(owner)
    detail = client.get(_url("customer_detail", hub, marie)).content.decode()
    assert _url("customer_note_delete", hub, marie, note) in detail
    assert _url("customer_note_edit", hub, marie, note) not in detail  # the owner deletes, never rewrites
    assert client.post(_url("customer_note_delete", hub, marie, note)).status_code == 302
    assert not Note.objects.across_hubs().filter(id=note.id).exists()


def test_support_writes_notes_from_the_customer_page_with_a_follow_up_and_a_pin(client, hub, support, marie):
    client.force_login(support)
    follow_up = timezone.localdate() + timedelta(days=3)
    response = client.post(
        _url("customer_note_add", hub, marie),
        {
            "body": "Call about the <b>school</b> box.\nAfter 10am.",
            "follow_up_on": follow_up.isoformat(),
            "pinned": "on",
        },
    )
    assert response.status_code == 302 and response["Location"].endswith("#notes")
    note = Note.objects.across_hubs().get(customer=marie)
    assert (note.author, note.follow_up_on, note.pinned) == (support, follow_up, True)
    page = client.get(_url("customer_detail", hub, marie)).content.decode()
    # Escaped, line breaks kept; the author and the buttons the author may use.
    assert "Call about the &lt;b&gt;school&lt;/b&gt; box.<br>After 10am." in page
    assert "support@example.org" in page and "Pinned" in page
    for name in ("customer_note_edit", "customer_note_delete", "customer_note_pin", "customer_note_done"):
        assert _url(name, hub, marie, note) in page


@pytest.mark.parametrize("role", [Role.FINANCE, Role.CUSTOMER])
def test_finance_and_customers_may_not_write_notes(client, hub, marie, support, role):
    note = note_add(hub=hub, customer=marie, author=support, body="Allergic to nuts.")
    client.force_login(_crew(hub, role, f"{role}@example.org"))
    assert client.post(_url("customer_note_add", hub, marie), {"body": "Hello"}).status_code == 403
    for name in ("customer_note_edit", "customer_note_delete", "customer_note_pin", "customer_note_done"):
        assert client.post(_url(name, hub, marie, note), {"body": "x", "pinned": "1"}).status_code == 403
    assert list(Note.objects.across_hubs().filter(hub=hub).values_list("body", flat=True)) == ["Allergic to nuts."]
    if role == Role.FINANCE:  # finance reads notes but gets no buttons
        page = client.get(_url("customer_detail", hub, marie)).content.decode()
        assert "Allergic to nuts." in page and _url("customer_note_add", hub, marie) not in page


def test_another_hubs_note_or_another_persons_note_is_not_found(client, hub, other_hub, owner, support, marie):
    theirs_customer = customer_create(hub=other_hub, email="theirs@example.org")
    theirs = note_add(hub=other_hub, customer=theirs_customer, author=owner, body="Theirs")
    hugo = customer_create(hub=hub, email="hugo@example.org")
    hugos = note_add(hub=hub, customer=hugo, author=support, body="Hugo's")
    client.force_login(owner)
    assert client.get(reverse("customer_note_edit", args=[hub.slug, marie.id, theirs.id])).status_code == 404
    for name in ("customer_note_edit", "customer_note_delete", "customer_note_pin", "customer_note_done"):
        assert client.post(reverse(name, args=[hub.slug, marie.id, theirs.id])).status_code == 404
        assert client.post(reverse(name, args=[hub.slug, theirs_customer.id, theirs.id])).status_code == 404
        assert client.post(reverse(name, args=[hub.slug, marie.id, hugos.id])).status_code == 404
    assert Note.objects.across_hubs().filter(id__in=[theirs.id, hugos.id]).count() == 2


@pytest.mark.parametrize(
    "body, message",
    [
        ("   \n ", "Write something in the note."),
        ("x" * 5001, "A note can be at most 5000 characters long; this one has 5001."),
    ],
)
def test_an_empty_or_oversized_note_gets_a_clear_error_and_writes_nothing(client, hub, support, marie, body, message):
    with pytest.raises(DomainError) as refused:
        note_add(hub=hub, customer=marie, author=support, body=body)
    assert (refused.value.code, refused.value.message) == ("validation_error", message)

    client.force_login(support)
    response = client.post(_url("customer_note_add", hub, marie), {"body": body})
    page = response.content.decode()
    assert response.status_code == 200 and message in page
    assert body.strip()[:100] in page  # what was typed is still there to fix
    assert not Note.objects.across_hubs().filter(hub=hub).exists()
    assert _timeline(hub, marie) == [] and _audit(hub, "note.add") == []


def test_a_note_of_exactly_5000_characters_with_browser_line_breaks_is_kept(hub, support, marie):
    body = "a\r\n" * 2499 + "ab"  # 7499 characters as sent, 5000 once each CRLF is one line break
    assert len(note_add(hub=hub, customer=marie, author=support, body=body).body) == 5000


def test_pinned_notes_come_first_then_the_newest(hub, support, marie):
    first = note_add(hub=hub, customer=marie, author=support, body="First")
    pinned = note_add(hub=hub, customer=marie, author=support, body="Pinned, old", pinned=False)
    newest = note_add(hub=hub, customer=marie, author=support, body="Newest")
    note_pin(hub=hub, note=pinned, actor=support, pinned=True)
    assert [n.id for n in notes_of(hub=hub, customer=marie)] == [pinned.id, newest.id, first.id]
    note_pin(hub=hub, note=pinned, actor=support, pinned=False)
    assert [n.id for n in notes_of(hub=hub, customer=marie)] == [newest.id, pinned.id, first.id]
    assert len(_audit(hub, "note.pin")) == 1 and len(_audit(hub, "note.unpin")) == 1


def test_a_follow_up_is_on_the_overview_when_due_and_gone_once_done(client, hub, support, marie):
    today = timezone.localdate(timezone=ZoneInfo(hub.timezone))
    due = note_add(hub=hub, customer=marie, author=support, body="Ask how the party went", follow_up_on=today)
    overdue = note_add(
        hub=hub, customer=marie, author=support, body="Send the invoice", follow_up_on=today - timedelta(days=2)
    )
    later = note_add(hub=hub, customer=marie, author=support, body="Not yet", follow_up_on=today + timedelta(days=5))
    assert [n.id for n in follow_ups_due(hub=hub, today=today)] == [overdue.id, due.id]

    client.force_login(support)
    page = client.get(reverse("dashboard", args=[hub.slug])).content.decode()
    assert "Follow-ups due" in page and "2 follow-ups due" in page
    assert "Ask how the party went" in page and "Send the invoice" in page and "Not yet" not in page
    assert _url("customer_detail", hub, marie) in page

    response = client.post(_url("customer_note_done", hub, marie, due), {"back": "dashboard"})
    assert response["Location"] == reverse("dashboard", args=[hub.slug])
    note_follow_up_done(hub=hub, note=overdue, actor=support)
    note_follow_up_done(hub=hub, note=overdue, actor=support)  # a second click changes nothing
    assert len(_audit(hub, "note.follow_up_done")) == 2
    page = client.get(reverse("dashboard", args=[hub.slug])).content.decode()
    assert "Follow-ups due" not in page and "Ask how the party went" not in page

    # A new date is a new follow-up.
    note_edit(hub=hub, note=due, actor=support, body=due.body, pinned=False, follow_up_on=today)
    assert follow_ups_due(hub=hub, today=today) == []
    note_edit(hub=hub, note=later, actor=support, body=later.body, pinned=False, follow_up_on=today)
    assert [n.id for n in follow_ups_due(hub=hub, today=today)] == [later.id]


def test_the_timeline_shows_notes_and_tags_added_and_removed(client, hub, support):
    hugo = customer_create(hub=hub, email="hugo@example.org", first_name="Hugo", tags=["veg box"], actor=support)
    customer_update(hub=hub, customer=hugo, tags=["school", "veg box"], actor=support)
    customer_update(hub=hub, customer=hugo, tags=["school"], actor=support)
    customer_update(hub=hub, customer=hugo, tags=["school"], actor=support)  # no change, no line
    note_add(hub=hub, customer=hugo, author=support, body="Collects for his neighbour too.")
    assert [(kind, data) for kind, data, _actor in _timeline(hub, hugo)] == [
        (ActivityKind.TAGGED, {"tag": "veg box"}),
        (ActivityKind.TAGGED, {"tag": "school"}),
        (ActivityKind.UNTAGGED, {"tag": "veg box"}),
        (ActivityKind.NOTE_ADDED, {"excerpt": "Collects for his neighbour too."}),
    ]
    client.force_login(support)
    page = client.get(_url("customer_detail", hub, hugo)).content.decode()
    for line in ("Tag added: veg box", "Tag added: school", "Tag removed: veg box", "Note added: Collects for his"):
        assert line in page


def test_tags_change_on_many_people_writes_each_timeline_and_one_audit_line(hub, owner, support, marie):
    hugo = customer_create(hub=hub, email="hugo@example.org", tags=["school"])
    lea = customer_create(hub=hub, email="lea@example.org", tags=["school", "veg box"])
    before = len(_timeline(hub, lea))
    people = Customer.objects.filter(hub=hub).filter(id__in=[marie.id, hugo.id, lea.id])

    changed = tags_change(hub=hub, customers=people, add=["veg box", " winter "], remove=["school"], actor=support)

    assert changed == 3
    tags = {c.email: sorted(t.name for t in c.tags.all()) for c in Customer.objects.across_hubs().filter(hub=hub)}
    assert tags == {email: ["veg box", "winter"] for email in tags}
    assert [(k, d) for k, d, _a in _timeline(hub, lea)[before:]] == [
        (ActivityKind.TAGGED, {"tag": "winter"}),
        (ActivityKind.UNTAGGED, {"tag": "school"}),
    ]
    assert [(k, d, a) for k, d, a in _timeline(hub, marie)] == [
        (ActivityKind.TAGGED, {"tag": "veg box"}, support.id),
        (ActivityKind.TAGGED, {"tag": "winter"}, support.id),
    ]
    (audit,) = _audit(hub, "customers.tags_change")
    assert audit.params == {"count": 3, "added": "veg box, winter", "removed": "school"}
    assert audit.actor == support

    # A list of records works as well as a query; the owner takes the tags off again.
    assert tags_change(hub=hub, customers=[marie, hugo], add=[], remove=["winter"], actor=owner) == 2
    assert len(_audit(hub, "customers.tags_change")) == 2


def test_re_adding_a_tag_someone_has_changes_nothing_and_writes_no_row(hub, support, marie):
    tags_change(hub=hub, customers=[marie], add=["veg box"], remove=[], actor=support)
    rows, audits = len(_timeline(hub, marie)), len(_audit(hub, "customers.tags_change"))
    assert tags_change(hub=hub, customers=[marie], add=["veg box"], remove=["never had"], actor=support) == 0
    assert len(_timeline(hub, marie)) == rows and len(_audit(hub, "customers.tags_change")) == audits
    assert [t.name for t in marie.tags.all()] == ["veg box"]


def test_tags_change_refuses_nothing_to_do_or_a_tag_both_added_and_removed(hub, support, marie):
    for add, remove in (([], ["  "]), (["veg"], ["veg"])):
        with pytest.raises(DomainError) as refused:
            tags_change(hub=hub, customers=[marie], add=add, remove=remove, actor=support)
        assert refused.value.code == "validation_error"
    assert not marie.tags.exists() and _timeline(hub, marie) == []


def test_tags_change_reaches_only_the_hubs_own_people(hub, other_hub, support, marie):
    theirs = customer_create(hub=other_hub, email="theirs@example.org")
    assert tags_change(hub=hub, customers=[marie, theirs], add=["veg"], remove=[], actor=support) == 1
    assert not theirs.tags.exists()

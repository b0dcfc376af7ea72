"""The CRM over the API as an integrating program sees it: people filtered as on the list page or
by a saved segment, paged by cursor; segments with live counts; notes and tags on a person, written
as the crew member who made the token; scopes, the maker's role, and another hub's ids."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from hubtab.accounts.services import CreditAction
from hubtab.api.models import IdempotencyRecord
from hubtab.api.services import token_create
from hubtab.core.models import AuditEvent, Role
from hubtab.core.services import membership_grant, user_create
from hubtab.crm.activity import activity_record
from hubtab.crm.consent import consent_set
from hubtab.crm.filters import Condition, PeopleFilter
from hubtab.crm.models import Activity, ActivityKind, Customer, Note
from hubtab.crm.people import people_matching, people_sorted
from hubtab.crm.segments import segment_save
from hubtab.crm.services import customer_archive, customer_create, customer_credit_apply

pytestmark = pytest.mark.django_db

EVERY_SCOPE = ["customers:read", "customers:write", "accounts:read", "accounts:write", "crm:read", "crm:write"]


class Api:
    def __init__(self, client, secret):
        self.client, self.secret, self.n = client, secret, 0

    def get(self, path, **params):
        return self.client.get("/api/v1" + path, params, headers={"Authorization": f"Bearer {self.secret}"})

    def post(self, path, body, key=None):
        self.n += 1
        headers = {"Authorization": f"Bearer {self.secret}", "Idempotency-Key": key or f"crm-{self.n}"}
        return self.client.post("/api/v1" + path, json.dumps(body), content_type="application/json", headers=headers)


def _crew(hub, role, email, first_name):
    user = user_create(email=email, password="pw-long-enough", email_verified=True, first_name=first_name)
    membership_grant(hub=hub, user=user, role=role)
    return user


@pytest.fixture
def owner(hub):
    return _crew(hub, Role.OWNER, "owner@example.org", "Olivia")


def _api(client, hub, scopes, maker):
    return Api(client, token_create(hub=hub, name="CRM sync", scopes=scopes, created_by=maker)[1])


@pytest.fixture
def api(client, hub, owner):
    return _api(client, hub, EVERY_SCOPE, owner)


def _bought(customer, *, weeks_ago, amount_minor, n=1):
    for i in range(n):
        activity_record(
            customer=customer, kind=ActivityKind.ORDER_COMPLETED, key=f"test:{customer.id}:{weeks_ago}:{i}",
            occurred_at=timezone.now() - timedelta(weeks=weeks_ago, hours=i), amount_minor=amount_minor, unit="EUR",
        )  # fmt: skip


@pytest.fixture
def people(hub):
    """Marie: a regular with credit and consent (veg box, 3 orders of 30 € last week); Hugo: lapsed
    (veg box and eggs, one order 20 weeks ago); Léa: a lead (eggs); Zoé: archived."""
    marie = customer_create(hub=hub, email="marie@example.org", first_name="Marie", last_name="Curie",
                            phone="0616123456", tags=["veg box"])  # fmt: skip
    hugo = customer_create(hub=hub, email="hugo@example.org", first_name="Hugo", tags=["veg box", "eggs"])
    lea = customer_create(hub=hub, email="lea@example.org", first_name="Léa", tags=["eggs"], source="registered")
    zoe = customer_create(hub=hub, email="zoe@example.org", first_name="Zoé", tags=["veg box"])
    _bought(marie, weeks_ago=1, amount_minor=3000, n=3)
    _bought(hugo, weeks_ago=20, amount_minor=2000)
    _bought(zoe, weeks_ago=2, amount_minor=1000)
    customer_credit_apply(hub=hub, actor=None, customer=marie, action=CreditAction.ADD_PAID, amount_minor=2500,
                          comment="Top-up", key="test-top-up")  # fmt: skip
    consent_set(hub=hub, customer=marie, given=True, source="crew")
    customer_archive(hub=hub, customer=zoe)
    return {"marie": marie, "hugo": hugo, "lea": lea, "zoe": zoe}


def _names(response):
    assert response.status_code == 200, response.content
    return [item["first_name"] for item in response.json()["items"]]


def _conditions(*rows):
    return json.dumps([dict(zip(("kind", "value", "join"), row, strict=False)) for row in rows])


# --- people -------------------------------------------------------------------------------------------


def test_people_are_filtered_as_on_the_list_page_and_show_their_figures(api, hub, people):
    assert _names(api.get("/people")) == ["Hugo", "Léa", "Marie"]  # by name; the archived left out
    veg = api.get("/people", conditions=_conditions(("tags_any", "veg box")))
    assert _names(veg) == ["Hugo", "Marie"] and veg.json()["count"] == 2
    assert _names(api.get("/people", conditions=_conditions(("tags_any", ["veg box"]), ("last_within", 8)))) == [
        "Marie"
    ]
    either = _conditions(("never_ordered", ""), ("status", "lapsed", "or"))
    assert _names(api.get("/people", conditions=either)) == ["Hugo", "Léa"]
    assert _names(api.get("/people", conditions=_conditions(("spent_min", 5000)))) == ["Marie"]  # minor units
    assert _names(api.get("/people", conditions=_conditions(("status", "archived")))) == ["Zoé"]
    assert _names(api.get("/people", q="0616 12")) == ["Marie"]  # the page's search, phone typed with spaces

    marie = api.get("/people", conditions=_conditions(("consent", "yes"))).json()
    assert (marie["unit"], marie["decimals"], marie["count"]) == ("EUR", 2, 1)
    item = marie["items"][0]
    assert item["last_purchase_at"] is not None and item["created_at"] is not None
    del item["last_purchase_at"], item["created_at"]
    assert item == {
        "id": people["marie"].id, "name": "Marie Curie", "first_name": "Marie", "last_name": "Curie",
        "email": "marie@example.org", "phone": "0616123456", "status": "customer", "source": "crew",
        "tags": ["veg box"], "order_count": 3, "total_purchases": 9000, "balance": 2500, "marketing_consent": True,
    }  # fmt: skip
    lea = api.get("/people", conditions=_conditions(("source", "registered"))).json()["items"][0]
    assert (lea["status"], lea["last_purchase_at"], lea["order_count"], lea["balance"]) == ("lead", None, 0, 0)


def test_the_api_reads_the_same_people_as_the_selector_the_page_uses(api, hub, people):
    rows = (("tags_any", "veg box,eggs"), ("orders_max", "1"), ("status", "lapsed", "or"))
    wanted = PeopleFilter(tuple(Condition(*row) for row in rows))
    expected = list(people_sorted(people_matching(hub=hub, people=wanted), hub=hub, order="-spent").values_list(
        "id", flat=True))  # fmt: skip
    got = api.get("/people", conditions=_conditions(*rows), order="-spent").json()["items"]
    assert [item["id"] for item in got] == expected and expected


def test_a_saved_segment_lists_its_people_in_its_order_and_segments_show_live_counts(api, hub, owner, people):
    regulars = segment_save(
        hub=hub, actor=owner, name="Veg regulars", people=PeopleFilter((Condition("tags_any", "veg box"),)),
        columns=["name"], order="-spent",
    )  # fmt: skip
    segment_save(hub=hub, actor=owner, name="Eggs", people=PeopleFilter((Condition("tags_any", "eggs"),)),
                 columns=[], order="")  # fmt: skip
    assert _names(api.get("/people", segment=regulars.id)) == ["Marie", "Hugo"]  # the segment's order: -spent
    assert _names(api.get("/people", segment=regulars.id, order="name")) == ["Hugo", "Marie"]
    listed = api.get("/segments").json()
    assert [(s["name"], s["count"]) for s in listed["items"]] == [("Eggs", 2), ("Veg regulars", 2)]
    assert listed["items"][1]["conditions"] == [{"kind": "tags_any", "value": "veg box", "join": "and"}]
    assert listed["next_cursor"] is None

    api.post(f"/people/{people['lea'].id}/tags", {"add": ["veg box"]})
    assert [s["count"] for s in api.get("/segments").json()["items"]] == [2, 3]  # live

    both = api.get("/people", segment=regulars.id, conditions=_conditions(("status", "lead")))
    assert both.status_code == 422 and "not both" in both.json()["error"]["message"]
    assert api.get("/people", segment=999999).status_code == 404


@pytest.mark.parametrize(
    ("conditions", "message"),
    [
        ("not json", "JSON list"),
        ('{"kind": "status"}', "JSON list"),
        ('[{"value": "customer"}]', "JSON list"),
        ('[{"kind": "status", "value": true}]', "JSON list"),
        ('[{"kind": "status", "value": "customer", "join": "xor"}]', "JSON list"),
        ('[{"kind": "made_up", "value": "x"}]', "Condition 1 (made_up): Choose a condition from the list"),
        ('[{"kind": "tags_any", "value": "eggs"}, {"kind": "status", "value": "vip"}]', "Condition 2 (status)"),
        ('[{"kind": "last_within", "value": 0}]', "between 1 and 520 weeks"),
        ('[{"kind": "last_within", "value": "1e9"}]', "whole number"),
        ('[{"kind": "last_before", "value": "31/12/2026"}]', "Choose a date"),
        ('[{"kind": "tags_any", "value": "  "}]', "Type what to look for"),
        ('[{"kind": "text", "value": "a\\u0000b"}]', "NUL"),
        (json.dumps([{"kind": "in_debt"}] * 21), "At most 20 conditions"),
    ],
)
def test_conditions_that_cannot_be_read_are_refused_with_a_clear_error(api, people, conditions, message):
    response = api.get("/people", conditions=conditions)
    assert response.status_code == 422, response.content
    error = response.json()["error"]
    assert error["code"] in ("validation_error", "invalid_filter") and message in error["message"]


def test_an_order_that_is_no_column_is_refused(api, people):
    response = api.get("/people", order="shoe_size")
    assert response.status_code == 422 and "Sort by one of" in response.json()["error"]["message"]


# --- cursor paging ------------------------------------------------------------------------------------


@pytest.fixture
def crowd(hub):
    """120 people: names and purchase totals that tie, leads with no purchase at all."""
    crowd = []
    for n in range(120):
        surname = ["Martin", "Bernard", "Petit"][n % 3]
        person = customer_create(hub=hub, email=f"p{n:03}@example.org", first_name=f"P{n % 7}", last_name=surname,
                                 tags=["t"] if n % 4 else [])  # fmt: skip
        if n % 5:
            _bought(person, weeks_ago=n % 9, amount_minor=1000 * (n % 4))
        crowd.append(person)
    return crowd


def _every_page(api, **params):
    ids, cursor, pages = [], None, 0
    while True:
        page = api.get("/people", **params, **({"cursor": cursor} if cursor else {})).json()
        ids += [item["id"] for item in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            return ids, pages


@pytest.mark.parametrize(
    "order", ["name", "-name", "spent", "-spent", "last_purchase", "-last_purchase", "orders", "tags", "-status",
              "created", "balance", "email"],
)  # fmt: skip
def test_pages_follow_each_other_without_gaps_or_repeats_in_every_order(api, hub, crowd, order):
    ids, pages = _every_page(api, order=order)
    expected = list(people_sorted(people_matching(hub=hub, people=PeopleFilter()), hub=hub, order=order).values_list(
        "id", flat=True))  # fmt: skip
    assert pages == 3 and ids == expected and len(set(ids)) == 120


def test_pages_of_a_search_follow_each_other_in_the_searchs_own_order(api, hub, crowd):
    ids, pages = _every_page(api, q="example.org")  # a search sorts its matches by name, case aside
    searched = PeopleFilter(query="example.org")
    expected = list(people_sorted(people_matching(hub=hub, people=searched), hub=hub, order="name", few=True)
                    .values_list("id", flat=True))  # fmt: skip
    assert pages == 3 and ids == expected and len(set(ids)) == 120


def test_people_added_or_removed_between_pages_move_no_one_into_a_gap_or_a_repeat(api, hub, crowd):
    first = api.get("/people", order="-spent").json()
    shown = [item["id"] for item in first["items"]]
    newcomer = customer_create(hub=hub, email="big@example.org", first_name="Big", last_name="Spender")
    _bought(newcomer, weeks_ago=1, amount_minor=99_000)  # now first: before the cursor
    customer_archive(hub=hub, customer=Customer.objects.filter(hub=hub).get(id=shown[0]))
    rest, cursor = [], first["next_cursor"]
    while cursor:
        page = api.get("/people", order="-spent", cursor=cursor).json()
        rest += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
    assert len(shown) + len(rest) == 120 and set(shown) | set(rest) == {p.id for p in crowd}


def test_a_cursor_that_was_changed_or_made_for_another_list_is_refused(api, hub, owner, crowd):
    cursor = api.get("/people", order="spent").json()["next_cursor"]
    tampered = cursor[:-3] + ("AAA" if cursor[-3:] != "AAA" else "BBB")
    for bad in (tampered, "not-ours", "x" * 900, cursor + ":"):
        response = api.get("/people", order="spent", cursor=bad)
        assert response.status_code == 422 and response.json()["error"]["code"] == "validation_error"
    assert api.get("/people", order="-spent", cursor=cursor).status_code == 422  # another order's cursor
    assert api.get("/segments", cursor=cursor).status_code == 422  # another list's cursor
    assert api.get("/people", order="spent", cursor=cursor).status_code == 200


# --- notes --------------------------------------------------------------------------------------------


def test_notes_are_written_as_the_tokens_maker_listed_pinned_first_and_in_the_timeline(api, hub, owner, people):
    marie = people["marie"]
    first = api.post(f"/people/{marie.id}/notes", {"body": "Prefers Friday delivery."})
    assert first.status_code == 201, first.content
    assert first.json()["author"] == "Olivia" and first.json()["pinned"] is False
    pinned = api.post(f"/people/{marie.id}/notes", {"body": "Allergic to nuts.", "pinned": True,
                                                    "follow_up_on": "2031-05-04"})  # fmt: skip
    assert pinned.status_code == 201 and pinned.json()["follow_up_on"] == "2031-05-04"
    listed = api.get(f"/people/{marie.id}/notes").json()
    assert [n["body"] for n in listed["items"]] == ["Allergic to nuts.", "Prefers Friday delivery."]
    assert listed["next_cursor"] is None
    line = Activity.objects.filter(hub=hub).get(customer=marie, kind=ActivityKind.NOTE_ADDED, ref_id=first.json()["id"])
    assert line.actor == owner and line.data["excerpt"] == "Prefers Friday delivery."
    assert AuditEvent.objects.filter(hub=hub, action="note.add", actor=owner).count() == 2


def test_a_retried_note_is_written_once_and_a_bad_one_changes_nothing(api, hub, people):
    path = f"/people/{people['marie'].id}/notes"
    first = api.post(path, {"body": "Called about the box."}, key="note-1")
    again = api.post(path, {"body": "Called about the box."}, key="note-1")
    assert first.status_code == again.status_code == 201 and again.json() == first.json()
    other = api.post(path, {"body": "Something else."}, key="note-1")
    assert other.status_code == 409 and other.json()["error"]["code"] == "idempotency_conflict"
    for bad in ({"body": ""}, {"body": "x" * 5001}, {"body": "ok", "follow_up_on": "next week"}, {}):
        assert api.post(path, bad).status_code == 422
    assert api.post(path, {"body": "   "}).json()["error"]["message"] == "Write something in the note."
    assert Note.objects.filter(hub=hub).count() == 1


def test_notes_page_by_cursor(api, hub, owner, people):
    from hubtab.crm.notes import note_add

    for n in range(53):
        note_add(hub=hub, customer=people["hugo"], author=owner, body=f"Note {n}", pinned=n == 7)
    first = api.get(f"/people/{people['hugo'].id}/notes").json()
    second = api.get(f"/people/{people['hugo'].id}/notes", cursor=first["next_cursor"]).json()
    bodies = [n["body"] for n in first["items"] + second["items"]]
    assert bodies[0] == "Note 7" and len(bodies) == len(set(bodies)) == 53 and second["next_cursor"] is None


# --- tags ---------------------------------------------------------------------------------------------


def test_tags_are_added_and_removed_and_each_change_is_in_the_timeline(api, hub, owner, people):
    hugo = people["hugo"]
    added = api.post(f"/people/{hugo.id}/tags", {"add": ["weekly", "veg box"], "remove": ["eggs"]})
    assert added.status_code == 200, added.content
    assert added.json()["tags"] == ["veg box", "weekly"] and added.json()["id"] == hugo.id
    lines = Activity.objects.filter(hub=hub, customer=hugo, actor=owner)
    assert sorted((a.kind, a.data["tag"]) for a in lines) == [
        ("tagged", "weekly"),
        ("untagged", "eggs"),
    ]  # no "veg box"
    removed = api.post(f"/people/{hugo.id}/tags", {"remove": ["weekly"]})
    assert removed.json()["tags"] == ["veg box"]
    assert AuditEvent.objects.filter(hub=hub, action="customers.tags_change", actor=owner).count() == 2


def test_a_bad_tag_change_is_refused_and_changes_nothing(api, hub, people):
    hugo = people["hugo"]
    for body, message in (
        ({"add": ["eggs"], "remove": ["eggs"]}, "can't be added and removed at once"),
        ({}, "Name at least one tag"),
        ({"add": ["a,b"]}, ""),
        ({"add": ["x" * 41]}, ""),
        ({"add": "eggs"}, ""),
    ):
        response = api.post(f"/people/{hugo.id}/tags", body)
        assert response.status_code == 422 and message in response.json()["error"]["message"]
    assert sorted(hugo.tags.values_list("name", flat=True)) == ["eggs", "veg box"]
    assert not Activity.objects.filter(hub=hub, customer=hugo, kind=ActivityKind.TAGGED).exclude(
        data__tag__in=["eggs", "veg box"]).exists()  # fmt: skip


def test_a_retried_tag_change_is_applied_once(api, hub, people):
    path = f"/people/{people['lea'].id}/tags"
    first = api.post(path, {"add": ["weekly"]}, key="tag-1")
    again = api.post(path, {"add": ["weekly"]}, key="tag-1")
    assert first.status_code == again.status_code == 200 and again.json() == first.json()
    assert Activity.objects.filter(hub=hub, kind=ActivityKind.TAGGED, data__tag="weekly").count() == 1


# --- who may --------------------------------------------------------------------------------------------


def test_a_token_without_the_crm_scopes_is_refused(client, hub, owner, people):
    shop = _api(client, hub, ["customers:read", "customers:write", "accounts:read", "accounts:write"], owner)
    marie = people["marie"].id
    for response in (shop.get("/people"), shop.get("/segments"), shop.get(f"/people/{marie}/notes"),
                     shop.post(f"/people/{marie}/notes", {"body": "x"}),
                     shop.post(f"/people/{marie}/tags", {"add": ["x"]})):  # fmt: skip
        assert response.status_code == 403 and response.json()["error"]["code"] == "forbidden"
    reader = _api(client, hub, ["crm:read"], owner)
    assert reader.get(f"/people/{marie}/notes").status_code == 200
    refused = reader.post(f"/people/{marie}/notes", {"body": "x"}, key="shared-key")
    assert refused.status_code == 403 and "crm:write" in refused.json()["error"]["message"]
    assert not IdempotencyRecord.objects.filter(hub=hub, key="shared-key").exists()  # the key is not used up
    writer = _api(client, hub, ["crm:write"], owner)
    assert writer.post(f"/people/{marie}/notes", {"body": "x"}, key="shared-key").status_code == 201
    assert Note.objects.filter(hub=hub).count() == 1 and not people["marie"].tags.filter(name="x").exists()


def test_balances_need_the_accounts_scope_too(client, hub, owner, people):
    reader = _api(client, hub, ["crm:read"], owner)
    items = reader.get("/people").json()["items"]
    assert {item["balance"] for item in items} == {None} and len(items) == 3
    for params in ({"conditions": _conditions(("running_low", ""))}, {"conditions": _conditions(("balance_min", 1))},
                   {"order": "-balance"}):  # fmt: skip
        response = reader.get("/people", **params)
        assert response.status_code == 403 and "accounts:read" in response.json()["error"]["message"]
    low = segment_save(hub=hub, actor=owner, name="Low", people=PeopleFilter((Condition("in_debt"),)), columns=[],
                       order="")  # fmt: skip
    assert reader.get("/people", segment=low.id).status_code == 403
    assert reader.get("/segments").json()["items"][0]["count"] == 0  # a count, not whose balance


@pytest.mark.parametrize(("role", "allowed"), [(Role.FINANCE, False), (Role.SUPPORT, True), (None, False)])
def test_writes_are_made_as_the_tokens_maker_who_must_be_crew_that_edit_customers(client, hub, people, role, allowed):
    """Support looks after people (notes and tags); finance does not; a token no one made (the
    command line's) has nobody to record as the author."""
    maker = _crew(hub, role, f"{role}@example.org", "Sam") if role else None
    token = _api(client, hub, EVERY_SCOPE, maker)
    marie = people["marie"].id
    note = token.post(f"/people/{marie}/notes", {"body": "Hello"})
    tags = token.post(f"/people/{marie}/tags", {"add": ["weekly"]})
    assert (note.status_code, tags.status_code) == ((201, 200) if allowed else (403, 403))
    assert Note.objects.filter(hub=hub).count() == (1 if allowed else 0)
    assert token.get("/people").status_code == 200  # reading needs no maker


def test_another_hubs_people_and_segments_are_not_found(api, hub, other_hub, owner, people):
    theirs = customer_create(hub=other_hub, email="theirs@example.org", first_name="Theirs", tags=["veg box"])
    their_owner = _crew(other_hub, Role.OWNER, "them@example.org", "Them")
    segment = segment_save(hub=other_hub, actor=their_owner, name="Theirs",
                           people=PeopleFilter((Condition("tags_any", "veg box"),)), columns=[], order="")  # fmt: skip
    assert "Theirs" not in _names(api.get("/people", conditions=_conditions(("tags_any", "veg box"))))
    assert api.get("/people", segment=segment.id).status_code == 404
    assert api.get("/segments").json()["items"] == []
    for response in (api.get(f"/people/{theirs.id}/notes"), api.post(f"/people/{theirs.id}/notes", {"body": "x"}),
                     api.post(f"/people/{theirs.id}/tags", {"add": ["x"]})):  # fmt: skip
        assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
    assert not Note.objects.across_hubs().exists()
    assert list(theirs.tags.values_list("name", flat=True)) == ["veg box"]


def test_the_openapi_document_describes_the_crm_endpoints(client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    for path in ("/api/v1/people", "/api/v1/segments", "/api/v1/people/{person_id}/notes",
                 "/api/v1/people/{person_id}/tags"):  # fmt: skip
        assert path in paths

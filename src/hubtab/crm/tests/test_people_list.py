"""The people list as crew use it: conditions in the address (AND, and OR groups), saved segments
with live counts, the selection and what is done with it (tags, status, copied emails), each
checked against another hub's ids and the roles that may or may not act."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from hubtab.core.models import AuditEvent, Role
from hubtab.core.services import membership_grant, user_create
from hubtab.crm.activity import activity_record
from hubtab.crm.filters import Condition, PeopleFilter
from hubtab.crm.models import Activity, ActivityKind, Customer, Segment
from hubtab.crm.people import people_matching
from hubtab.crm.segments import segment_save
from hubtab.crm.services import customer_archive, customer_create

pytestmark = pytest.mark.django_db


def _client(client, hub, role, email):
    user = user_create(email=email, password="pw-long-enough", email_verified=True)
    membership_grant(hub=hub, user=user, role=role)
    client.force_login(user)
    return client, user


@pytest.fixture
def support(client, hub):
    return _client(client, hub, Role.SUPPORT, "support@example.org")


@pytest.fixture
def finance(client, hub):
    return _client(client, hub, Role.FINANCE, "finance@example.org")


def _bought(customer, *, weeks_ago, amount_minor, n=1):
    for i in range(n):
        activity_record(
            customer=customer, kind=ActivityKind.ORDER_COMPLETED, key=f"test:{customer.id}:{weeks_ago}:{i}",
            occurred_at=timezone.now() - timedelta(weeks=weeks_ago, hours=i), amount_minor=amount_minor, unit="EUR",
        )  # fmt: skip


@pytest.fixture
def people(hub):
    """Marie: a regular (veg box, bought last week, 3 orders of 30 €); Hugo: lapsed (veg box and
    eggs, one order 20 weeks ago); Léa: a lead (eggs); Zoé: archived regular."""
    marie = customer_create(hub=hub, email="marie@example.org", first_name="Marie", tags=["veg box"])
    hugo = customer_create(hub=hub, email="hugo@example.org", first_name="Hugo", tags=["veg box", "eggs"])
    lea = customer_create(hub=hub, email="lea@example.org", first_name="Léa", tags=["eggs"])
    zoe = customer_create(hub=hub, email="zoe@example.org", first_name="Zoé", tags=["veg box"])
    _bought(marie, weeks_ago=1, amount_minor=3000, n=3)
    _bought(hugo, weeks_ago=20, amount_minor=2000)
    _bought(zoe, weeks_ago=2, amount_minor=1000)
    customer_archive(hub=hub, customer=zoe)
    return {"marie": marie, "hugo": hugo, "lea": lea, "zoe": zoe}


def _names(client, hub, params):
    page = client.get(reverse("customer_index", args=[hub.slug]), params).content.decode()
    return {name for name in ("Marie", "Hugo", "Léa", "Zoé") if f">{name}" in page}, page


def test_conditions_in_the_address_are_anded_and_or_joins_make_a_group(support, hub, people):
    client, _ = support
    assert _names(client, hub, {"c": "tags_any", "v": "veg box"})[0] == {"Marie", "Hugo"}  # the archived left out
    both = {"c": ["tags_any", "last_within"], "v": ["veg box", "8"], "j": ["and", "and"]}
    assert _names(client, hub, both)[0] == {"Marie"}
    either = {"c": ["never_ordered", "status"], "v": ["", "lapsed"], "j": ["and", "or"]}
    assert _names(client, hub, either)[0] == {"Léa", "Hugo"}
    money = {"c": ["spent_min", "orders_min"], "v": ["50", "2"], "j": ["and", "and"]}
    assert _names(client, hub, money)[0] == {"Marie"}
    assert _names(client, hub, {"c": "status", "v": "archived"})[0] == {"Zoé"}


@pytest.mark.parametrize(
    ("kind", "typed", "message"),
    [
        ("last_within", "1e9", "Type a whole number"),
        ("last_within", "0", "between 1 and 520 weeks"),
        ("spent_min", "1,500.00.00", ""),
        ("status", "vip", "Choose a status"),
        ("last_before", "31/12/2026", "Choose a date"),
        ("made_up", "x", "Choose a condition from the list"),
    ],
)
def test_a_condition_that_cannot_be_read_says_why_and_the_rest_still_apply(support, hub, people, kind, typed, message):
    client, _ = support
    shown, page = _names(client, hub, {"c": ["tags_any", kind], "v": ["eggs", typed], "j": ["and", "and"]})
    assert shown == {"Hugo", "Léa"}  # the readable condition still filters; the other is shown with its error
    assert 'class="error"' in page or "field-error" in page
    assert message in page


def test_a_filter_in_the_address_can_be_bookmarked_and_comes_back_as_typed(support, hub, people):
    client, _ = support
    page = _names(client, hub, {"c": "spent_min", "v": "50", "q": "mar"})[1]
    assert 'value="50"' in page and 'value="mar"' in page  # the form shows the filter back
    assert "c=spent_min" in page  # sorting and paging links keep it


def test_a_saved_segment_shows_its_live_count_and_reads_in_words(support, hub, people):
    client, _ = support
    response = client.post(
        reverse("customer_segment_save", args=[hub.slug]),
        {"name": "Veg regulars", "c": ["tags_any", "spent_min"], "v": ["veg box", "50"], "j": ["and", "and"]},
    )
    segment = Segment.objects.get(hub=hub, name="Veg regulars")
    assert response.status_code == 302 and response["Location"].endswith(f"?segment={segment.id}")
    assert AuditEvent.objects.filter(hub=hub, action="segment.save").count() == 1
    assert _names(client, hub, {"segment": segment.id})[0] == {"Marie"}
    _bought(people["hugo"], weeks_ago=0, amount_minor=4000)  # Hugo now has spent 60 €: the count is live
    page = client.get(reverse("customer_segments", args=[hub.slug])).content.decode()
    assert "Veg regulars" in page and ">2<" in page.replace(" ", "")
    assert "total purchases at least €50.00" in page and "5000" not in page


def test_a_segment_name_is_unique_and_an_empty_filter_is_not_a_segment(support, hub, people):
    client, _ = support
    url = reverse("customer_segment_save", args=[hub.slug])
    client.post(url, {"name": "Eggs", "c": "tags_any", "v": "eggs"})
    client.post(url, {"name": " Eggs ", "c": "tags_any", "v": "veg box"})
    client.post(url, {"name": "Nothing"})
    assert list(Segment.objects.filter(hub=hub).values_list("name", "conditions")) == [
        ("Eggs", {"q": "", "conditions": [["tags_any", "eggs", "and"]]})
    ]


def test_another_hubs_segment_is_never_applied_nor_deleted(support, hub, other_hub, people):
    owner = user_create(email="owner@other.example.org", password="pw-long-enough", email_verified=True)
    theirs = segment_save(
        hub=other_hub, actor=owner, name="Theirs", people=PeopleFilter((Condition("never_ordered"),)),
        columns=[], order="",
    )  # fmt: skip
    client, _ = support
    shown, _page = _names(client, hub, {"segment": theirs.id})
    assert shown == {"Marie", "Hugo", "Léa"}  # an unknown segment is no filter at all here
    response = client.post(reverse("customer_segment_delete", args=[hub.slug, theirs.id]))
    assert response.status_code == 404 and Segment.objects.across_hubs().filter(id=theirs.id).exists()


def test_tagging_all_matching_reaches_beyond_the_page_is_audited_and_in_each_timeline(support, hub, people):
    client, _ = support
    for i in range(60):  # more than a page of leads
        customer_create(hub=hub, email=f"lead{i}@example.org", first_name=f"Lead{i}")
    response = client.post(
        reverse("customers_bulk", args=[hub.slug]),
        {"action": "tag", "tags": "spring market", "all": "1", "c": "never_ordered", "v": "", "j": "and"},
    )
    assert response.status_code == 302
    tagged = Customer.objects.filter(hub=hub, tags__name="spring market")
    assert tagged.count() == 61 and not tagged.filter(id__in=[people["marie"].id, people["hugo"].id]).exists()
    tagged_lines = Activity.objects.filter(hub=hub, kind=ActivityKind.TAGGED, customer=people["lea"])
    assert [line.data["tag"] for line in tagged_lines.order_by("id")] == ["eggs", "spring market"]
    assert AuditEvent.objects.filter(hub=hub, action__startswith="customers.tags").count() == 1


def test_ticked_ids_outside_the_filter_or_the_hub_are_left_alone(support, hub, other_hub, people):
    client, _ = support
    stranger = customer_create(hub=other_hub, email="stranger@example.org", first_name="Stranger")
    client.post(
        reverse("customers_bulk", args=[hub.slug]),
        {"action": "tag", "tags": "picked", "p": [people["lea"].id, people["marie"].id, stranger.id],
         "c": "tags_any", "v": "eggs", "j": "and"},
    )  # fmt: skip
    assert list(Customer.objects.across_hubs().filter(tags__name="picked")) == [people["lea"]]


def test_archiving_a_selection_and_restoring_it(support, hub, people):
    client, _ = support
    url = reverse("customers_bulk", args=[hub.slug])
    client.post(url, {"action": "archive", "p": [people["lea"].id, people["hugo"].id]})
    assert set(Customer.objects.filter(hub=hub, archived_at__isnull=False).values_list("first_name", flat=True)) == {
        "Léa", "Hugo", "Zoé",
    }  # fmt: skip
    client.post(url, {"action": "restore", "p": [people["lea"].id], "c": "status", "v": "archived", "j": "and"})
    assert Customer.objects.get(hub=hub, id=people["lea"].id).archived_at is None
    assert Activity.objects.filter(customer=people["lea"], kind=ActivityKind.CUSTOMER_RESTORED).count() == 1


def test_an_unknown_action_or_no_tags_change_nothing_and_say_why(support, hub, people):
    client, _ = support
    url = reverse("customers_bulk", args=[hub.slug])
    page = client.post(url, {"action": "tag", "tags": " , ", "all": "1"}, follow=True).content.decode()
    assert "Type the tags" in page
    page = client.post(url, {"action": "explode", "all": "1"}, follow=True).content.decode()
    assert "Choose what to do" in page
    page = client.post(url, {"action": "tag", "tags": "x"}, follow=True).content.decode()
    assert "Select at least one person" in page
    assert not Customer.objects.filter(hub=hub, tags__name="x").exists()


def test_finance_sees_the_list_but_cannot_change_people_in_bulk(finance, hub, people):
    client, _ = finance
    assert client.get(reverse("customer_index", args=[hub.slug])).status_code == 200
    response = client.post(reverse("customers_bulk", args=[hub.slug]), {"action": "tag", "tags": "x", "all": "1"})
    assert response.status_code == 403 and not Customer.objects.filter(hub=hub, tags__name="x").exists()


def test_copied_emails_are_the_selection_with_the_chosen_separator_and_a_count(support, hub, people):
    client, _ = support
    url = reverse("customers_emails", args=[hub.slug])
    everyone = {"marketing_only": "0"}  # nobody here agreed to marketing: crew copy for service messages
    response = client.get(url, {"format": "text", "c": "tags_any", "v": "veg box", "j": "and", **everyone})
    assert response["X-Count"] == "2" and set(response.content.decode().split(", ")) == {
        "marie@example.org", "hugo@example.org",
    }  # fmt: skip
    response = client.post(
        url, {"format": "text", "sep": "newline", "p": [people["lea"].id, people["marie"].id], **everyone}
    )
    assert sorted(response.content.decode().split("\n")) == ["lea@example.org", "marie@example.org"]
    page = client.get(url, {"c": "never_ordered", **everyone}).content.decode()  # when the clipboard is not there
    assert "lea@example.org" in page and "<textarea" in page
    assert AuditEvent.objects.filter(hub=hub, action="customers.copy_emails").count() == 3


def test_the_weakest_roles_and_strangers_see_no_list(client, hub, other_hub, people):
    customer = user_create(email="lea@example.org", password="pw-long-enough", email_verified=True)
    membership_grant(hub=hub, user=customer, role=Role.CUSTOMER)
    client.force_login(customer)
    for name in ("customer_index", "customers_emails", "customer_segments"):
        assert client.get(reverse(name, args=[hub.slug])).status_code in (403, 404)
    outsider = user_create(email="out@example.org", password="pw-long-enough", email_verified=True)
    membership_grant(hub=other_hub, user=outsider, role=Role.OWNER)
    client.force_login(outsider)
    assert client.get(reverse("customers_emails", args=[hub.slug]), {"format": "text"}).status_code in (403, 404)


def test_the_selector_leaves_the_archived_out_unless_a_status_asks_for_them(hub, people):
    everyone = people_matching(hub=hub, people=PeopleFilter())
    assert set(everyone.values_list("first_name", flat=True)) == {"Marie", "Hugo", "Léa"}
    lapsed = people_matching(hub=hub, people=PeopleFilter((Condition("status", "lapsed"),)))
    assert list(lapsed) == [people["hugo"]]


def test_finance_credits_the_selection_once_and_only_the_people_shown(finance, hub, other_hub, people):
    import uuid

    from hubtab.ledger.selectors import account_state

    client, _ = finance
    url = reverse("customers_credit_many", args=[hub.slug])
    stranger = customer_create(hub=other_hub, email="stranger@example.org", first_name="Stranger")
    selection = {"p": [people["lea"].id, people["hugo"].id, people["zoe"].id, stranger.id], "back": "c=eggs"}
    arrived = client.post(url, {**selection, "from_list": "1"})  # the list's "Credit…" button
    page = arrived.content.decode()
    assert arrived.status_code == 200 and "The 2 people selected on the list" in page and "errorlist" not in page
    form = {**selection, "selection": "1", "action": "add_granted", "amount": "4", "comment": "Late eggs",
            "key": str(uuid.uuid4())}  # fmt: skip
    checked = client.post(url, form)
    assert "2 customers get €4.00 each: €8.00 in all." in checked.content.decode()
    confirm = checked.context["preview"]["confirm"]
    customer_create(hub=hub, email="new@example.org", first_name="New")  # not selected: changes nothing
    for _ in range(2):  # a double click posts once
        response = client.post(url, {**form, "confirm": confirm})
        assert response.status_code == 302 and response["Location"].endswith("?c=eggs")

    def balance(person):
        return account_state(hub_id=person.hub_id, account_id=person.account_id).balance_minor

    assert [balance(people[n]) for n in ("lea", "hugo", "zoe", "marie")] == [400, 400, 0, 0]
    assert balance(stranger) == 0
    assert Activity.objects.filter(hub=hub, kind=ActivityKind.CREDIT_ADDED).count() == 2


def test_support_crew_see_no_credit_button_and_cannot_credit_a_selection(support, hub, people):
    client, _ = support
    assert "Credit…" not in client.get(reverse("customer_index", args=[hub.slug])).content.decode()
    response = client.post(
        reverse("customers_credit_many", args=[hub.slug]), {"p": [people["lea"].id], "from_list": "1"}
    )
    assert response.status_code == 403

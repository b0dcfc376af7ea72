"""The billing pages as finance crew and the owner use them (Django's test client, a real database):
the customers in debt, previewing and billing a selection, moving and cancelling scheduled
payments (one at a time and many at once), the CSV export, the settings form, and who may see
what: support, customers and other hubs' crew may not."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import pytest
from django.urls import reverse

from hubtab.billing.billing_settings import billing_settings_of, billing_settings_update
from hubtab.billing.models import ScheduledPayment, ScheduledPaymentStatus
from hubtab.billing.scheduling import debt_bill, earliest_charge_day
from hubtab.billing.tests.crew import Crew
from hubtab.core.models import AuditEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def crew(hub, other_hub):
    return Crew(hub, other_hub)


def _payments(crew):
    return ScheduledPayment.objects.filter(hub=crew.hub)


def _url(hub, name, **kwargs):
    return reverse(name, kwargs={"slug": hub.slug, **kwargs})


def _login(client, crew, who="finance"):
    client.force_login(crew.people[who])
    return client


def _messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


def _bill(crew, *people):
    return debt_bill(hub=crew.hub, actor=crew.owner, customer_ids=[p.id for p in people])


def test_the_billing_list_shows_who_owes_and_how_much_and_nobody_else(client, crew):
    marie = crew.debtor("Marie", 1550)
    crew.debtor("Paul", 0)
    crew.debtor("Lea", 420)
    page = _login(client, crew).get(_url(crew.hub, "billing_customers")).content.decode()
    assert "Marie Test" in page and "€15.50" in page
    assert "Lea Test" in page and "€4.20" in page
    assert "Paul Test" not in page
    assert page.index("Marie Test") < page.index("Lea Test")  # who owes most first
    crew.card(marie)
    _bill(crew, marie)
    page = client.get(_url(crew.hub, "billing_customers")).content.decode()
    day = earliest_charge_day(hub=crew.hub)
    assert f"{day.day} {day:%b %Y}" in page  # her payment's day, beside her name
    assert "Visa ···· 4242" in page


def test_crew_filter_the_list_by_tag_and_amount_owed_and_typing_mistakes_are_said(client, crew):
    crew.debtor("Marie", 1550, tags=("veg box",))
    crew.debtor("Paul", 800, tags=("veg box",))
    crew.debtor("Lea", 3000)
    client = _login(client, crew)
    page = client.get(_url(crew.hub, "billing_customers"), {"tag": "veg box", "owed_min": "10"}).content.decode()
    assert "Marie Test" in page and "Paul Test" not in page and "Lea Test" not in page
    page = client.get(_url(crew.hub, "billing_customers"), {"owed_max": "abc"}).content.decode()
    assert "Type an amount like" in page


def test_a_preview_then_bill_customers_schedules_one_payment_each_and_says_who_was_left_out(client, crew):
    marie = crew.debtor("Marie", 1550)
    crew.card(marie)
    paul = crew.debtor("Paul", 20)  # less than the smallest charge
    client = _login(client, crew)
    preview = client.post(_url(crew.hub, "billing_preview"), {"p": [marie.id, paul.id]})
    page = preview.content.decode()
    assert preview.status_code == 200
    assert "1 customer will be charged €15.50 in all." in page
    assert "Owes less than the smallest charge" in page
    earliest = earliest_charge_day(hub=crew.hub)
    assert f'min="{earliest:%Y-%m-%d}"' in page and f'value="{earliest:%Y-%m-%d}"' in page
    assert not _payments(crew).exists()  # a preview changes nothing

    last_year = earliest.replace(year=earliest.year - 1).isoformat()
    too_early = client.post(_url(crew.hub, "billing_preview"), {"p": [marie.id], "run_on": last_year})
    assert "Customers must be told first" in too_early.content.decode()

    billed = client.post(_url(crew.hub, "billing_bill"), {"p": [marie.id, paul.id], "run_on": earliest.isoformat()},
                         follow=True)  # fmt: skip
    said = " ".join(_messages(billed))
    assert "1 payment scheduled" in said and "1 customer not billed" in said and "Paul Test" in said
    assert _payments(crew).get().customer == marie
    again = client.post(_url(crew.hub, "billing_bill"), {"p": [marie.id], "run_on": earliest.isoformat()}, follow=True)
    assert "1 already scheduled as it is" in " ".join(_messages(again))
    assert _payments(crew).count() == 1


def test_all_that_match_bills_everyone_the_filter_lets_in_beyond_the_page(client, crew):
    people = [crew.debtor(f"Person{n}", 100 + n, tags=("box",)) for n in range(55)]
    crew.debtor("Other", 900)
    client = _login(client, crew)
    day = earliest_charge_day(hub=crew.hub).isoformat()
    response = client.post(_url(crew.hub, "billing_bill"), {"all": "1", "tag": "box", "run_on": day}, follow=True)
    assert "55 payments scheduled" in " ".join(_messages(response))
    assert set(_payments(crew).values_list("customer_id", flat=True)) == {p.id for p in people}


def test_with_debt_billing_off_the_page_says_so_and_links_to_the_settings(client, crew):
    crew.debtor("Marie", 1550)
    billing_settings_update(hub=crew.hub, actor=crew.owner, debt_billing=False)
    page = _login(client, crew).get(_url(crew.hub, "billing_customers")).content.decode()
    assert "Debt-based billing is off at this hub" in page
    assert _url(crew.hub, "billing_settings") in page
    assert "Preview billing" not in page


def test_crew_move_a_payment_and_cancel_one_with_a_reason(client, crew):
    marie, paul = crew.debtor("Marie", 1550), crew.debtor("Paul", 900)
    _bill(crew, marie, paul)
    first, second = _payments(crew).order_by("id")
    later = earliest_charge_day(hub=crew.hub).toordinal() + 3
    client = _login(client, crew)
    moved = client.post(_url(crew.hub, "scheduled_date_change", scheduled_id=first.id),
                        {"run_on": date.fromordinal(later).isoformat()}, follow=True)  # fmt: skip
    assert "the customer is told" in " ".join(_messages(moved))
    first.refresh_from_db()
    assert first.run_on == date.fromordinal(later)

    past = client.post(_url(crew.hub, "scheduled_date_change", scheduled_id=first.id), {"run_on": "2020-01-01"},
                       follow=True)  # fmt: skip
    assert "Customers must be told first" in " ".join(_messages(past))

    no_reason = client.post(_url(crew.hub, "scheduled_cancel", scheduled_id=second.id), {"reason": " "}, follow=True)
    assert "Say why the payment is cancelled." in " ".join(_messages(no_reason))
    second.refresh_from_db()
    assert second.status == ScheduledPaymentStatus.SCHEDULED
    client.post(_url(crew.hub, "scheduled_cancel", scheduled_id=second.id), {"reason": "Paid at the market"})
    second.refresh_from_db()
    assert (second.status, second.outcome) == (ScheduledPaymentStatus.CANCELLED, "Paid at the market")


def test_a_payment_being_charged_can_be_neither_moved_nor_cancelled(client, crew):
    marie = crew.debtor("Marie", 1550)
    _bill(crew, marie)
    payment = _payments(crew).get()
    _payments(crew).filter(id=payment.id).update(status=ScheduledPaymentStatus.PROCESSING)
    client = _login(client, crew)
    later = (payment.run_on + timedelta(days=5)).isoformat()
    for name, data in (("scheduled_date_change", {"run_on": later}), ("scheduled_cancel", {"reason": "x"})):
        response = client.post(_url(crew.hub, name, scheduled_id=payment.id), data, follow=True)
        assert "being charged right now" in " ".join(_messages(response))
    moved = _payments(crew).get()
    assert (moved.status, moved.run_on) == (ScheduledPaymentStatus.PROCESSING, payment.run_on)


def test_many_at_once_changes_those_it_can_and_names_those_it_cannot(client, crew):
    people = [crew.debtor(name, 1000) for name in ("Marie", "Paul", "Lea")]
    _bill(crew, *people)
    rows = list(_payments(crew).order_by("id"))
    _payments(crew).filter(id=rows[1].id).update(status=ScheduledPaymentStatus.PROCESSING)
    client = _login(client, crew)
    asked = {"p": [r.id for r in rows], "action": "cancel", "reason": "Moved away"}
    response = client.post(_url(crew.hub, "scheduled_bulk"), asked, follow=True)
    said = " ".join(_messages(response))
    assert "2 payments cancelled." in said
    assert "1 payment not changed" in said and "Paul Test" in said and "being charged right now" in said
    statuses = [r.status for r in _payments(crew).order_by("id")]
    assert statuses == [ScheduledPaymentStatus.CANCELLED, ScheduledPaymentStatus.PROCESSING,
                        ScheduledPaymentStatus.CANCELLED]  # fmt: skip
    no_reason = client.post(_url(crew.hub, "scheduled_bulk"), {"p": [rows[1].id], "action": "cancel"}, follow=True)
    assert "Say why the payment is cancelled." in " ".join(_messages(no_reason))


def test_the_scheduled_list_filters_by_status_and_day_with_totals_per_day_and_exports_as_csv(client, crew):
    marie, paul = crew.debtor("Marie", 1550), crew.debtor("Paul", 900)
    _bill(crew, marie, paul)
    _payments(crew).filter(customer=paul).update(status=ScheduledPaymentStatus.CANCELLED)
    client = _login(client, crew)
    page = client.get(_url(crew.hub, "scheduled_payments")).content.decode()
    assert "Marie Test" in page and "Paul Test" not in page  # still to be paid, by default
    page = client.get(_url(crew.hub, "scheduled_payments"), {"status": "all"}).content.decode()
    assert "Marie Test" in page and "Paul Test" in page and "€24.50" in page  # the day's total
    page = client.get(_url(crew.hub, "scheduled_payments"), {"status": "all", "date_from": "2001-02-03",
                                                             "date_to": "2001-02-01"}).content.decode()  # fmt: skip
    assert "Make “to” no earlier than “from”." in page
    export = client.get(_url(crew.hub, "scheduled_export"), {"status": "cancelled", "csv_sep": "comma"})
    rows = list(csv.reader(io.StringIO(b"".join(export.streaming_content).decode("utf-8-sig"))))
    assert rows[0][:4] == ["customer", "email", "amount", "currency"]
    assert [r[0] for r in rows[1:]] == ["Paul Test"] and rows[1][2] == "9.00"
    assert AuditEvent.objects.filter(hub=crew.hub, action="billing.export").exists()


@pytest.mark.parametrize(
    ("field", "typed", "says"),
    [
        ("notice_days", "8", "from 0 to 7"),
        ("notice_days", "1e9", "from 0 to 7"),
        ("overdue_days", "abc", "from 1 to 365"),
        ("retry_days", "1,500", "e.g. 1, 3, 7"),
        ("retry_days", "3, 1", "e.g. 1, 3, 7"),
        ("min_charge", "1,500", "Choose a smallest charge from €0.50 to €50.00."),
        ("min_charge", "1e9", "Type an amount like"),
        ("min_charge", "abc", "Type an amount like"),
    ],
)
def test_the_settings_form_turns_bad_input_into_a_clear_error_and_saves_nothing(client, crew, field, typed, says):
    data = {"debt_billing": "on", "notice_days": "1", "retry_days": "1, 3, 7", "min_charge": "", "overdue_days": "14"}
    response = _login(client, crew, "owner").post(_url(crew.hub, "billing_settings"), data | {field: typed})
    assert response.status_code == 200
    assert says in " ".join(str(e) for e in response.context["form"].errors[field])
    settings = billing_settings_of(hub=crew.hub)
    assert (settings.notice_days, settings.retry_days, settings.min_charge_minor) == (1, [1, 3, 7], None)


def test_the_owner_changes_the_settings_and_finance_may_only_read_them(client, crew):
    data = {"debt_billing": "on", "schedule_after_order": "on", "notice_days": "2", "retry_days": "2 4",
            "min_charge": "1.50", "overdue_days": "30"}  # fmt: skip
    _login(client, crew, "owner").post(_url(crew.hub, "billing_settings"), data)
    settings = billing_settings_of(hub=crew.hub)
    assert (settings.schedule_after_order, settings.notice_days, settings.retry_days, settings.min_charge_minor,
            settings.overdue_days) == (True, 2, [2, 4], 150, 30)  # fmt: skip
    _login(client, crew, "finance")
    page = client.get(_url(crew.hub, "billing_settings")).content.decode()
    assert "Only the hub's owner changes these settings." in page and "Save settings" not in page
    assert 'name="notice_days" value="2"' in page and "disabled" in page
    assert client.post(_url(crew.hub, "billing_settings"), data | {"notice_days": "5"}).status_code == 403
    assert billing_settings_of(hub=crew.hub).notice_days == 2


# Each page and action, and the id it takes (a payment's, or a customer's).
BILLING_PAGES = {"billing_customers": "", "scheduled_payments": "", "scheduled_payment_detail": "scheduled_id",
                 "billing_overdue": "", "overdue_account": "customer_id", "billing_settings": ""}  # fmt: skip
BILLING_ACTIONS = {"billing_preview": "", "billing_bill": "", "scheduled_bulk": "",
                   "scheduled_date_change": "scheduled_id", "scheduled_cancel": "scheduled_id",
                   "scheduled_retry": "scheduled_id", "overdue_record": "customer_id",
                   "overdue_schedule": "customer_id"}  # fmt: skip


@pytest.mark.parametrize("who", ["owner", "finance", "support", "customer", "other_hub"])
def test_only_finance_and_the_owner_reach_billing_pages_and_actions(client, crew, who):
    marie = crew.debtor("Marie", 1550)
    _bill(crew, marie)
    payment = _payments(crew).get()
    ids = {"scheduled_id": payment.id, "customer_id": marie.id}
    client = _login(client, crew, who)
    expected = {"owner": 200, "finance": 200, "support": 403, "customer": 403, "other_hub": 404}[who]
    for name, takes in BILLING_PAGES.items():
        url = _url(crew.hub, name, **({takes: ids[takes]} if takes else {}))
        assert client.get(url).status_code == expected, name
    for name, takes in BILLING_ACTIONS.items():
        url = _url(crew.hub, name, **({takes: ids[takes]} if takes else {}))
        status = client.post(url, {"p": [marie.id], "reason": "Paid at the market"}).status_code
        assert status in ((200, 302) if expected == 200 else (expected,)), name
    payment.refresh_from_db()
    assert payment.status == (ScheduledPaymentStatus.CANCELLED if expected == 200 else ScheduledPaymentStatus.SCHEDULED)


def test_another_hubs_payment_and_customer_are_not_found_through_my_hub(client, crew):
    theirs = crew.debtor("Theirs", 1550, hub=crew.other_hub)
    billing_settings_update(hub=crew.other_hub, actor=crew.people["other_hub"], debt_billing=True)
    debt_bill(hub=crew.other_hub, actor=None, customer_ids=[theirs.id])
    payment = ScheduledPayment.objects.get(hub=crew.other_hub)
    client = _login(client, crew, "owner")
    assert client.get(_url(crew.hub, "scheduled_payment_detail", scheduled_id=payment.id)).status_code == 404
    assert client.get(_url(crew.hub, "overdue_account", customer_id=theirs.id)).status_code == 404
    assert client.post(_url(crew.hub, "scheduled_cancel", scheduled_id=payment.id), {"reason": "x"}).status_code == 404
    assert client.post(_url(crew.hub, "overdue_record", customer_id=theirs.id), {}).status_code == 404
    client.post(_url(crew.hub, "scheduled_bulk"), {"p": [payment.id], "action": "cancel", "reason": "x"})
    payment.refresh_from_db()
    assert payment.status == ScheduledPaymentStatus.SCHEDULED


def test_the_overview_shows_the_overdue_figure_to_finance_only(client, crew):
    from django.utils import timezone

    marie = crew.debtor("Marie", 1550)
    ScheduledPayment.objects.create(
        hub=crew.hub, customer=marie, account_id=marie.account_id, status=ScheduledPaymentStatus.FAILED,
        due_on=timezone.localdate() - timedelta(days=3), run_on=timezone.localdate() - timedelta(days=3),
        credits_minor=1550, unit="EUR", price_minor=1550, currency="EUR",
    )  # fmt: skip
    page = _login(client, crew, "finance").get(_url(crew.hub, "dashboard")).content.decode()
    assert _url(crew.hub, "billing_overdue") in page and "owing €15.50" in page
    page = _login(client, crew, "support").get(_url(crew.hub, "dashboard")).content.decode()
    assert _url(crew.hub, "billing_overdue") not in page

"""Billing over the API as a finance program sees it: scheduled payments listed with the page's
filters and paged, one with its attempts, cancelled or moved once whatever is retried, refused
clearly (and changing nothing) when the input is bad or the payment is being charged; the billing
settings; scopes and another hub's ids."""

import json
from datetime import timedelta

import pytest

from hubtab.accounts.services import account_floor_change, charge_post
from hubtab.api.models import IdempotencyRecord
from hubtab.api.services import token_create
from hubtab.billing.billing_settings import billing_settings_update
from hubtab.billing.dates import charge_moment
from hubtab.billing.models import ScheduledPayment, ScheduledPaymentStatus
from hubtab.billing.run import billing_run
from hubtab.billing.scheduling import debt_bill, earliest_charge_day
from hubtab.core.models import AuditEvent, Role
from hubtab.core.services import membership_grant, user_create
from hubtab.crm.services import customer_create
from hubtab.messaging.models import Delivery

pytestmark = pytest.mark.django_db

FINANCE_SCOPES = ["accounts:read", "accounts:write"]


class Api:
    def __init__(self, client, secret):
        self.client, self.secret, self.n = client, secret, 0

    def get(self, path, **params):
        return self.client.get("/api/v1" + path, params, headers={"Authorization": f"Bearer {self.secret}"})

    def post(self, path, body, key=None):
        self.n += 1
        headers = {"Authorization": f"Bearer {self.secret}", "Idempotency-Key": key or f"billing-{self.n}"}
        return self.client.post("/api/v1" + path, json.dumps(body), content_type="application/json", headers=headers)


def _crew(hub, role, email):
    user = user_create(email=email, password="pw-long-enough", email_verified=True)
    membership_grant(hub=hub, user=user, role=role)
    return user


def _in_debt(hub, name, owes_minor):
    person = customer_create(hub=hub, email=f"{name.lower()}@example.org", first_name=name, last_name="Test")
    account_floor_change(hub=hub, account_id=person.account_id, floor_minor=-50000, why="test: owes")
    charge_post(hub=hub, account_id=person.account_id, amount_minor=owes_minor, reference=f"order-{name}",
                description="", key=f"test-order-{name}")  # fmt: skip
    return person


def _billed(hub, owner, *people):
    billing_settings_update(hub=hub, actor=owner, debt_billing=True)
    debt_bill(hub=hub, actor=owner, customer_ids=[p.id for p in people])
    return {p.first_name: ScheduledPayment.objects.get(customer=p) for p in people}


@pytest.fixture
def owner(hub):
    return _crew(hub, Role.OWNER, "owner@example.org")


@pytest.fixture
def api(client, hub, owner):
    return Api(client, token_create(hub=hub, name="Books", scopes=FINANCE_SCOPES, created_by=owner)[1])


@pytest.fixture
def payments(hub, owner):
    """Marie and Paul owe and are scheduled (no saved card: they are told to save one)."""
    return _billed(hub, owner, _in_debt(hub, "Marie", 1550), _in_debt(hub, "Paul", 2380))


def _unchanged(payment):
    before = (payment.status, payment.run_on, payment.notice_version, payment.outcome)
    payment.refresh_from_db()
    return (payment.status, payment.run_on, payment.notice_version, payment.outcome) == before


def test_finance_lists_scheduled_payments_filtered_by_status_day_and_customer(api, hub, payments):
    marie, paul = payments["Marie"], payments["Paul"]
    api.post(f"/scheduled-payments/{paul.id}/date", {"date": (marie.run_on + timedelta(days=3)).isoformat()})

    items = api.get("/scheduled-payments").json()["items"]
    assert [(i["id"], i["status"], i["amount"], i["currency"], i["credits"]) for i in items] == [
        (marie.id, "scheduled", 1550, "EUR", 1550), (paul.id, "scheduled", 2380, "EUR", 2380),
    ]  # fmt: skip
    assert items[0]["customer"] == marie.customer_id and items[0]["customer_name"] == "Marie Test"
    assert items[0]["run_on"] == marie.run_on.isoformat()

    def ids(**params):
        response = api.get("/scheduled-payments", **params)
        assert response.status_code == 200, response.content
        return [item["id"] for item in response.json()["items"]]

    assert ids(date_to=marie.run_on.isoformat()) == [marie.id]
    assert ids(date_from=(marie.run_on + timedelta(days=1)).isoformat()) == [paul.id]
    assert ids(customer=paul.customer_id) == [paul.id]
    api.post(f"/scheduled-payments/{marie.id}/cancel", {"reason": "Paid in cash at the counter"})
    assert ids(status="cancelled") == [marie.id]
    assert ids(status="scheduled,cancelled") == [marie.id, paul.id]
    assert ids(status="succeeded") == []


def test_lists_come_a_page_at_a_time(api, hub, owner):
    people = [_in_debt(hub, f"Person{n:02d}", 1000 + n) for n in range(55)]
    _billed(hub, owner, *people)
    first = api.get("/scheduled-payments").json()
    assert len(first["items"]) == 50 and first["next_cursor"]
    second = api.get("/scheduled-payments", cursor=first["next_cursor"]).json()
    assert len(second["items"]) == 5 and second["next_cursor"] is None
    assert {i["id"] for i in first["items"]}.isdisjoint(i["id"] for i in second["items"])
    assert api.get("/scheduled-payments", cursor="not-ours").status_code == 422


def test_one_payment_shows_its_attempts_with_the_decline_in_plain_words(api, hub, payments):
    marie = payments["Marie"]
    billing_run(now=charge_moment(hub=hub, day=marie.run_on) + timedelta(minutes=1))  # no card: nothing charged
    body = api.get(f"/scheduled-payments/{marie.id}").json()
    assert body["status"] == "retrying" and body["attempts_made"] == 0
    [attempt] = body["attempts"]
    assert (attempt["number"], attempt["outcome"], attempt["decline_code"]) == (1, "no_card", "no_card")
    assert attempt["reason"] == "There is no valid saved card." and attempt["started_at"]


def test_cancelling_with_a_reason_happens_once_however_often_it_is_sent(api, hub, payments):
    marie = payments["Marie"]
    path = f"/scheduled-payments/{marie.id}/cancel"
    first = api.post(path, {"reason": "Paid in cash at the counter"}, key="cancel-1")
    again = api.post(path, {"reason": "Paid in cash at the counter"}, key="cancel-1")
    assert first.status_code == again.status_code == 200 and again.json() == first.json()
    assert first.json()["status"] == "cancelled" and first.json()["outcome"] == "Paid in cash at the counter"
    assert AuditEvent.objects.filter(hub=hub, action="billing.cancel").count() == 1
    other = api.post(path, {"reason": "Something else"}, key="cancel-1")
    assert other.status_code == 409 and other.json()["error"]["code"] == "idempotency_conflict"
    closed = api.post(path, {"reason": "Again"})
    assert closed.status_code == 409 and closed.json()["error"]["code"] == "payment_closed"


def test_moving_a_payment_tells_the_customer_the_new_day(api, hub, payments):
    marie = payments["Marie"]
    later = marie.run_on + timedelta(days=5)
    response = api.post(f"/scheduled-payments/{marie.id}/date", {"date": later.isoformat()})
    assert response.status_code == 200 and response.json()["run_on"] == later.isoformat()
    marie.refresh_from_db()
    assert marie.run_on == later and marie.notice_version == 2
    assert Delivery.objects.filter(customer=marie.customer, kind="billing_scheduled").count() == 2
    assert AuditEvent.objects.filter(hub=hub, action="billing.date_change").get().actor.email == "owner@example.org"


@pytest.mark.parametrize(
    ("path", "body", "code"),
    [
        ("date", {"date": "2026-13-40"}, "validation_error"),
        ("date", {"date": "9 December 2026"}, "validation_error"),
        ("date", {"date": 1796000000}, "validation_error"),  # a number is no date here
        ("date", {}, "validation_error"),
        ("date", {"date": "2020-01-06"}, "date_too_early"),  # in the past
        ("cancel", {"reason": ""}, "validation_error"),
        ("cancel", {"reason": "   "}, "validation_error"),
        ("cancel", {"reason": "x" * 301}, "validation_error"),
        ("cancel", {}, "validation_error"),
    ],
)
def test_bad_input_is_refused_with_a_clear_error_and_changes_nothing(api, hub, payments, path, body, code):
    marie = payments["Marie"]
    response = api.post(f"/scheduled-payments/{marie.id}/{path}", body)
    assert response.status_code == 422, response.content
    error = response.json()["error"]
    assert error["code"] == code and error["message"]
    if "details" in error:  # refused by the schema: it names the field
        assert error["details"][0]["loc"][-1] == ("date" if path == "date" else "reason")
    assert _unchanged(marie)
    assert not AuditEvent.objects.filter(hub=hub, action__in=["billing.cancel", "billing.date_change"]).exists()


def test_a_day_before_the_customer_can_be_told_is_refused(api, hub, payments):
    marie = payments["Marie"]
    too_soon = earliest_charge_day(hub=hub) - timedelta(days=1)
    response = api.post(f"/scheduled-payments/{marie.id}/date", {"date": too_soon.isoformat()})
    assert response.status_code == 422 and response.json()["error"]["code"] == "date_too_early"
    assert _unchanged(marie)


@pytest.mark.parametrize(
    "params",
    [{"status": "paid"}, {"date_from": "2026-13-40"}, {"date_to": "1796000000"}, {"customer": "0"},
     {"date_from": "2026-12-10", "date_to": "2026-12-01"}],
)  # fmt: skip
def test_bad_filters_are_refused(api, payments, params):
    response = api.get("/scheduled-payments", **params)
    assert response.status_code == 422 and response.json()["error"]["code"] == "validation_error"


def test_a_payment_being_charged_cannot_be_moved_or_cancelled(api, hub, payments):
    marie = payments["Marie"]
    ScheduledPayment.objects.filter(hub=hub, id=marie.id).update(status=ScheduledPaymentStatus.PROCESSING)
    marie.refresh_from_db()
    for response in (api.post(f"/scheduled-payments/{marie.id}/cancel", {"reason": "Paid in cash"}),
                     api.post(f"/scheduled-payments/{marie.id}/date",
                              {"date": (marie.run_on + timedelta(days=2)).isoformat()})):  # fmt: skip
        assert response.status_code == 409
        assert response.json()["error"]["code"] == "payment_processing" and response.json()["error"]["message"]
    assert _unchanged(marie)


def test_another_hubs_payments_are_not_found(api, hub, other_hub, payments):
    their_owner = _crew(other_hub, Role.OWNER, "them@example.org")
    theirs = _billed(other_hub, their_owner, _in_debt(other_hub, "Theirs", 900))["Theirs"]
    assert [i["id"] for i in api.get("/scheduled-payments").json()["items"]] == [payments["Marie"].id,
                                                                                 payments["Paul"].id]  # fmt: skip
    assert api.get("/scheduled-payments", customer=theirs.customer_id).json()["items"] == []
    day = (theirs.run_on + timedelta(days=3)).isoformat()
    for response in (api.get(f"/scheduled-payments/{theirs.id}"),
                     api.post(f"/scheduled-payments/{theirs.id}/cancel", {"reason": "x"}),
                     api.post(f"/scheduled-payments/{theirs.id}/date", {"date": day})):  # fmt: skip
        assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
    assert _unchanged(theirs) and theirs.status == "scheduled"
    assert api.get("/scheduled-payments/999999999").status_code == 404


def test_reading_needs_accounts_read_and_changing_needs_accounts_write(client, hub, owner, payments):
    marie = payments["Marie"]
    shop = Api(client, token_create(hub=hub, name="Shop", scopes=["customers:read", "crm:read"], created_by=owner)[1])
    for response in (shop.get("/scheduled-payments"), shop.get(f"/scheduled-payments/{marie.id}"),
                     shop.get("/billing/settings")):  # fmt: skip
        assert response.status_code == 403 and "accounts:read" in response.json()["error"]["message"]
    reader = Api(client, token_create(hub=hub, name="Reader", scopes=["accounts:read"], created_by=owner)[1])
    assert reader.get(f"/scheduled-payments/{marie.id}").status_code == 200
    refused = reader.post(f"/scheduled-payments/{marie.id}/cancel", {"reason": "x"}, key="shared")
    assert refused.status_code == 403 and "accounts:write" in refused.json()["error"]["message"]
    assert not IdempotencyRecord.objects.filter(hub=hub, key="shared").exists()  # the key is not used up
    assert _unchanged(marie)


def test_a_token_made_on_the_command_line_cancels_with_no_one_recorded(client, hub, payments):
    marie = payments["Marie"]
    machine = Api(client, token_create(hub=hub, name="Cron", scopes=FINANCE_SCOPES, created_by=None)[1])
    assert machine.post(f"/scheduled-payments/{marie.id}/cancel", {"reason": "Written off"}).status_code == 200
    assert AuditEvent.objects.filter(hub=hub, action="billing.cancel").get().actor is None


def test_the_billing_settings_are_read_with_the_defaults_where_never_changed(api, hub, owner):
    body = api.get("/billing/settings").json()
    assert body == {
        "debt_billing": False, "schedule_after_order": False, "notice_days": 1, "retry_days": [1, 3, 7],
        "min_charge": None, "smallest_charge": 50, "currency": "EUR", "overdue_days": 14, "morning_hour": 5,
        "timezone": "Europe/Paris", "updated_at": None,
    }  # fmt: skip
    billing_settings_update(hub=hub, actor=owner, debt_billing=True, notice_days=3, retry_days=[2, 5],
                            min_charge_minor=200)  # fmt: skip
    body = api.get("/billing/settings").json()
    assert (body["debt_billing"], body["notice_days"], body["retry_days"]) == (True, 3, [2, 5])
    assert (body["min_charge"], body["smallest_charge"]) == (200, 200) and body["updated_at"]


def test_the_openapi_document_describes_the_billing_endpoints(client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    for path in ("/api/v1/scheduled-payments", "/api/v1/scheduled-payments/{scheduled_id}",
                 "/api/v1/scheduled-payments/{scheduled_id}/cancel", "/api/v1/scheduled-payments/{scheduled_id}/date",
                 "/api/v1/billing/settings"):  # fmt: skip
        assert path in paths

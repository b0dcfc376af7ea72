"""Hub credit settings and the crew's credit actions, through the services and the pages."""

import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from hubtab.accounts.models import CreditSettings
from hubtab.accounts.selectors import credit_settings_of
from hubtab.accounts.services import CreditAction, credit_apply, credit_apply_many, credit_settings_update
from hubtab.core.errors import DomainError
from hubtab.core.models import AuditEvent, Role
from hubtab.core.services import membership_grant, user_create
from hubtab.crm.services import customer_create
from hubtab.ledger.models import Lot, Transaction
from hubtab.ledger.selectors import account_state

pytestmark = pytest.mark.django_db


@pytest.fixture
def finance(hub):
    user = user_create(email="finance@example.org", password="pw-long-enough", email_verified=True)
    membership_grant(hub=hub, user=user, role=Role.FINANCE)
    return user


@pytest.fixture
def finance_client(client, finance):
    client.force_login(finance)
    return client


@pytest.fixture
def marie(hub):
    return customer_create(hub=hub, email="marie@example.org", first_name="Marie", last_name="Dubois", tags=["box"])


def _balance(hub, customer):
    return account_state(hub_id=hub.id, account_id=customer.account_id).balance_minor


def _post(client, hub, customer, **data):
    data.setdefault("key", str(uuid.uuid4()))
    return client.post(reverse("customer_credit", args=[hub.slug, customer.id]), data)


# --- settings ---------------------------------------------------------------------------------------


def test_settings_are_saved_in_the_hubs_currency_and_audited(finance_client, hub, finance):
    url = reverse("credit_settings", args=[hub.slug])
    page = finance_client.get(url).content.decode()
    assert "Credit first, then another payment method" in page  # the default policy
    response = finance_client.post(
        url,
        {
            "enabled": "on",
            "payment_policy": "credit_only",
            "default_floor": "-50",
            "low_balance": "7,50",  # the hub is French: a comma is the decimal mark
            "topup_min": "10",
            "topup_max": "200",
            "topup_presets": "10 20 50",
            "topup_bonus_percent": "5",
        },
        HTTP_ACCEPT_LANGUAGE="fr",
    )
    assert response.status_code == 302
    settings = credit_settings_of(hub=hub)
    assert settings.payment_policy == "credit_only"
    assert (settings.default_floor_minor, settings.low_balance_minor) == (-5000, 750)
    assert settings.topup_presets_minor == [1000, 2000, 5000] and settings.topup_bonus_percent == Decimal("5.00")
    event = AuditEvent.objects.across_hubs().get(action="credit_settings.update")
    assert event.actor == finance and event.data["default_floor_minor"] == [0, -5000]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("default_floor", "20", "zero or negative"),
        ("topup_min", "300", "must not be above the largest"),
        ("topup_presets", "10 500", "between the smallest and the largest"),
        ("low_balance", "1.234", "at most 2 decimals"),
        ("topup_bonus_percent", "150", "100"),
        ("topup_presets", "ten", "is not an amount"),
    ],
)
def test_bad_settings_are_refused_with_the_reason_and_change_nothing(finance_client, hub, field, value, message):
    data = {
        "enabled": "on",
        "payment_policy": "credit_first",
        "default_floor": "0",
        "low_balance": "5",
        "topup_min": "5",
        "topup_max": "200",
        "topup_presets": "10 20",
        "topup_bonus_percent": "0",
        field: value,
    }
    response = finance_client.post(reverse("credit_settings", args=[hub.slug]), data)
    assert response.status_code == 200 and message in response.content.decode()
    assert not CreditSettings.objects.across_hubs().filter(hub=hub).exists()  # nothing saved


def test_new_customers_get_the_default_limit_and_it_can_be_applied_to_a_tag(finance_client, hub, finance, marie):
    hugo = customer_create(hub=hub, email="hugo@example.org", tags=["school"])
    credit_settings_update(hub=hub, actor=finance, default_floor_minor=-3000)
    lea = customer_create(hub=hub, email="lea@example.org")
    assert lea.account.floor_minor == -3000 and marie.account.floor_minor == 0
    response = finance_client.post(reverse("customers_floor_apply", args=[hub.slug]), {"tag": "box"})
    assert response.status_code == 302
    marie.account.refresh_from_db()
    hugo.account.refresh_from_db()
    assert (marie.account.floor_minor, hugo.account.floor_minor) == (-3000, 0)
    assert AuditEvent.objects.across_hubs().filter(action="customers.floor_apply").count() == 1


# --- crew actions ---------------------------------------------------------------------------------


def test_finance_adds_paid_credit_with_a_comment_that_shows_in_the_history(finance_client, hub, marie):
    response = _post(finance_client, hub, marie, action="add_paid", amount="12.50", comment="Box missing leeks")
    assert response.status_code == 302
    assert _balance(hub, marie) == 1250
    txn = Transaction.objects.across_hubs().get(kind="adjustment")
    assert txn.reason == "Box missing leeks" and txn.actor.email == "finance@example.org"
    page = finance_client.get(reverse("customer_detail", args=[hub.slug, marie.id])).content.decode()
    assert "Box missing leeks" in page and "€12.50" in page
    assert "Added €12.50: Box missing leeks" in page  # the audit line on the customer's page
    french = finance_client.get(reverse("customer_detail", args=[hub.slug, marie.id]), HTTP_ACCEPT_LANGUAGE="fr")
    assert "A ajouté 12,50\u00a0€ : Box missing leeks" in french.content.decode()  # read in the reader's language


def test_granted_credit_expires_at_the_end_of_the_chosen_day_in_the_hubs_time(finance_client, hub, marie):
    day = (timezone.now() + timedelta(days=10)).date()
    _post(finance_client, hub, marie, action="add_granted", amount="5", expires_on=day.isoformat(), comment="Sorry")
    lot = Lot.objects.across_hubs().get(account_id=marie.account_id)
    assert lot.kind == "granted"
    local = timezone.localtime(lot.expires_at, timezone=__import__("zoneinfo").ZoneInfo(hub.timezone))
    assert (local.date(), local.hour, local.minute) == (day, 23, 59)


def test_a_payment_received_by_hand_is_paid_credit_with_its_method(finance_client, hub, marie):
    _post(finance_client, hub, marie, action="external_payment", amount="30", method="cash", comment="Saturday")
    assert _balance(hub, marie) == 3000
    txn = Transaction.objects.across_hubs().get(kind="top_up")
    assert txn.memo == "Cash: Saturday"  # what happened, in Hubtab's words: each reader reads it in theirs
    url = reverse("customer_detail", args=[hub.slug, marie.id])
    assert "Espèces: Saturday" in finance_client.get(url, HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Cash: Saturday" in finance_client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    response = _post(finance_client, hub, marie, action="external_payment", amount="30", comment="no method")
    assert "Say how the customer paid" in response.content.decode()
    assert _balance(hub, marie) == 3000


def test_removing_more_than_the_limit_allows_is_refused_and_posts_nothing(finance_client, hub, marie):
    _post(finance_client, hub, marie, action="add_paid", amount="10", comment="start")
    response = _post(finance_client, hub, marie, action="remove", amount="10.01", comment="too much")
    assert response.status_code == 200 and "Not enough spendable credit" in response.content.decode()
    assert _balance(hub, marie) == 1000
    _post(finance_client, hub, marie, action="remove", amount="10", comment="charged twice")
    assert _balance(hub, marie) == 0


def test_a_comment_is_required_and_a_form_sent_twice_posts_once(finance_client, hub, marie):
    response = _post(finance_client, hub, marie, action="refund", amount="4", comment="")
    assert response.status_code == 200 and _balance(hub, marie) == 0
    key = str(uuid.uuid4())
    for _ in range(2):
        _post(finance_client, hub, marie, action="refund", amount="4", comment="Damaged eggs", key=key)
    assert _balance(hub, marie) == 400
    assert Transaction.objects.across_hubs().filter(kind="refund").count() == 1


@pytest.mark.parametrize("amount", ["0", "-5", "abc", "1e400", "10000000000000"])
def test_bad_amounts_change_nothing(finance_client, hub, marie, amount):
    response = _post(finance_client, hub, marie, action="add_paid", amount=amount, comment="x")
    assert response.status_code == 200
    assert _balance(hub, marie) == 0


def test_support_may_look_but_never_move_money(client, hub, marie):
    support = user_create(email="support@example.org", password="pw-long-enough", email_verified=True)
    membership_grant(hub=hub, user=support, role=Role.SUPPORT)
    client.force_login(support)
    page = client.get(reverse("customer_detail", args=[hub.slug, marie.id])).content.decode()
    assert reverse("customer_credit", args=[hub.slug, marie.id]) not in page
    assert _post(client, hub, marie, action="add_paid", amount="5", comment="x").status_code == 403
    assert _balance(hub, marie) == 0


def test_a_mistaken_entry_is_reversed_once_with_a_reason(finance_client, hub, marie):
    _post(finance_client, hub, marie, action="add_paid", amount="20", comment="typo: should be 2")
    txn = Transaction.objects.across_hubs().get(kind="adjustment")
    url = reverse("customer_transaction_reverse", args=[hub.slug, marie.id, txn.id])
    assert "typo: should be 2" in finance_client.get(url).content.decode()
    assert finance_client.post(url, {"reason": "", "key": str(uuid.uuid4())}).status_code == 200
    response = finance_client.post(url, {"reason": "Typed 20 for 2", "key": str(uuid.uuid4())})
    assert response.status_code == 302 and _balance(hub, marie) == 0
    again = finance_client.post(url, {"reason": "again", "key": str(uuid.uuid4())})
    assert again.status_code == 200 and "already been reversed" in again.content.decode()
    assert _balance(hub, marie) == 0
    assert AuditEvent.objects.across_hubs().filter(action="credit.reverse").count() == 1


def test_another_customers_entry_is_not_found_through_this_customers_page(finance_client, hub, marie):
    hugo = customer_create(hub=hub, email="hugo@example.org")
    _post(finance_client, hub, hugo, action="add_paid", amount="5", comment="x")
    txn = Transaction.objects.across_hubs().get(kind="adjustment")
    url = reverse("customer_transaction_reverse", args=[hub.slug, marie.id, txn.id])
    assert finance_client.get(url).status_code == 404


def test_crediting_many_customers_is_all_or_nothing(hub, other_hub, finance, marie):
    hugo = customer_create(hub=hub, email="hugo@example.org")
    theirs = customer_create(hub=other_hub, email="x@example.org")
    with pytest.raises(DomainError) as refused:
        credit_apply_many(
            hub=hub, actor=finance, account_ids=[marie.account_id, theirs.account_id], action=CreditAction.ADD_GRANTED,
            amount_minor=500, comment="Welcome", key="welcome",
        )  # fmt: skip
    assert refused.value.code == "account_not_found"
    assert _balance(hub, marie) == 0
    posted = credit_apply_many(
        hub=hub, actor=finance, account_ids=[marie.account_id, hugo.account_id], action=CreditAction.ADD_GRANTED,
        amount_minor=500, comment="Welcome", key="welcome",
    )  # fmt: skip
    assert len(posted) == 2 and _balance(hub, marie) == _balance(hub, hugo) == 500


def test_credit_at_another_hubs_account_is_refused(hub, other_hub, finance):
    theirs = customer_create(hub=other_hub, email="x@example.org")
    with pytest.raises(DomainError) as refused:
        credit_apply(
            hub=hub, actor=finance, account_id=theirs.account_id, action=CreditAction.ADD_PAID, amount_minor=100,
            comment="x", key="k",
        )  # fmt: skip
    assert refused.value.code == "account_not_found"


def test_finance_credits_everyone_with_a_tag_at_once(finance_client, hub, marie):
    hugo = customer_create(hub=hub, email="hugo@example.org", tags=["school"])
    lea = customer_create(hub=hub, email="lea@example.org", tags=["box"])
    form = {"tag": "box", "action": "add_granted", "amount": "5", "comment": "Sorry, late boxes",
            "key": str(uuid.uuid4())}  # fmt: skip
    checked = finance_client.post(reverse("customers_credit_many", args=[hub.slug]), form)
    page = checked.content.decode()  # first who and how much, nothing posted yet
    assert checked.status_code == 200 and "2 customers get €5.00 each: €10.00 in all." in page
    assert "Marie Dubois" in page and "Hugo" not in page
    assert (_balance(hub, marie), _balance(hub, lea)) == (0, 0)
    confirm = checked.context["preview"]["confirm"]
    changed = finance_client.post(reverse("customers_credit_many", args=[hub.slug]),
                                  {**form, "amount": "50", "confirm": confirm})  # fmt: skip
    assert changed.status_code == 200 and "€50.00 each" in changed.content.decode()  # shown again, not posted
    assert (_balance(hub, marie), _balance(hub, lea)) == (0, 0)
    response = finance_client.post(reverse("customers_credit_many", args=[hub.slug]), {**form, "confirm": confirm})
    assert response.status_code == 302
    assert (_balance(hub, marie), _balance(hub, lea), _balance(hub, hugo)) == (500, 500, 0)
    assert AuditEvent.objects.across_hubs().filter(action="credit.add_granted").count() == 2
    page = finance_client.get(reverse("customers_credit_many", args=[hub.slug])).content.decode()
    assert "Remove credit" not in page  # many at once can only be given credit


def test_one_customer_gets_their_own_limit_and_payment_policy(finance_client, hub, marie):
    from hubtab.accounts.selectors import payment_policy_for

    url = reverse("customer_credit", args=[hub.slug, marie.id])
    assert payment_policy_for(hub=hub, account_id=marie.account_id) == ("credit_first", False)
    response = finance_client.post(url, {"floor": "-30", "payment_policy": "credit_only"})
    assert response.status_code == 302
    marie.account.refresh_from_db()
    assert marie.account.floor_minor == -3000
    assert payment_policy_for(hub=hub, account_id=marie.account_id) == ("credit_only", True)
    assert credit_settings_of(hub=hub).payment_policy == "credit_first"  # the hub's rule is untouched
    event = AuditEvent.objects.across_hubs().get(action="account.rules")
    assert event.data == {"floor_minor": [0, -3000], "payment_policy": ["", "credit_only"]}
    refused = finance_client.post(url, {"floor": "25", "payment_policy": ""})
    assert refused.status_code == 200 and "zero or negative" in refused.content.decode()
    marie.account.refresh_from_db()
    assert marie.account.floor_minor == -3000
    finance_client.post(url, {"floor": "-30", "payment_policy": ""})  # back to the hub's policy
    assert payment_policy_for(hub=hub, account_id=marie.account_id) == ("credit_first", False)


@pytest.fixture
def riverside_finance_client(client, other_hub):
    user = user_create(email="money@riverside.example", password="pw-long-enough", email_verified=True)
    membership_grant(hub=other_hub, user=user, role=Role.FINANCE)
    client.force_login(user)
    return client


@pytest.mark.parametrize("typed", ["1e9", "12,345,67", "1_000", "\u0661\u0662", "12,50", "2000000"])
def test_an_amount_that_could_be_misread_is_refused_with_an_example_and_nothing_is_posted(
    riverside_finance_client, other_hub, typed
):
    sam = customer_create(hub=other_hub, email="sam@example.org", first_name="Sam")
    response = _post(riverside_finance_client, other_hub, sam, action="add_paid", amount=typed, comment="Goodwill")
    page = response.content.decode()
    assert response.status_code == 200
    assert "Type an amount like 1,234.50" in page or "Amounts above 1,000,000" in page
    assert _balance(other_hub, sam) == 0 and not Transaction.objects.across_hubs().exists()


def test_an_english_1_500_is_fifteen_hundred_and_above_the_usual_range_it_is_confirmed_first(
    riverside_finance_client, other_hub
):
    sam = customer_create(hub=other_hub, email="sam@example.org", first_name="Sam")
    key = str(uuid.uuid4())
    asked = _post(riverside_finance_client, other_hub, sam, action="add_paid", amount="1,500", comment="Gift", key=key)
    page = asked.content.decode()
    assert asked.status_code == 200 and "£1,500.00 is more than this hub" in page
    assert "Yes, this amount is right" in page
    assert _balance(other_hub, sam) == 0
    confirmed = _post(riverside_finance_client, other_hub, sam, action="add_paid", amount="1,500", comment="Gift",
                      key=key, confirm_large="on")  # fmt: skip
    assert confirmed.status_code == 302 and _balance(other_hub, sam) == 150_000
    small = _post(riverside_finance_client, other_hub, sam, action="add_paid", amount="15", comment="Gift")
    assert small.status_code == 302 and _balance(other_hub, sam) == 151_500  # within the range: no question


def test_the_morning_hour_is_set_in_the_credit_settings_and_checked(finance_client, hub, finance):
    assert credit_settings_of(hub=hub).morning_hour == 5  # the default
    credit_settings_update(hub=hub, actor=finance, morning_hour=7)
    assert credit_settings_of(hub=hub).morning_hour == 7
    for wrong in (24, -1, "5", True):
        with pytest.raises(DomainError):
            credit_settings_update(hub=hub, actor=finance, morning_hour=wrong)
    assert credit_settings_of(hub=hub).morning_hour == 7
    assert (
        "Scheduled payments run at" in finance_client.get(reverse("credit_settings", args=[hub.slug])).content.decode()
    )

"""The customer's own account page: figures, expiring credit, history filters, statements."""

import csv
import io
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from hubtab.core.services import user_create
from hubtab.crm.services import customer_create
from hubtab.ledger.services import account_floor_set

pytestmark = pytest.mark.django_db


@pytest.fixture
def marie(books):
    user_create(email="marie@example.org", password="pw-long-enough", email_verified=True)
    record = customer_create(hub=books.hub, email="marie@example.org", first_name="Marie", last_name="Dubois")
    account_floor_set(hub_id=books.hub.id, account_id=record.account_id, floor_minor=-2000)
    books.top_up(record.account, 4000)
    books.spend(record.account, 1575)
    books.grant(record.account, 500, expires_at=timezone.now() + timedelta(days=10))
    return record


@pytest.fixture
def marie_client(client, marie):
    client.force_login(marie.user)
    return client


def _url(name, books, **kw):
    return reverse(name, kwargs={"hub_slug": books.hub.slug, **kw})


def test_my_account_shows_the_figures_and_warns_of_credit_about_to_expire(marie_client, books):
    page = marie_client.get(_url("portal_hub", books)).content.decode()
    assert "€29.25" in page  # balance: 40.00 - 15.75 + 5.00
    assert "€49.25" in page  # spendable: down to -20.00
    assert "€5.00 of credit you were given expires on" in page
    assert "You may spend up to €20.00 more than your credit" in page  # the limit, explained


def test_the_history_filters_by_kind_and_period(marie_client, books):
    page = marie_client.get(_url("portal_hub", books), {"group": "orders"}).content.decode()
    history = page.split("History", 1)[1]
    assert "-€15.75" in history and "€40.00" not in history
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    page = marie_client.get(_url("portal_hub", books), {"first_day": tomorrow, "last_day": tomorrow}).content.decode()
    assert "No account activity in this period." in page
    backwards = {"first_day": tomorrow, "last_day": "2020-01-01"}
    page = marie_client.get(_url("portal_hub", books), backwards).content.decode()
    assert "The period must end after it starts." in page


def test_the_csv_statement_has_one_row_per_event_with_running_balance(marie_client, books):
    response = marie_client.get(_url("portal_statement", books, fmt="csv"))
    assert response["Content-Disposition"].startswith('attachment; filename="green-valley-statement-')
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [(r["amount"], r["balance"]) for r in rows] == [("40.00", "40.00"), ("-15.75", "24.25"), ("5.00", "29.25")]
    assert rows[0]["date"].endswith("+01:00")  # the hub's time, Europe/Paris in November


def test_the_pdf_statement_reads_like_the_page(marie_client, books):
    response = marie_client.get(_url("portal_statement", books, fmt="pdf"))
    assert response["Content-Type"] == "application/pdf"
    text = PdfReader(io.BytesIO(response.content)).pages[0].extract_text()
    assert "Green Valley Food Hub" in text and "Marie Dubois" in text
    assert "Relevé de compte" in text  # the hub's language
    assert "29,25 €" in text and "-15,75 €" in text


def test_a_bad_period_or_format_is_refused_plainly(marie_client, books):
    response = marie_client.get(_url("portal_statement", books, fmt="csv"), {"first_day": "2026-13-45"})
    assert response.status_code == 400
    assert marie_client.get(_url("portal_statement", books, fmt="xls")).status_code == 404
    long = {"first_day": "2019-01-01", "last_day": "2026-01-01"}
    assert marie_client.get(_url("portal_statement", books, fmt="csv"), long).status_code == 400

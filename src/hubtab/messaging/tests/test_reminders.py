"""Balance reminders through a real SMTP server: one per crossing, a cooldown, a separate notice
below zero, nothing twice however often or concurrently the job runs."""

import threading
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from hubtab.accounts.services import credit_settings_update
from hubtab.core.models import AuditEvent, Role
from hubtab.core.services import membership_grant, user_create
from hubtab.crm.services import customer_archive, customer_create
from hubtab.ledger.services import account_floor_set
from hubtab.messaging.models import Delivery
from hubtab.messaging.reminders import balance_reminders_run
from hubtab.testing import mail_text

pytestmark = pytest.mark.django_db


@pytest.fixture
def marie(books):
    record = customer_create(hub=books.hub, email="marie@example.org", first_name="Marie", last_name="Dubois")
    account_floor_set(hub_id=books.hub.id, account_id=record.account_id, floor_minor=-5000)
    books.top_up(record.account, 2000)
    return record


def test_falling_below_the_line_sends_one_reminder_in_the_hubs_language(books, marie, smtp_server):
    assert balance_reminders_run()["low"] == 0  # 20.00 is above 5.00
    books.spend(marie.account, 1700)  # 3.00 left
    counts = balance_reminders_run()
    assert (counts["low"], counts["sent"]) == (1, 1)
    assert len(smtp_server) == 1
    message = smtp_server[0]
    assert message["To"] == "marie@example.org"
    assert message["Subject"] == "Votre crédit chez Green Valley Food Hub est bas"
    body = mail_text(message)
    assert "3,00\u00a0€" in body and "5,00\u00a0€" in body and "http://127.0.0.1:8000/me/" in body
    balance_reminders_run()
    balance_reminders_run()
    assert len(smtp_server) == 1  # the same crossing never reminds twice
    event = AuditEvent.objects.across_hubs().get(action="reminder.low_balance")
    assert event.actor is None and event.subject_id == marie.id  # on the customer's page


def test_a_new_crossing_after_the_cooldown_reminds_again_but_not_before(books, marie, smtp_server):
    books.spend(marie.account, 1700)
    balance_reminders_run()
    books.top_up(marie.account, 1000)  # 13.00: back above
    balance_reminders_run()
    books.spend(marie.account, 1000)  # 3.00: a new crossing, within the cooldown
    balance_reminders_run()
    assert len(smtp_server) == 1
    later = timezone.now() + timedelta(days=4)
    balance_reminders_run(now=later)
    assert len(smtp_server) == 2


def test_going_below_zero_sends_its_own_notice_and_no_low_one_on_top(books, marie, smtp_server):
    books.spend(marie.account, 2500)  # -5.00 at once
    counts = balance_reminders_run()
    assert (counts["low"], counts["negative"]) == (0, 1)
    # (Python's mail library folds long subjects with a doubled space; spaces are compared as one.)
    subjects = [" ".join(m["Subject"].split()) for m in smtp_server]
    assert subjects == ["Votre compte chez Green Valley Food Hub est en dessous de zéro"]
    assert "-5,00\u00a0€" in mail_text(smtp_server[0])
    balance_reminders_run()
    assert len(smtp_server) == 1


def test_low_then_negative_are_two_notices(books, marie, smtp_server):
    books.spend(marie.account, 1700)
    balance_reminders_run()
    books.spend(marie.account, 1000)  # -7.00
    balance_reminders_run()
    assert [m["Subject"].split(" ")[1] for m in smtp_server] == ["crédit", "compte"]


def test_nobody_is_reminded_when_credit_is_off_or_the_record_is_archived(books, marie, smtp_server):
    owner = user_create(email="owner@example.org", password="pw-long-enough", email_verified=True)
    membership_grant(hub=books.hub, user=owner, role=Role.OWNER)
    books.spend(marie.account, 1700)
    credit_settings_update(hub=books.hub, actor=owner, enabled=False)
    balance_reminders_run()
    credit_settings_update(hub=books.hub, actor=owner, enabled=True)
    customer_archive(hub=books.hub, customer=marie)
    balance_reminders_run()
    assert smtp_server == []


def test_a_message_the_mail_server_refused_is_kept_and_sent_on_the_next_run(books, marie, smtp_server, settings):
    books.spend(marie.account, 1700)
    working = settings.MAILERS
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": 9, "timeout": 2},  # nothing listens there
        }
    }
    counts = balance_reminders_run()
    assert (counts["low"], counts["sent"], counts["retry"]) == (1, 0, 1)
    delivery = Delivery.objects.across_hubs().get()
    assert delivery.status == "queued" and delivery.attempts == 1 and delivery.error
    settings.MAILERS = working
    assert balance_reminders_run()["sent"] == 1
    delivery.refresh_from_db()
    assert delivery.status == "sent" and delivery.error == "" and len(smtp_server) == 1


def test_the_command_runs_the_same_job(books, marie, smtp_server, capsys):
    books.spend(marie.account, 1700)
    call_command("reminders")
    assert "1 low" in capsys.readouterr().out and len(smtp_server) == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_send_each_reminder_once(books, smtp_server):
    records = []
    for n in range(20):
        record = customer_create(hub=books.hub, email=f"c{n}@example.org")
        books.top_up(record.account, 300)  # all below 5.00
        records.append(record)
    errors = []

    def run():
        try:
            balance_reminders_run()
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(m["To"] for m in smtp_server) == sorted(r.email for r in records)
    assert Delivery.objects.across_hubs().filter(status="sent").count() == 20


def test_through_an_anymail_provider_the_providers_message_id_is_kept(books, marie, settings):
    from django.core import mail

    settings.MAILERS = {"default": {"BACKEND": "anymail.backends.test.EmailBackend"}}
    books.spend(marie.account, 1700)
    assert balance_reminders_run()["sent"] == 1
    delivery = Delivery.objects.across_hubs().get()
    assert delivery.provider_message_id == str(mail.outbox[0].anymail_status.message_id) != "None"


def test_the_reminders_job_queues_and_the_sending_job_sends(books, marie, smtp_server):
    """Two periodic jobs: a slow scan does not hold up receipts, and a send that fails is retried
    by the sending job whatever queued it."""
    from hubtab.messaging.reminders import balance_reminders_queue
    from hubtab.messaging.tasks import deliveries_send

    books.spend(marie.account, 1700)
    assert balance_reminders_queue()["low"] == 1
    delivery = Delivery.objects.across_hubs().get()
    assert (delivery.status, len(smtp_server)) == ("queued", 0)
    assert deliveries_send.call()["sent"] == 1
    delivery.refresh_from_db()
    assert delivery.status == "sent" and len(smtp_server) == 1


def test_a_lead_who_never_used_their_account_is_not_reminded_of_a_low_balance(books, marie, smtp_server):
    customer_create(hub=books.hub, email="lead@example.org", first_name="Léa", last_name="Lead")  # balance 0, unused
    books.spend(marie.account, 1700)
    counts = balance_reminders_run()
    assert counts["low"] == 1
    assert [message["To"] for message in smtp_server] == ["marie@example.org"]

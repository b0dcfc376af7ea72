"""A customer's own pages: their accounts at every hub, one hub's figures and history, statements."""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.timezone import localtime

from hubtab.core.dates import day_short
from hubtab.core.models import Hub
from hubtab.core.money import (
    money_format,
    reader_locale,
)
from hubtab.crm.access import own_record_or_404
from hubtab.crm.forms import StatementPeriodForm
from hubtab.crm.portal_sections import portal_sections_render
from hubtab.crm.presenters import account_summary, history_line
from hubtab.crm.selectors import (
    customer_records_of_user,
)
from hubtab.crm.statements import statement_csv, statement_for, statement_pdf
from hubtab.ledger.selectors import (
    credit_expiring,
)

if TYPE_CHECKING:
    pass

EXPIRY_NOTICE_DAYS = 30  # granted credit expiring within this many days is pointed out to the customer


@login_required
def portal(request: HttpRequest) -> HttpResponse:
    """A customer's own page: each hub where they hold an account, balance and recent history."""
    assert request.user.pk is not None
    hubs = [account_summary(c.hub, c, last=10) for c in customer_records_of_user(user_id=request.user.pk)]
    return render(request, "crm/portal.html", {"hubs": hubs})


def _period(request: HttpRequest, hub: Hub) -> tuple[StatementPeriodForm, date, date]:
    today = timezone.localdate(timezone=ZoneInfo(hub.timezone))
    form = StatementPeriodForm(
        request.GET or None, initial={"first_day": today - timedelta(days=89), "last_day": today}
    )
    first_day, last_day = today - timedelta(days=89), today
    if form.is_valid():
        first_day = form.cleaned_data["first_day"] or first_day
        last_day = form.cleaned_data["last_day"] or last_day
    return form, first_day, last_day


@login_required
def portal_hub(request: HttpRequest, hub_slug: str) -> HttpResponse:
    """My account at one hub: figures, credit about to expire, what the domains above add (upcoming
    payments), and my history for a period, filtered."""
    record = own_record_or_404(request, hub_slug)
    hub = record.hub
    form, first_day, last_day = _period(request, hub)
    group = form.cleaned_data.get("group", "") if form.is_bound and form.is_valid() else ""
    statement = statement_for(hub=hub, customer=record, first_day=first_day, last_day=last_day, group=group)
    summary = account_summary(hub, record, last=0)
    unit = statement.unit
    soon = timezone.now() + timedelta(days=EXPIRY_NOTICE_DAYS)
    with timezone.override(hub.timezone):
        expiring = [
            {
                "amount": money_format(e.remaining_minor, unit, reader_locale()),
                "on": day_short(localtime(e.expires_at).date(), reader_locale()),
            }
            for e in credit_expiring(hub_id=hub.id, account_id=record.account_id, before=soon)
        ]
        lines = [history_line(hub, unit, line) for line in reversed(statement.lines)]
    return render(
        request,
        "crm/portal_hub.html",
        {
            "hub": hub,
            "summary": summary,
            "form": form,
            "lines": lines,
            "expiring": expiring,
            "sections": portal_sections_render(request=request, customer=record),  # e.g. upcoming payments
            "opening": money_format(statement.opening_minor, unit, reader_locale()),
            "closing": money_format(statement.closing_minor, unit, reader_locale()),
            "query": urlencode({"first_day": first_day.isoformat(), "last_day": last_day.isoformat(), "group": group}),
        },
    )


@login_required
def portal_statement(request: HttpRequest, hub_slug: str, fmt: str) -> HttpResponse:
    """My statement for the chosen period as a CSV or PDF file."""
    if fmt not in ("csv", "pdf"):
        raise Http404("Statements come as CSV or PDF.")
    record = own_record_or_404(request, hub_slug)
    hub = record.hub
    form, first_day, last_day = _period(request, hub)
    if form.is_bound and not form.is_valid():
        return HttpResponse(
            " ".join(str(m) for msgs in form.errors.values() for m in msgs), status=400, content_type="text/plain"
        )
    group = form.cleaned_data.get("group", "") if form.is_bound else ""
    statement = statement_for(hub=hub, customer=record, first_day=first_day, last_day=last_day, group=group)
    name = f"{hub.slug}-statement-{first_day.isoformat()}-{last_day.isoformat()}"
    if fmt == "pdf":
        response = HttpResponse(statement_pdf(statement), content_type="application/pdf")
    else:
        response = HttpResponse(statement_csv(statement), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response

"""The people list: its filter (in the address), columns, order, saved segments, the selection and
what crew do with it (tags, status, copy emails, export). Every list here is read by one selector,
crm.people.people_matching, from the same filter."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, QueryDict, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, ngettext
from django.views.decorators.http import require_http_methods

from hubtab.accounts.selectors import credit_unit_of
from hubtab.core.access import hub_view, may, request_user
from hubtab.core.errors import DomainError
from hubtab.core.models import Hub
from hubtab.core.money import Unit, reader_locale
from hubtab.core.permissions import Permission
from hubtab.core.services import audit_record
from hubtab.crm.cycles import cycle_choices
from hubtab.crm.exports import ExportOptions, customer_csv_rows
from hubtab.crm.filters import KINDS, MAX_CONDITIONS, FilterInput, PeopleFilter, filter_from_params, value_shown
from hubtab.crm.models import Customer, PersonStatus, Segment, Source
from hubtab.crm.people import COLUMNS, DEFAULT_COLUMNS, people_matching, people_sorted, sort_options
from hubtab.crm.presenters import customer_list_lines
from hubtab.crm.rows import customer_rows
from hubtab.crm.search import search_words
from hubtab.crm.segments import segment_delete, segment_filter, segment_get, segment_list, segment_save
from hubtab.crm.selectors import tag_names
from hubtab.crm.services import customers_status_set
from hubtab.crm.tags import tags_change

PAGE_SIZE = 50
MAX_SELECTED = 5000  # ids posted one by one; beyond, "all matching" carries the filter instead


@dataclass(frozen=True)
class ListRequest:
    """What the address asks of the list: the filter, the columns shown, the order, the segment."""

    read: FilterInput
    columns: list[str]
    order: str
    segment: Segment | None
    unit: Unit  # the hub's credit unit, read once per request: amounts in the address are in it

    @property
    def people(self) -> PeopleFilter:
        return self.read.filter

    def params(self, hub: Hub, *, with_order: bool = True, with_columns: bool = True) -> list[tuple[str, str]]:
        params = self.people.to_params(self.unit, reader_locale())
        if self.segment is not None:
            params.append(("segment", str(self.segment.id)))
        if with_columns and self.columns != DEFAULT_COLUMNS:
            params.append(("cols", ",".join(self.columns)))
        if with_order and self.order != "name":
            params.append(("order", self.order))
        return params

    def matching(self, hub: Hub) -> QuerySet[Customer]:
        return self.sort(people_matching(hub=hub, people=self.people), hub)

    def sort(self, people: QuerySet[Customer], hub: Hub) -> QuerySet[Customer]:
        return people_sorted(people, hub=hub, order=self.order, few=bool(search_words(self.people.query)))


class _PeoplePaginator(Paginator):
    """Pages of the sorted people, counted by the filter alone (not with the joins an order adds).
    Each page's rows are read afterwards for the 50 people shown (crm.rows.customer_rows): read
    with the page, they would be computed for every person an offset skips too."""

    def __init__(self, people: QuerySet[Customer], per_page: int, *, count_of: QuerySet[Customer]) -> None:
        super().__init__(people, per_page)
        self.count_of = count_of

    @cached_property
    def count(self) -> int:
        return self.count_of.count()


def _columns_key(hub: Hub) -> str:
    return f"crm-columns-{hub.id}"


def list_request(request: HttpRequest, hub: Hub, source: QueryDict | None = None) -> ListRequest:
    """Read the list's filter from the address (or a posted form): a `segment` without conditions
    of its own brings the segment's; columns chosen last are remembered for the next visit."""
    params = source if source is not None else request.GET
    segment = None
    if (segment_id := params.get("segment", "")).isdigit():
        segment = segment_get(hub=hub, segment_id=int(segment_id))
    unit = credit_unit_of(hub=hub)
    read = filter_from_params(params, unit=unit, locale=reader_locale())
    columns_typed = params.get("cols")
    if params.get("colset") == "1":  # the column chooser's boxes
        columns_typed = ",".join(params.getlist("col"))
    if segment is not None and not read.rows and not read.filter.query:
        saved = segment_filter(segment)
        shown = [(c.kind, value_shown(c, unit, reader_locale()), c.join) for c in saved.conditions]
        read = FilterInput(saved, {}, shown)
        columns_typed = columns_typed or ",".join(segment.columns) or None
    if columns_typed is not None:
        columns = [c for c in columns_typed.split(",") if c in COLUMNS] or DEFAULT_COLUMNS
        if source is None:
            request.session[_columns_key(hub)] = columns
    else:
        columns = [c for c in request.session.get(_columns_key(hub), DEFAULT_COLUMNS) if c in COLUMNS]
    columns = ["name", *[c for c in columns if c != "name"]]  # the name links to the person: always first
    running_low_only = [c.kind for c in read.filter.conditions] == ["running_low"]
    default_order = (
        segment.order if segment is not None and segment.order else "balance" if running_low_only else "name"
    )
    order = params.get("order", default_order)
    return ListRequest(read, columns, order if order in sort_options() else default_order, segment, unit)


@hub_view(Permission.VIEW_CUSTOMERS)
def customer_index(request: HttpRequest, hub: Hub) -> HttpResponse:
    wanted = list_request(request, hub)
    if "add" in request.GET and len(wanted.read.rows) < MAX_CONDITIONS:  # "+ condition" without JavaScript
        wanted.read.rows.append(("", "", "and"))
    matching = people_matching(hub=hub, people=wanted.people)
    paginator = _PeoplePaginator(wanted.sort(matching, hub), PAGE_SIZE, count_of=matching)
    page = paginator.get_page(request.GET.get("page"))
    rows = customer_list_lines(hub=hub, rows=customer_rows(hub=hub, customers=page), columns=wanted.columns)
    filter_params = urlencode(wanted.params(hub, with_order=False))
    return render(
        request,
        "crm/customer_index.html",
        {
            "hub": hub,
            "rows": rows,
            "page": page,
            "wanted": wanted,
            "query": wanted.people.query,
            "condition_rows": [
                {
                    "kind": kind,
                    "value": value,
                    "join": join,
                    "error": wanted.read.errors.get(i, ""),
                    "takes": KINDS[kind].takes.value if kind in KINDS else "text",
                }
                for i, (kind, value, join) in enumerate(wanted.read.rows or [("", "", "and")])
            ],
            "list_params": wanted.params(hub),
            "kinds": _kind_choices(),
            "columns": [
                {"code": c, "label": COLUMNS[c].label, "numeric": COLUMNS[c].numeric, "shown": c in wanted.columns}
                for c in COLUMNS
            ],
            "shown_columns": [
                {"code": c, "label": COLUMNS[c].label, "numeric": COLUMNS[c].numeric} for c in wanted.columns
            ],
            "order": wanted.order,
            "tags": tag_names(hub=hub),
            "statuses": PersonStatus.choices,
            "sources": Source.choices,
            "cycles": cycle_choices(hub=hub),
            "segments": segment_list(hub=hub),
            "segment": wanted.segment,
            "filter_params": filter_params,
            "pager_params": urlencode(wanted.params(hub)),
            "title": _list_title(wanted),
            "words": _selection_words(),
            "may_edit": may(request, Permission.EDIT_CUSTOMERS),
            "may_move_money": may(request, Permission.MOVE_MONEY),
        },
    )


def _selection_words() -> dict[str, Any]:
    """What the selection bar says, in both plural forms: the script picks one for the count."""

    def forms(say: Callable[[int], str]) -> dict[str, str]:
        return {"one": say(1), "other": say(2)}

    return {
        "none": _("Tick people to act on them, or:"),
        "some": forms(lambda n: ngettext("%(n)s selected.", "%(n)s selected.", n)),
        "all": forms(
            lambda n: ngettext("The %(n)s person matching is selected.", "All %(n)s matching are selected.", n)
        ),
        "copied": forms(
            lambda n: ngettext(
                "%(n)s email address copied: paste it into your mail program.",
                "%(n)s email addresses copied: paste them into your mail program.",
                n,
            )
        ),
        # After the count copied: how many of the selection have not agreed to marketing emails.
        "left_out": forms(
            lambda n: ngettext(
                "%(n)s person who has not agreed to marketing emails was left out.",
                "%(n)s people who have not agreed to marketing emails were left out.",
                n,
            )
        ),
        "not_agreed": forms(
            lambda n: ngettext(
                "%(n)s of them has not agreed to marketing emails: send them no newsletter.",
                "%(n)s of them have not agreed to marketing emails: send them no newsletter.",
                n,
            )
        ),
        "copy_yourself": forms(
            lambda n: ngettext(
                "%(n)s email address: select it and copy it.", "%(n)s email addresses: select them and copy them.", n
            )
        ),
    }


def _list_title(wanted: ListRequest) -> str:
    if wanted.segment is not None:
        return wanted.segment.name
    if [c.kind for c in wanted.people.conditions] == ["running_low"]:
        return _("Running low")
    return _("People")


def _kind_choices() -> list[dict[str, Any]]:
    """The builder's conditions, grouped by topic, each saying what value it takes."""
    topics: dict[str, dict[str, Any]] = {}
    for kind in KINDS.values():
        topic = topics.setdefault(str(kind.topic), {"label": kind.topic, "kinds": []})
        topic["kinds"].append({"code": kind.code, "label": kind.label, "takes": kind.takes.value})
    return list(topics.values())


@hub_view(Permission.VIEW_CUSTOMERS)
@require_http_methods(["POST"])
def segment_save_view(request: HttpRequest, hub: Hub) -> HttpResponse:
    """Save the list's current filter as a segment (or change the segment being shown)."""
    wanted = list_request(request, hub, source=request.POST)
    if wanted.read.errors:
        messages.error(request, _("Correct the conditions first."))
        return redirect(f"{reverse('customer_index', args=[hub.slug])}?{urlencode(wanted.params(hub))}")
    replacing = wanted.segment if request.POST.get("replace") == "1" else None
    name = replacing.name if replacing else request.POST.get("name", "")
    try:
        saved = segment_save(
            hub=hub,
            actor=request_user(request),
            name=name,
            people=wanted.people,
            columns=wanted.columns,
            order=wanted.order,
            segment=replacing,
        )
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect(f"{reverse('customer_index', args=[hub.slug])}?{urlencode(wanted.params(hub))}")
    messages.success(request, _("Segment “%(name)s” saved.") % {"name": saved.name})
    return redirect(f"{reverse('customer_index', args=[hub.slug])}?segment={saved.id}")


@hub_view(Permission.VIEW_CUSTOMERS)
@require_http_methods(["POST"])
def segment_delete_view(request: HttpRequest, hub: Hub, segment_id: int) -> HttpResponse:
    segment = segment_get(hub=hub, segment_id=segment_id)
    if segment is None:
        raise Http404("No such segment.")
    segment_delete(hub=hub, actor=request_user(request), segment=segment)
    messages.success(request, _("Segment “%(name)s” deleted.") % {"name": segment.name})
    return redirect("customer_segments", slug=hub.slug)


@hub_view(Permission.VIEW_CUSTOMERS)
def segments_page(request: HttpRequest, hub: Hub) -> HttpResponse:
    """The saved segments with their live counts."""
    lines, unit, locale = [], credit_unit_of(hub=hub), reader_locale()
    cycles = {cycle.id: cycle.name for cycle in cycle_choices(hub=hub)}
    for segment in segment_list(hub=hub):
        people = segment_filter(segment)
        lines.append({"segment": segment, "count": people_matching(hub=hub, people=people).count(),
                      "describe": people.describe(unit, locale, cycles)})  # fmt: skip
    return render(request, "crm/segments.html", {"hub": hub, "lines": lines})


# --- the selection -----------------------------------------------------------------------------------


def selected_people(
    request: HttpRequest, hub: Hub, params: QueryDict, *, none_means_all: bool = False
) -> tuple[QuerySet[Customer], str]:
    """The people a selection names: every one matching the list's filter ("all", or no one ticked
    when reading with `none_means_all`), or the ticked ids (only those the filter still shows, so
    a stale page cannot reach beyond it); and how the selection is described in the audit trail."""
    wanted = list_request(request, hub, source=params)
    matching = wanted.matching(hub)
    if params.get("all") == "1" or (none_means_all and not params.getlist("p")):
        return matching, wanted.people.describe(wanted.unit, reader_locale()) or gettext_noop("everyone")
    ids = [int(i) for i in params.getlist("p")[:MAX_SELECTED] if i.isdigit()]
    return matching.filter(id__in=ids), ""


@hub_view(Permission.EDIT_CUSTOMERS)
@require_http_methods(["POST"])
def customers_bulk(request: HttpRequest, hub: Hub) -> HttpResponse:
    """Add or remove tags, archive or restore, on the selection; audited, and in each timeline."""
    people, described = selected_people(request, hub, request.POST)
    action = request.POST.get("action", "")
    back = f"{reverse('customer_index', args=[hub.slug])}?{request.POST.get('back', '')}"
    chosen = people.count()
    if not chosen:
        messages.error(request, _("Select at least one person first."))
        return redirect(back)
    try:
        if action in ("tag", "untag"):
            names = [n.strip() for n in request.POST.get("tags", "").split(",") if n.strip()]
            if not names:
                raise DomainError("validation_error", _("Type the tags, separated by commas."))
            changed = tags_change(
                hub=hub, customers=people, add=names if action == "tag" else [],
                remove=names if action == "untag" else [], actor=request_user(request),
            )  # fmt: skip
        elif action in ("archive", "restore"):
            changed = customers_status_set(
                hub=hub,
                customers=people,
                archived=action == "archive",
                actor=request_user(request),
                selection=described,
            )
        else:
            raise DomainError("validation_error", _("Choose what to do with the selection."))
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect(back)
    messages.success(
        request,
        ngettext(
            "%(changed)s of %(chosen)s selected person changed.",
            "%(changed)s of %(chosen)s selected people changed.",
            chosen,
        )
        % {"changed": changed, "chosen": chosen},
    )
    return redirect(back)


@hub_view(Permission.VIEW_CUSTOMERS)
@require_http_methods(["GET", "POST"])
def customers_emails(request: HttpRequest, hub: Hub) -> HttpResponse:
    """The selection's email addresses, ready to paste into a mail program: as text for the page's
    copy button, or on a page with the text selected where the clipboard cannot be used. Unless
    crew untick "only those who agreed to marketing" (`marketing_only=0`), people without consent
    are left out; either way the reply says how many of the selection have none."""
    params = request.POST if request.method == "POST" else request.GET
    people, _described = selected_people(request, hub, params, none_means_all=True)
    marketing_only = params.get("marketing_only", "1") != "0"
    separator = "\n" if params.get("sep") == "newline" else ", "
    without_consent = people.filter(marketing_consent=False).count()
    emails = list((people.filter(marketing_consent=True) if marketing_only else people).values_list(
        "email", flat=True
    )[:20000])  # fmt: skip
    left_out = without_consent if marketing_only else 0
    text = separator.join(emails)
    audit_record(
        hub=hub, actor=request_user(request), action="customers.copy_emails",
        summary=gettext_noop("Copied %(count)s email addresses"), params={"count": len(emails)},
        data={"marketing_only": marketing_only, "without_consent": without_consent},
    )  # fmt: skip
    if params.get("format") == "text":
        response = HttpResponse(text, content_type="text/plain; charset=utf-8")
        response["X-Count"] = str(len(emails))
        response["X-Without-Consent"] = str(without_consent)
        response["X-Left-Out"] = str(left_out)
        return response
    carried = [
        (name, value)
        for name in params
        if name not in ("csrfmiddlewaretoken", "marketing_only", "format")
        for value in params.getlist(name)
    ]
    return render(
        request,
        "crm/customer_emails.html",
        {"hub": hub, "text": text, "count": len(emails), "back": params.get("back", ""),
         "marketing_only": marketing_only, "without_consent": without_consent, "left_out": left_out,
         "carried": carried},
    )  # fmt: skip


@hub_view(Permission.VIEW_CUSTOMERS)
@require_http_methods(["GET", "POST"])
def customer_export(request: HttpRequest, hub: Hub) -> StreamingHttpResponse:
    """The list (or the selection) as CSV: the columns shown, or Mailchimp's; `;` and a byte-order
    mark as the hub's spreadsheet program expects."""
    params = request.POST if request.method == "POST" else request.GET
    people, _described = selected_people(request, hub, params, none_means_all=True)
    wanted = list_request(request, hub, source=params)
    options = ExportOptions.read(params, hub=hub, columns=wanted.columns)
    audit_record(
        hub=hub,
        actor=request_user(request),
        action="customers.export",
        summary=gettext_noop("Exported the running-low list")
        if [c.kind for c in wanted.people.conditions] == ["running_low"]
        else gettext_noop("Exported the customer list"),
        data={"filter": wanted.people.to_json(), "rows": people.count(), "preset": options.preset},
    )
    running_low = [c.kind for c in wanted.people.conditions] == ["running_low"]
    name = wanted.segment.name if wanted.segment else "running-low" if running_low else "people"
    filename = f"{hub.slug}-{_safe_name(name)}-{timezone.localdate():%Y-%m-%d}.csv"
    response = StreamingHttpResponse(
        customer_csv_rows(hub=hub, customers=people, unit=wanted.unit, options=options),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _safe_name(text: str) -> str:
    return "".join(ch if ch.isalnum() else "-" for ch in text.lower()).strip("-")[:40] or "people"

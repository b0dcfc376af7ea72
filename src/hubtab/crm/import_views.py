"""Crew pages for importing people from a CSV file: upload, the dry run's report with the columns'
mapping, applying it (in the background) and its progress."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from hubtab.core.access import hub_view, request_user
from hubtab.core.errors import DomainError
from hubtab.core.models import Hub
from hubtab.core.permissions import Permission
from hubtab.crm.import_files import MAX_BYTES, MAX_ROWS, RECOGNISED_LABELS, TARGET_LABELS, Target, too_big
from hubtab.crm.import_plans import Outcome, report_rows
from hubtab.crm.imports import (
    customer_import_check,
    customer_import_create,
    customer_import_get,
    customer_import_start,
    customer_imports_recent,
)
from hubtab.crm.models import CustomerImport, ImportStatus

ROWS_PER_PAGE = 100


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("CSV file"),
        help_text=gettext_lazy(
            "UTF-8, Windows-1252 or Excel's Unicode text, separated by commas, semicolons or tabs; at most 5 MB "
            "(about 20,000 people). Open Food Network, Mailchimp and Shopify exports are recognised."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.txt,text/csv,text/plain"}),
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_BYTES:
            raise forms.ValidationError(too_big(upload.size))
        return upload


class ImportMappingForm(forms.Form):
    """One select per column of the file: which field of a person its cells go to."""

    def __init__(self, *args: Any, columns: list[dict[str, Any]], mapping: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [(str(target), label) for target, label in TARGET_LABELS.items()]
        self.columns = columns
        for index, column in enumerate(columns):
            self.fields[f"col_{index}"] = forms.ChoiceField(
                label=column["header"] or _("Column %(n)s") % {"n": index + 1},
                choices=choices,
                required=False,
                initial=mapping[index] if index < len(mapping) else "",
                help_text=", ".join(column["samples"]),
            )

    def mapping(self) -> list[str]:
        return [self.cleaned_data[f"col_{index}"] for index in range(len(self.columns))]


def _import_or_404(hub: Hub, import_id: int) -> CustomerImport:
    customer_import = customer_import_get(hub=hub, import_id=import_id)
    if customer_import is None:
        raise Http404("No such import.")
    return customer_import


@hub_view(Permission.EDIT_CUSTOMERS)
@require_http_methods(["GET", "POST"])
def customer_import_upload(request: HttpRequest, hub: Hub) -> HttpResponse:
    form = ImportUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            customer_import = customer_import_create(
                hub=hub, actor=request_user(request), filename=upload.name or "", raw=upload.read()
            )
        except DomainError as exc:
            form.add_error("file", exc.message)
        else:
            return redirect("customer_import_review", slug=hub.slug, import_id=customer_import.id)
    return render(
        request,
        "crm/import_upload.html",
        {"hub": hub, "form": form, "recent": customer_imports_recent(hub=hub), "max_rows": MAX_ROWS},
    )


@hub_view(Permission.EDIT_CUSTOMERS)
@require_http_methods(["GET", "POST"])
def customer_import_review(request: HttpRequest, hub: Hub, import_id: int) -> HttpResponse:
    customer_import = _import_or_404(hub, import_id)
    report = customer_import.report
    open_to_change = customer_import.status in (ImportStatus.CHECKED, ImportStatus.FAILED)
    form = ImportMappingForm(
        request.POST if request.method == "POST" else None,
        columns=report.get("columns", []),
        mapping=customer_import.mapping,
    )
    if request.method == "POST" and form.is_valid():
        try:
            customer_import_check(hub=hub, customer_import=customer_import, mapping=form.mapping())
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Checked again with the columns as you mapped them."))
            return redirect("customer_import_review", slug=hub.slug, import_id=customer_import.id)

    counts = report.get("counts", {})
    has_notes = bool(counts.get(Outcome.ERROR) or counts.get("warning"))
    show = request.GET.get("show", "problems" if has_notes else "")
    if show not in ("", "problems", *Outcome):
        show = ""
    page = Paginator(list(report_rows(report, show)), ROWS_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "crm/import_review.html",
        {
            "hub": hub,
            "customer_import": customer_import,
            "counts": counts,
            "new_tags": report.get("new_tags", []),
            "recognised": RECOGNISED_LABELS.get(customer_import.recognised, ""),
            "encoding": _encoding_label(customer_import.encoding),
            "delimiter": _delimiter_label(customer_import.delimiter),
            "form": form if open_to_change else None,
            "can_apply": customer_import.status == ImportStatus.CHECKED and not counts.get(Outcome.ERROR),
            "tabs": _tabs(counts),
            "show": show,
            "page": page,
            "lines": [_line(row) for row in page.object_list],
            "percent": _percent(customer_import),
        },
    )


@hub_view(Permission.EDIT_CUSTOMERS)
@require_http_methods(["POST"])
def customer_import_apply(request: HttpRequest, hub: Hub, import_id: int) -> HttpResponse:
    customer_import = _import_or_404(hub, import_id)
    try:
        customer_import_start(hub=hub, customer_import=customer_import, actor=request_user(request))
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("customer_import_review", slug=hub.slug, import_id=customer_import.id)


@hub_view(Permission.EDIT_CUSTOMERS)
@require_http_methods(["GET"])
def customer_import_progress(request: HttpRequest, hub: Hub, import_id: int) -> JsonResponse:
    """What the review page polls while the import is applied."""
    customer_import = _import_or_404(hub, import_id)
    return JsonResponse(
        {
            "status": customer_import.status,
            "rows_done": customer_import.rows_done,
            "rows_total": customer_import.rows_total,
            "percent": _percent(customer_import),
            "finished": customer_import.status in (ImportStatus.APPLIED, ImportStatus.FAILED),
        }
    )


def _percent(customer_import: CustomerImport) -> int:
    if customer_import.status == ImportStatus.APPLIED:
        return 100
    return min(100, customer_import.rows_done * 100 // customer_import.rows_total) if customer_import.rows_total else 0


def _encoding_label(encoding: str) -> str:
    return {
        "utf-8": _("UTF-8"),
        "utf-8-sig": _("UTF-8 with a byte-order mark (Excel's “CSV UTF-8”)"),
        "utf-16": _("UTF-16 (Excel's “Unicode text”)"),
        "cp1252": _("Windows-1252 (Excel's “CSV” on Windows)"),
    }.get(encoding, encoding)


def _delimiter_label(delimiter: str) -> str:
    return {",": _("commas"), ";": _("semicolons"), "\t": _("tabs")}.get(delimiter, delimiter)


def _tabs(counts: dict[str, int]) -> list[tuple[str, str, int]]:
    return [
        ("problems", _("Problems and warnings"), counts.get(Outcome.ERROR, 0) + counts.get("warning", 0)),
        (Outcome.CREATE, _("New"), counts.get(Outcome.CREATE, 0)),
        (Outcome.UPDATE, _("Updated"), counts.get(Outcome.UPDATE, 0)),
        (Outcome.UNCHANGED, _("Unchanged"), counts.get(Outcome.UNCHANGED, 0)),
        ("", _("All rows"), sum(counts.get(outcome, 0) for outcome in Outcome)),
    ]


def _field_label(name: str) -> str:
    try:
        return str(TARGET_LABELS[Target(name)])
    except ValueError:
        return name


def _problem_text(code: str, params: dict[str, Any]) -> str:
    texts = {
        "missing_email": _("No email address: each person needs one."),
        "bad_email": _("“%(email)s” is not a valid email address."),
        "duplicate": _("The same email as row %(row)s: a person is imported once."),
        "too_long": _("%(field)s is too long: at most %(max)s characters."),
        "tag_too_long": _("The tag “%(tag)s” is too long: at most %(max)s characters."),
        "too_many_cells": _(
            "This row has %(cells)s cells where the header has %(columns)s: a separator or quote is out of place."
        ),
        "bad_consent": _("“%(value)s” in the consent column means neither yes nor no."),
        "formula": _("%(field)s starts with “%(char)s”: kept as text, never run as a formula."),
        "archived": _("This person's record is archived: it is updated, not restored."),
    }
    if "field" in params:
        params = {**params, "field": _field_label(params["field"])}
    return texts.get(code, code) % params if code in texts else code


def _change_text(name: str, before: Any, after: Any, created: bool) -> str:
    if name == "tags":
        added = [tag for tag in after if tag not in before]
        return (_("Tags: %(tags)s") if created else _("Tags added: %(tags)s")) % {"tags": ", ".join(added)}
    if name == "consent":
        return _("Marketing consent: given") if after else _("Marketing consent: withdrawn")
    if created:
        return _("%(field)s: “%(after)s”") % {"field": _field_label(name), "after": after}
    return _("%(field)s: “%(before)s” → “%(after)s”") % {"field": _field_label(name), "before": before, "after": after}


OUTCOME_LABELS = {
    Outcome.CREATE: gettext_lazy("New"),
    Outcome.UPDATE: gettext_lazy("Updated"),
    Outcome.UNCHANGED: gettext_lazy("Unchanged"),
    Outcome.ERROR: gettext_lazy("Problem"),
}


def _line(row: dict[str, Any]) -> dict[str, Any]:
    created = row["outcome"] == Outcome.CREATE
    return {
        "row": row["row"],
        "email": row["email"],
        "outcome": row["outcome"],
        "outcome_label": OUTCOME_LABELS.get(row["outcome"], row["outcome"]),
        "problems": [_problem_text(code, params) for code, params in row["problems"]],
        "warnings": [_problem_text(code, params) for code, params in row["warnings"]],
        "changes": [_change_text(name, before, after, created) for name, (before, after) in row["changes"].items()],
        "new_tags": row["new_tags"],
    }

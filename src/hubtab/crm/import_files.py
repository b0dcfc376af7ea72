"""Reading a CSV file of people for an import: its bytes decoded (UTF-8, UTF-16, Windows-1252), its
dialect, and each column's field guessed from its header (Open Food Network's, Mailchimp's and
Shopify's exports are recognised) or chosen by crew."""

from __future__ import annotations

import codecs
import csv
import io
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from hubtab.core.errors import DomainError

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 20_000


class Target(StrEnum):
    """Where the cells of a column go."""

    IGNORE = ""
    EMAIL = "email"
    FIRST_NAME = "first_name"
    LAST_NAME = "last_name"
    PHONE = "phone"
    CODE = "code"
    ADDRESS = "address"
    TAGS = "tags"
    CONSENT = "consent"  # yes / no
    CONSENT_DATE = "consent_date"  # any value (a date): consent given (Mailchimp's CONFIRM_TIME)
    UNSUBSCRIBED_DATE = "unsubscribed_date"  # any value (a date): unsubscribed (Mailchimp's UNSUB_TIME)


TARGET_LABELS = {
    Target.IGNORE: gettext_lazy("Ignore"),
    Target.EMAIL: gettext_lazy("Email"),
    Target.FIRST_NAME: gettext_lazy("First name"),
    Target.LAST_NAME: gettext_lazy("Last name"),
    Target.PHONE: gettext_lazy("Phone"),
    Target.CODE: gettext_lazy("Customer code"),
    Target.ADDRESS: gettext_lazy("Address"),
    Target.TAGS: gettext_lazy("Tags"),
    Target.CONSENT: gettext_lazy("Marketing consent (yes / no)"),
    Target.CONSENT_DATE: gettext_lazy("Consent date (a date: consent given)"),
    Target.UNSUBSCRIBED_DATE: gettext_lazy("Unsubscribe date (a date: no consent)"),
}
# Several columns may feed an address (Shopify splits it) or tags; every other field takes one.
REPEATABLE = frozenset({Target.ADDRESS, Target.TAGS})
TEXT_FIELDS = (Target.FIRST_NAME, Target.LAST_NAME, Target.PHONE, Target.CODE, Target.ADDRESS)
MAX_LENGTH = {Target.EMAIL: 254, Target.FIRST_NAME: 100, Target.LAST_NAME: 100, Target.PHONE: 40, Target.CODE: 40}

# Headers as _header_key folds them: Hubtab's own export, Open Food Network's customer reports
# ("Email", "First Name", "Billing Address"...), Mailchimp's audience export ("Email Address",
# "Phone Number", "TAGS", "CONFIRM_TIME", "UNSUB_TIME") and Shopify's customer export ("Accepts Email
# Marketing", "Default Address Address1"...), plus the usual French words.
_ALIAS_WORDS: dict[Target, tuple[str, ...]] = {
    Target.EMAIL: ("email", "emailaddress", "email1", "mail", "courriel", "adresseemail", "adressemail"),
    Target.FIRST_NAME: ("firstname", "first", "givenname", "fname", "prenom"),
    Target.LAST_NAME: ("lastname", "last", "surname", "familyname", "lname", "nom", "nomdefamille"),
    Target.PHONE: ("phone", "phonenumber", "telephone", "tel", "mobile", "portable"),
    Target.CODE: ("code", "customercode", "codeclient"),
    Target.ADDRESS: ("address", "billingaddress", "adresse", "defaultaddressaddress1", "defaultaddressaddress2",
                     "defaultaddresscity", "defaultaddresszip"),
    Target.TAGS: ("tags", "tag", "etiquettes"),
    Target.CONSENT: ("marketingconsent", "acceptsemailmarketing", "acceptsmarketing", "consent", "newsletter",
                     "optin", "consentement"),
    Target.CONSENT_DATE: ("confirmtime",),
    Target.UNSUBSCRIBED_DATE: ("unsubtime",),
}  # fmt: skip
ALIASES = {word: target for target, words in _ALIAS_WORDS.items() for word in words}

RECOGNISED_LABELS = {
    "hubtab": gettext_lazy("a Hubtab export"),
    "ofn": gettext_lazy("an Open Food Network customer export"),
    "mailchimp": gettext_lazy("a Mailchimp audience export"),
    "shopify": gettext_lazy("a Shopify customer export"),
}


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


# --- reading the file ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class CsvFile:
    text: str  # as decoded, without a byte-order mark: what an import keeps
    encoding: str
    delimiter: str
    header: list[str]
    rows: list[tuple[int, list[str]]]  # (its row number as a spreadsheet shows it, its cells)
    blank_rows: int


def too_big(size: int) -> str:
    """Why a file of `size` bytes is refused, its size in the reader's number format."""
    return _(
        "This file is %(size)s MB; an import takes at most 5 MB (about 20,000 people). Split it into smaller files."
    ) % {"size": number_format(size / 1024 / 1024, 1)}


def file_read(raw: bytes) -> CsvFile:
    """The file's text and rows, or a DomainError that says what is wrong with it."""
    text, encoding = _decode(raw)
    return text_parse(text, encoding=encoding)


def _decode(raw: bytes) -> tuple[str, str]:
    if len(raw) > MAX_BYTES:
        raise DomainError("file_too_big", too_big(len(raw)))
    if not raw.strip():
        raise DomainError("file_empty", _("The file is empty."))
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        # Excel's "Unicode text": UTF-16, usually tab-separated.
        try:
            return raw.decode("utf-16"), "utf-16"
        except UnicodeDecodeError:
            raise _unreadable() from None
    if raw.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):
        raise DomainError(
            "file_spreadsheet",
            _("This is a spreadsheet workbook (.xlsx, .xls or .ods), not a CSV file. Open it in your spreadsheet "
              "program, save it as “CSV UTF-8” and upload that file."),
        )  # fmt: skip
    if b"\x00" in raw:
        raise _binary()
    try:
        text = raw.decode("utf-8-sig")
        encoding = "utf-8-sig" if raw.startswith(codecs.BOM_UTF8) else "utf-8"
    except UnicodeDecodeError:
        # Not UTF-8: Excel's "CSV" on Windows writes Windows-1252 (Western European).
        try:
            text, encoding = raw.decode("cp1252"), "cp1252"
        except UnicodeDecodeError:
            raise _unreadable() from None
    if len(_CONTROL.findall(text)) > max(3, len(text) // 200):
        raise _binary()
    return text, encoding


def _binary() -> DomainError:
    return DomainError(
        "file_binary",
        _("This is not a text file: it holds binary data, like an image or a program. Upload a CSV file "
          "(in a spreadsheet program, save it as “CSV UTF-8”)."),
    )  # fmt: skip


def _unreadable() -> DomainError:
    return DomainError(
        "file_encoding",
        _("The file's characters could not be read: it is neither UTF-8 nor Windows-1252 text. Save it as "
          "“CSV UTF-8” and upload it again."),
    )  # fmt: skip


def text_parse(text: str, *, encoding: str, delimiter: str = "") -> CsvFile:
    """The header and rows of decoded text; the delimiter is detected unless given. The first row
    with any text is the header; rows with no text at all are counted, not kept."""
    text = text.removeprefix("\ufeff")
    delimiter = delimiter or _delimiter_of(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header: list[str] | None = None
    rows: list[tuple[int, list[str]]] = []
    blank = 0
    try:
        for number, cells in enumerate(reader, start=1):
            if not any(cell.strip() for cell in cells):
                blank += header is not None
                continue
            if header is None:
                header = [cell.strip().removeprefix("\ufeff") for cell in cells]
                continue
            rows.append((number, cells))
            if len(rows) > MAX_ROWS:
                raise DomainError(
                    "file_too_many_rows",
                    _("This file has more than %(max)s people; an import takes at most %(max)s. Split it into "
                      "smaller files.") % {"max": f"{MAX_ROWS:,}"},
                )  # fmt: skip
    except csv.Error as exc:
        raise DomainError(
            "file_unreadable",
            _("Line %(line)s could not be read as CSV (%(reason)s). Check its quotes.")
            % {"line": reader.line_num, "reason": exc},
        ) from None
    if header is None:
        raise DomainError("file_empty", _("The file is empty."))
    if not rows:
        raise DomainError("file_header_only", _("The file has a header row but nobody under it."))
    return CsvFile(text=text, encoding=encoding, delimiter=delimiter, header=header, rows=rows, blank_rows=blank)


def _delimiter_of(text: str) -> str:
    """`,`, `;` (French Excel) or a tab: whichever splits the header row into the most columns."""
    first = text.lstrip("\r\n").split("\n", 1)[0].rstrip("\r")
    best, most = ",", 1
    for candidate in (",", ";", "\t"):
        count = len(next(csv.reader([first], delimiter=candidate), []))
        if count > most:
            best, most = candidate, count
    return best


# --- mapping the columns --------------------------------------------------------------------------------


def _header_key(header: str) -> str:
    """ "First Name", "first_name", "FIRST NAME" and "Prénom" fold to "firstname" / "prenom"."""
    folded = unicodedata.normalize("NFKD", header).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]", "", folded)


def mapping_guess(csv_file: CsvFile) -> tuple[list[str], str]:
    """Each column's field from its header (a field that takes one column takes the first), the
    email column found by its cells if no header names it; and whose export the headers are."""
    keys = [_header_key(header) for header in csv_file.header]
    mapping: list[str] = []
    for key in keys:
        target = ALIASES.get(key, Target.IGNORE)
        if target in mapping and target not in REPEATABLE:
            target = Target.IGNORE
        mapping.append(target)
    if Target.EMAIL not in mapping:
        column = _email_column(csv_file, mapping)
        if column is not None:
            mapping[column] = Target.EMAIL
    return [str(target) for target in mapping], _recognise(set(keys))


def _email_column(csv_file: CsvFile, mapping: list[str]) -> int | None:
    """The unmapped column whose cells (of the first 100 rows) are mostly email-like."""
    best, best_count = None, 0
    for column, target in enumerate(mapping):
        if target:
            continue
        cells = [cells[column].strip() for _number, cells in csv_file.rows[:100] if column < len(cells)]
        filled = [cell for cell in cells if cell]
        count = sum("@" in cell for cell in filled)
        if filled and count * 2 >= len(filled) and count > best_count:
            best, best_count = column, count
    return best


def _recognise(keys: set[str]) -> str:
    if keys & {"acceptsemailmarketing", "acceptsmarketing", "defaultaddressaddress1", "acceptssmsmarketing"}:
        return "shopify"
    if "emailaddress" in keys and keys & {"memberrating", "optintime", "confirmtime", "leid", "euid", "unsubtime"}:
        return "mailchimp"
    if {"email", "status", "source"} <= keys:
        return "hubtab"
    if "email" in keys and (keys & {"billingaddress", "hubaddress", "shippingmethod", "suburb"}):
        return "ofn"
    return ""


def mapping_clean(mapping: Iterable[str], *, width: int) -> list[str]:
    """The crew's mapping, checked: one target per column, an email column, and each field that
    takes one column taken by one at most."""
    try:
        targets = [Target(value) for value in mapping]
    except ValueError:
        raise DomainError("validation_error", _("Choose a field, or “Ignore”, for each column.")) from None
    if len(targets) != width:
        raise DomainError("validation_error", _("Choose a field, or “Ignore”, for each column."))
    if Target.EMAIL not in targets:
        raise DomainError(
            "mapping_no_email", _("Choose the column that holds the email addresses: each person needs an email.")
        )
    twice = sorted({t for t in targets if t and t not in REPEATABLE and targets.count(t) > 1})
    if twice:
        raise DomainError(
            "mapping_twice",
            _("Only one column can go to each of: %(fields)s.")
            % {"fields": ", ".join(str(TARGET_LABELS[target]) for target in twice)},
        )
    return [str(target) for target in targets]

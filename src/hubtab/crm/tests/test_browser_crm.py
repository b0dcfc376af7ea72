"""The CRM as a hub manager uses it, in a real Chromium, on a laptop and on a phone: build a segment
with the condition builder and save it, select everyone matching (beyond the page shown), copy their
emails (to the clipboard, or shown selected where there is none), tag a selection, export it as a
CSV file, import people with a dry run first, and write a note with a follow-up."""

from __future__ import annotations

import csv
import io
import unicodedata
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import expect

from hubtab.accounts.credit_settings import credit_settings_update
from hubtab.core.models import Role
from hubtab.core.services import membership_grant, user_create
from hubtab.crm.activity import ActivityKind, Ref, activity_record
from hubtab.crm.consent import consent_set
from hubtab.crm.models import ConsentSource, Customer, CustomerImport, ImportStatus, Note, Segment
from hubtab.crm.services import customer_archive, customer_create
from hubtab.testing import ARTIFACTS, browser_login, screenshot

pytestmark = pytest.mark.django_db(transaction=True)

SIZES = {"laptop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
FIRST = ["Marie", "Hugo", "Léa", "Zoé", "Noah", "Emma", "Louis", "Chloé", "Jules", "Inès", "Arthur", "Camille"]
LAST = ["Dubois", "Martin", "Petit", "Roux", "Moreau", "Fournier", "Girard"]
WEEKS_AGO = [1, 2, 3, 5, 10, 14, 20, 30]  # never 8: "within 8 weeks" has no one on its edge
PEOPLE = 56  # more than a page (50): "select all matching" must reach beyond it


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()


@pytest.fixture
def crm(books):
    """A hub with 56 people (one archived): every other one has the "veg box" tag, some "eggs";
    two in three bought something, 1 to 30 weeks ago; some hold credit, a few are in debt; all but
    one in six agreed to marketing emails.
    Returns the people's figures as the test expects them to be read."""
    hub = books.hub
    owner = user_create(email="owner@example.org", password="pw-long-enough", email_verified=True)
    membership_grant(hub=hub, user=owner, role=Role.OWNER)
    credit_settings_update(hub=hub, actor=owner, default_floor_minor=-5000)
    people = {}
    for n in range(PEOPLE):
        first, last = FIRST[n % len(FIRST)], LAST[n % len(LAST)]
        tags = ["veg box"] * (n % 2 == 0) + ["eggs"] * (n % 5 == 0)
        person = customer_create(
            hub=hub, email=f"{_ascii(first)}.{_ascii(last)}{n}@example.org", first_name=first, last_name=last, tags=tags
        )
        weeks_ago = WEEKS_AGO[n % len(WEEKS_AGO)] if n % 3 else None
        if weeks_ago is not None:
            activity_record(
                customer=person, kind=ActivityKind.ORDER_COMPLETED, key=f"order:{n}:completed",
                occurred_at=timezone.now() - timedelta(weeks=weeks_ago), amount_minor=1500 + 37 * n, unit="EUR",
                ref=Ref("order", 1000 + n),
            )  # fmt: skip
        balance_minor = 2000 + 13 * n if n % 4 == 0 else -1250 if n % 7 == 0 else 0
        if balance_minor > 0:
            books.top_up(person.account, balance_minor)
        elif balance_minor < 0:
            books.spend(person.account, -balance_minor)
        if n % 6:
            consent_set(hub=hub, customer=person, given=True, source=ConsentSource.CREW)
        people[person.email] = {"tags": tags, "weeks_ago": weeks_ago, "balance_minor": balance_minor, "record": person,
                                "consent": bool(n % 6)}  # fmt: skip
    archived = next(iter(people))
    customer_archive(hub=hub, customer=people.pop(archived)["record"])  # out of every list below
    return {"hub": hub, "owner": owner, "people": people}


def _veg_box_lately(crm) -> set[str]:
    return {
        email
        for email, p in crm["people"].items()
        if "veg box" in p["tags"] and p["weeks_ago"] is not None and p["weeks_ago"] < 8
    }


def _page(browser, live_server, device, **context):
    context = browser.new_context(viewport=SIZES[device], locale="en-GB", has_touch=device == "phone", **context)
    page = context.new_page()
    browser_login(page, live_server.url, "owner@example.org")
    page.wait_for_url("**/hubs/**")
    return page


def _open_people(page, device):
    page.get_by_role("link", name="Customers", exact=True).click()
    page.wait_for_url("**/customers/**")


def _tick(page, device, name):
    box = page.get_by_role("checkbox", name=f"Select {name}")
    if device == "phone":
        box.tap()  # a finger, not a mouse
    else:
        box.check()
    assert box.is_checked()


def _build_the_veg_box_segment(page):
    builder = page.locator("#people-filter")
    builder.get_by_label("Condition", exact=True).first.select_option("tags_any")
    builder.get_by_placeholder("veg box, school").fill("veg box")
    builder.get_by_role("button", name="+ Condition").click()
    builder.get_by_label("Condition", exact=True).nth(1).select_option("last_within")
    builder.get_by_label("Weeks").fill("8")
    builder.get_by_role("button", name="Show").last.click()
    page.wait_for_url("**c=last_within**")


def _clipboard_when_filled(page) -> str:
    for _ in range(50):
        if text := page.evaluate("navigator.clipboard.readText()"):
            return text
        page.wait_for_timeout(100)
    raise AssertionError("nothing was copied")


def _rows_shown(page) -> set[str]:
    return set(page.locator('table.people input[name="p"]').evaluate_all("boxes => boxes.map(b => b.dataset.email)"))


@pytest.mark.parametrize("device", ["laptop", "phone"])
def test_crew_build_a_segment_save_it_and_copy_everyone_matchings_emails(live_server, browser, crm, device):
    page = _page(
        browser, live_server, device, permissions=["clipboard-read", "clipboard-write"]
    )  # fmt: skip
    _open_people(page, device)
    _build_the_veg_box_segment(page)
    wanted = _veg_box_lately(crm)
    assert page.locator("[data-matching-count]").inner_text() == str(len(wanted))
    assert _rows_shown(page) == wanted
    page.locator("details.column-chooser summary").click()  # the builder with its columns open, for a look
    screenshot(page, f"crm-filter-{device}")

    page.get_by_label("Save as a segment").fill("Veg box, ordered lately")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text("Segment “Veg box, ordered lately” saved.")).to_be_visible()
    segment = Segment.objects.filter(hub=crm["hub"]).get()
    assert f"segment={segment.id}" in page.url
    assert page.get_by_role("link", name="Veg box, ordered lately").get_attribute("class").endswith("current")
    assert _rows_shown(page) == wanted

    # The segments page counts it live; its link brings the list back.
    page.get_by_role("link", name="Segments and counts").click()
    row = page.get_by_role("row").filter(has_text="Veg box, ordered lately")
    assert row.locator("td").nth(1).inner_text() == str(len(wanted))
    screenshot(page, f"crm-segments-{device}")
    row.get_by_role("link", name="Veg box, ordered lately").click()
    assert _rows_shown(page) == wanted

    # Everyone in use: 55 people, 50 on the page; "select all" takes the 55.
    page.get_by_role("link", name="Everyone in use").click()
    everyone = set(crm["people"])
    assert len(_rows_shown(page)) == 50
    page.get_by_role("button", name=f"Select all {len(everyone)} matching").click()
    expect(page.locator("[data-bulk-bar]").get_by_text(f"All {len(everyone)} matching are selected.")).to_be_visible()
    screenshot(page, f"crm-selection-{device}")
    # Only those who agreed to marketing, unless crew say otherwise; the rest are counted.
    agreed = {email for email in everyone if crm["people"][email]["consent"]}
    page.get_by_role("button", name="Copy emails").click()
    expect(page.get_by_text(f"{len(agreed)} email addresses copied")).to_be_visible()
    left_out = f"{len(everyone - agreed)} people who have not agreed to marketing emails were left out."
    expect(page.get_by_text(left_out)).to_be_visible()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert set(copied.split(", ")) == agreed
    page.evaluate("navigator.clipboard.writeText('')")
    page.get_by_label("Separate emails with").select_option("newline")
    page.get_by_label("Only those who agreed to marketing").uncheck()
    page.get_by_role("button", name="Copy emails").click()
    assert set(_clipboard_when_filled(page).split("\n")) == everyone
    expect(page.get_by_text(f"{len(everyone - agreed)} of them have not agreed to marketing emails")).to_be_visible()
    page.context.close()


@pytest.mark.parametrize("device", ["laptop", "phone"])
def test_without_a_clipboard_the_emails_are_shown_selected_ready_to_copy(live_server, browser, crm, device):
    page = _page(browser, live_server, device)
    page.add_init_script("Object.defineProperty(navigator, 'clipboard', {value: undefined})")
    _open_people(page, device)
    _build_the_veg_box_segment(page)
    matching = _veg_box_lately(crm)
    wanted = {email for email in matching if crm["people"][email]["consent"]}
    page.get_by_role("button", name=f"Select all {len(matching)} matching").click()
    page.get_by_role("button", name="Copy emails").click()
    shown = page.locator("[data-copy-result] textarea")
    expect(page.get_by_text(f"{len(wanted)} email addresses: select them and copy them.")).to_be_visible()
    assert set(shown.input_value().split(", ")) == wanted
    selected = shown.evaluate("area => area.selectionEnd - area.selectionStart === area.value.length")
    assert selected and shown.evaluate("area => document.activeElement === area")
    screenshot(page, f"crm-copy-fallback-{device}")
    page.context.close()


@pytest.mark.parametrize("device", ["laptop", "phone"])
def test_crew_tick_people_down_the_list_and_tag_them(live_server, browser, crm, device):
    page = _page(browser, live_server, device)
    _open_people(page, device)
    names = page.locator("table.people tbody td a").all_inner_texts()
    by_name = {p["record"].full_name: p["record"] for p in crm["people"].values()}
    picked = [by_name[names[30]], by_name[names[42]]]  # far below the selection bar
    for person in picked:
        _tick(page, device, person.full_name)
    bar = page.locator("[data-bulk-bar]")
    if device == "phone":  # the bar is off screen: a pill says how many, and leads back to it
        pill = page.locator("[data-selection-pill]")
        expect(pill).to_contain_text("2 selected.")
        page.screenshot(path=str(ARTIFACTS / f"crm-selection-pill-{device}.png"))  # the window, as seen
        pill.tap()
    else:  # the bar stays at the top of the window
        assert bar.bounding_box()["y"] < 5
    expect(bar.get_by_text("2 selected.")).to_be_in_viewport()
    bar.get_by_label("Tags").fill("christmas box")
    screenshot(page, f"crm-tagging-{device}")
    page.get_by_role("button", name="Add tags").click()
    expect(page.get_by_text("2 of 2 selected people changed.")).to_be_visible()
    tagged = Customer.objects.filter(hub=crm["hub"], tags__name="christmas box")
    assert set(tagged.values_list("id", flat=True)) == {p.id for p in picked}
    # In the person's timeline, and in the list's tags column (a laptop's).
    page.get_by_role("link", name=picked[0].full_name).first.click()
    expect(page.get_by_text("Tag added: christmas box")).to_be_visible()
    page.context.close()


def test_crew_export_the_selection_and_the_whole_segment_as_csv(live_server, browser, crm, tmp_path):
    page = _page(browser, live_server, "laptop")
    _open_people(page, "laptop")
    _build_the_veg_box_segment(page)
    wanted = _veg_box_lately(crm)
    page.get_by_role("button", name=f"Select all {len(wanted)} matching").click()
    page.get_by_text("Export CSV").click()
    menu = page.locator(".export-options .menu")
    assert menu.get_by_label("Separator").input_value() == "semicolon"  # a French hub: French Excel
    screenshot(page, "crm-export-laptop")
    with page.expect_download() as download:
        menu.get_by_role("button", name="Download").click()
    download.value.save_as(tmp_path / "all.csv")
    raw = (tmp_path / "all.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # marked as UTF-8 for Excel
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    assert {row["email"] for row in rows} == wanted
    assert {"first_name", "last_name", "email", "tags", "status", "last_purchase", "balance", "unit"} <= set(rows[0])
    assert all("veg box" in row["tags"] for row in rows)
    # Balances are numbers as French Excel reads them: a decimal comma, negative ones unquoted.
    for row in rows:
        balance_minor = crm["people"][row["email"]]["balance_minor"]
        assert row["balance"] == f"{balance_minor / 100:.2f}".replace(".", ",")

    # Two ticked, with commas and without the mark: the file has those two.
    page.get_by_role("button", name="Clear the selection").click()
    picked = sorted(wanted)[:2]
    for email in picked:
        page.locator(f'input[name="p"][data-email="{email}"]').check()
    menu.get_by_label("Separator").select_option("comma")
    menu.get_by_label("Mark as UTF-8 for Excel").uncheck()
    with page.expect_download() as download:
        menu.get_by_role("button", name="Download").click()
    download.value.save_as(tmp_path / "two.csv")
    raw = (tmp_path / "two.csv").read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf")
    assert sorted(row["email"] for row in csv.DictReader(io.StringIO(raw.decode()))) == picked
    page.context.close()


IMPORT_WITH_A_PROBLEM = (
    "Email;First Name;Last Name;Tags;Newsletter\n"
    "nina.roux@example.org;Nina;Roux;veg box;yes\n"
    "not-an-email;Paul;Blanc;;no\n"
)
IMPORT_RIGHT = (
    "Email;First Name;Last Name;Tags;Newsletter\n"
    "nina.roux@example.org;Nina;Roux;veg box, new;yes\n"
    "paul.blanc@example.org;Paul;Blanc;;no\n"
    "marie.dubois0@example.org;Marie;Dubois;school;\n"  # the archived Marie: updated, not added twice
)


@pytest.mark.parametrize("device", ["laptop", "phone"])
def test_crew_import_people_with_a_dry_run_first_then_apply_it(live_server, browser, crm, device):
    hub = crm["hub"]
    before = Customer.objects.filter(hub=hub).count()
    page = _page(browser, live_server, device)
    _open_people(page, device)
    page.get_by_role("link", name="Import").click()
    screenshot(page, f"crm-import-upload-{device}")
    page.get_by_label("CSV file").set_input_files(
        {"name": "people.csv", "mimeType": "text/csv", "buffer": IMPORT_WITH_A_PROBLEM.encode("cp1252")}
    )
    page.get_by_role("button", name="Check the file").click()
    expect(page.get_by_text("“not-an-email” is not a valid email address.")).to_be_visible()
    assert page.get_by_role("button", name="Import:").count() == 0  # nothing to apply while a row is wrong
    screenshot(page, f"crm-import-problems-{device}")
    assert Customer.objects.filter(hub=hub).count() == before  # a dry run writes nobody

    page.get_by_role("link", name="Imports").click()
    page.get_by_label("CSV file").set_input_files(
        {"name": "people-fixed.csv", "mimeType": "text/csv", "buffer": ("\ufeff" + IMPORT_RIGHT).encode()}
    )
    page.get_by_role("button", name="Check the file").click()
    cards = page.locator(".cards").last
    assert cards.get_by_text("New people").locator("..").inner_text().endswith("2")
    assert cards.get_by_text("To update").locator("..").inner_text().endswith("1")
    expect(page.get_by_text("New tags to be created:")).to_be_visible()
    screenshot(page, f"crm-import-review-{device}")
    assert Customer.objects.filter(hub=hub).count() == before

    # Applied in the background: the page shows its progress until the worker is done.
    page.get_by_role("button", name="Import: 2 new, 1 updated").click()
    expect(page.get_by_role("heading", name="Importing…")).to_be_visible()
    screenshot(page, f"crm-import-progress-{device}")
    call_command("db_worker", batch=True, no_startup_delay=True)
    page.get_by_text("Imported: 2 new, 1 updated, 0 unchanged.").wait_for(timeout=15000)
    screenshot(page, f"crm-import-done-{device}")
    assert CustomerImport.objects.filter(hub=hub).last().status == ImportStatus.APPLIED
    nina = Customer.objects.filter(hub=hub).get(email="nina.roux@example.org")
    assert nina.marketing_consent and nina.consent_source == "import"
    assert set(nina.tags.values_list("name", flat=True)) == {"veg box", "new"}
    marie = Customer.objects.filter(hub=hub).get(email="marie.dubois0@example.org")
    assert "school" in marie.tags.values_list("name", flat=True)
    assert Customer.objects.filter(hub=hub).count() == before + 2
    page.context.close()


@pytest.mark.parametrize("device", ["laptop", "phone"])
def test_crew_write_a_pinned_note_with_a_follow_up_that_the_overview_lists(live_server, browser, crm, device):
    hub = crm["hub"]
    person = next(p["record"] for p in crm["people"].values() if p["weeks_ago"] is not None)
    page = _page(browser, live_server, device)
    _open_people(page, device)
    page.get_by_label("Search people").fill(person.email)
    page.get_by_role("button", name="Show").first.click()
    page.get_by_role("link", name=person.full_name).click()
    # A person without notes has the form open.
    page.get_by_label("Note", exact=True).fill("Asks for a bigger veg box from June.\nCall back about the school box.")
    today = timezone.localdate(timezone=ZoneInfo(hub.timezone))
    page.get_by_label("Follow up on").fill(today.isoformat())
    page.get_by_label("Pin to the top").check()
    page.get_by_role("button", name="Add note").click()
    note = page.locator("#notes li").first
    assert "Asks for a bigger veg box from June." in note.inner_text()
    assert "owner@example.org" in note.inner_text()
    expect(note.get_by_text("Pinned")).to_be_visible()
    expect(note.get_by_text("Follow up today")).to_be_visible()
    expect(page.get_by_role("link", name="Note added: Asks for a bigger veg box")).to_be_visible()  # the timeline
    screenshot(page, f"crm-person-{device}")
    saved = Note.objects.filter(hub=hub).get()
    assert saved.pinned and saved.follow_up_on == today and saved.author == crm["owner"]

    page.get_by_role("link", name="Overview").click()
    follow_ups = page.locator("#follow-ups")
    expect(follow_ups.get_by_role("link", name=person.full_name)).to_be_visible()
    screenshot(page, f"crm-follow-ups-{device}")
    follow_ups.get_by_role("button", name="Done").click()
    expect(page.locator("#follow-ups")).to_have_count(0)
    saved.refresh_from_db()
    assert saved.follow_up_done_at is not None
    page.context.close()

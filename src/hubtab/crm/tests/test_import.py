"""Importing people from CSV: other platforms' exports mapped by themselves, a dry run that reports
every row and writes nothing, applying all or nothing in a background task, and the same file
twice changing nothing the second time."""

import codecs
import random
import time

import pytest
from django.urls import reverse

from hubtab.core.errors import DomainError
from hubtab.core.models import AuditEvent, Role, User
from hubtab.core.services import membership_grant
from hubtab.crm import imports
from hubtab.crm.consent import consent_set
from hubtab.crm.import_files import file_read, mapping_guess
from hubtab.crm.imports import customer_import_check, customer_import_create, customer_import_start
from hubtab.crm.models import Activity, ActivityKind, ConsentSource, Customer, CustomerImport, ImportStatus, Tag
from hubtab.crm.services import customer_create, customer_update

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def tasks_run_at_once(settings):
    """Background tasks run as they are queued, in the test's thread (the worker does it in production)."""
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture
def crew(hub):
    users = {}
    for role in (Role.OWNER, Role.FINANCE, Role.SUPPORT, Role.CUSTOMER):
        users[role.value] = User.objects.create_user(f"{role}@example.org", "pw-long-enough")
        membership_grant(hub=hub, user=users[role.value], role=role)
    return users


def upload(hub, content, actor=None, filename="people.csv"):
    raw = content.encode() if isinstance(content, str) else content
    return customer_import_create(hub=hub, actor=actor, filename=filename, raw=raw)


def apply(hub, customer_import, actor=None):
    customer_import_start(hub=hub, customer_import=customer_import, actor=actor)
    customer_import.refresh_from_db()
    return customer_import


def people(hub):
    return {c.email: c for c in Customer.objects.across_hubs().filter(hub=hub)}


def nothing_written(hub):
    return (
        not Customer.objects.across_hubs().filter(hub=hub).exists()
        and not Activity.objects.across_hubs().filter(hub=hub).exists()
        and not Tag.objects.across_hubs().filter(hub=hub).exists()
        and not AuditEvent.objects.filter(hub=hub, action="customers.import").exists()
    )


def rows_of(customer_import):
    return {row["row"]: row for row in customer_import.report["rows"]}


# --- other platforms' exports ---------------------------------------------------------------------------


def test_an_open_food_network_customer_report_maps_itself():
    csv_file = file_read(
        b"First Name,Last Name,Billing Address,Email,Phone,Hub,Hub Address,Shipping Method\n"
        b"Marie,Dubois,1 rue Haute Lyon,marie@example.org,0612345678,Green Valley,2 place,Pick-up\n"
    )
    assert mapping_guess(csv_file) == (["first_name", "last_name", "address", "email", "phone", "", "", ""], "ofn")
    mailing_list = file_read(b"Email,First Name,Last Name,Suburb\nmarie@example.org,Marie,Dubois,Lyon\n")
    assert mapping_guess(mailing_list) == (["email", "first_name", "last_name", ""], "ofn")


def test_open_food_network_customers_with_codes_and_tags_map_themselves(hub):
    imported = upload(
        hub, 'email,first_name,last_name,phone,code,tags\nann@example.org,Ann,Lee,0611,C-7,"veg, school"\n'
    )
    assert imported.mapping == ["email", "first_name", "last_name", "phone", "code", "tags"]
    apply(hub, imported)
    ann = people(hub)["ann@example.org"]
    assert (ann.first_name, ann.last_name, ann.phone, ann.code, ann.source) == ("Ann", "Lee", "0611", "C-7", "imported")
    assert sorted(t.name for t in ann.tags.all()) == ["school", "veg"]


MAILCHIMP_HEADER = (
    '"Email Address","First Name","Last Name","Address","Phone Number","MEMBER_RATING","OPTIN_TIME","OPTIN_IP",'
    '"CONFIRM_TIME","CONFIRM_IP","LATITUDE","LONGITUDE","GMTOFF","DSTOFF","TIMEZONE","CC","REGION","LAST_CHANGED",'
    '"LEID","EUID","NOTES","TAGS"'
)


def test_a_mailchimp_audience_export_maps_itself_and_its_subscribers_have_consented(hub):
    imported = upload(
        hub,
        MAILCHIMP_HEADER + "\n"
        '"Ann@Example.org","Ann","Lee","","+33 6 12 34 56 78",2,"",,"2024-03-01 10:00:00","1.2.3.4",,,,,,,,'
        '"2024-03-01 10:00:00","123","abc",,"""Customer"",""VIP"""\n',
    )
    assert imported.recognised == "mailchimp"
    assert imported.mapping[:5] == ["email", "first_name", "last_name", "address", "phone"]
    assert imported.mapping[8] == "consent_date" and imported.mapping[-1] == "tags"
    apply(hub, imported)
    ann = people(hub)["ann@example.org"]
    assert ann.phone == "+33 6 12 34 56 78"
    assert sorted(t.name for t in ann.tags.all()) == ["Customer", "VIP"]
    assert (ann.marketing_consent, ann.consent_source) == (True, ConsentSource.IMPORT)


def test_mailchimps_unsubscribed_export_withdraws_consent(hub):
    ann = customer_create(hub=hub, email="ann@example.org")
    consent_set(hub=hub, customer=ann, given=True, source=ConsentSource.CREW)
    imported = upload(
        hub,
        '"Email Address","First Name","Last Name","MEMBER_RATING","OPTIN_TIME","CONFIRM_TIME","UNSUB_TIME",'
        '"UNSUB_CAMPAIGN_TITLE","LEID"\n'
        '"ann@example.org","","",2,"","2024-03-01 10:00:00","2024-05-01 09:00:00","Spring news","1"\n',
    )
    assert imported.recognised == "mailchimp"
    assert rows_of(imported)[2]["changes"] == {"consent": [True, False]}
    apply(hub, imported)
    ann.refresh_from_db()
    assert (ann.marketing_consent, ann.consent_source) == (False, ConsentSource.IMPORT)
    assert Activity.objects.across_hubs().filter(customer=ann, kind=ActivityKind.CONSENT_WITHDRAWN).count() == 1


SHOPIFY_HEADER = (
    "Customer ID,First Name,Last Name,Email,Accepts Email Marketing,Default Address Company,"
    "Default Address Address1,Default Address Address2,Default Address City,Default Address Province Code,"
    "Default Address Country Code,Default Address Zip,Default Address Phone,Phone,Accepts SMS Marketing,"
    "Total Spent,Total Orders,Note,Tax Exempt,Tags"
)


def test_a_shopify_customer_export_maps_itself(hub):
    imported = upload(
        hub,
        SHOPIFY_HEADER + "\n"
        "'595909214328,Léa,Martin,lea@example.org,yes,,12 rue Neuve,Apt 3,Lyon,,FR,69001,,+33612345678,no,"
        '120.50,4,,no,"box, weekly"\n'
        "'595909214329,Hugo,Petit,hugo@example.org,no,,,,,,,,,,no,0.00,0,,no,\n",
    )
    assert imported.recognised == "shopify"
    assert imported.mapping[1:5] == ["first_name", "last_name", "email", "consent"]
    apply(hub, imported)
    found = people(hub)
    lea, hugo = found["lea@example.org"], found["hugo@example.org"]
    assert lea.address == "12 rue Neuve, Apt 3, Lyon, 69001"
    assert (lea.phone, lea.marketing_consent, hugo.marketing_consent) == ("+33612345678", True, False)
    assert sorted(t.name for t in lea.tags.all()) == ["box", "weekly"]


def test_a_file_of_unknown_columns_is_mapped_by_hand(hub):
    imported = upload(hub, "Contact;Nom complet;Groupe\nann@example.org;Ann Lee;Mardi\nbob@example.org;Bob;\n")
    # The email column is found by its cells; the others wait for the crew.
    assert (imported.delimiter, imported.mapping, imported.recognised) == (";", ["email", "", ""], "")
    checked = customer_import_check(hub=hub, customer_import=imported, mapping=["email", "first_name", "tags"])
    assert rows_of(checked)[2]["changes"] == {"first_name": ["", "Ann Lee"], "tags": [[], ["Mardi"]]}
    with pytest.raises(DomainError) as error:
        customer_import_check(hub=hub, customer_import=imported, mapping=["first_name", "last_name", "tags"])
    assert error.value.code == "mapping_no_email"
    with pytest.raises(DomainError) as error:
        customer_import_check(hub=hub, customer_import=imported, mapping=["email", "first_name", "first_name"])
    assert error.value.code == "mapping_twice"


# --- the dry run -----------------------------------------------------------------------------------------


def test_the_dry_run_reports_every_row_and_writes_nothing(hub):
    marie = customer_create(hub=hub, email="Marie@Example.org", first_name="Marie", last_name="Dubois", tags=["veg"])
    before = Activity.objects.across_hubs().filter(hub=hub).count()
    imported = upload(
        hub,
        "email,first_name,last_name,tags\n"
        "marie@example.org,Marie,Durand,school\n"  # 2: existing (any case): last name changes, a tag added
        "not-an-email,Bob,,\n"  # 3: a bad email
        "new@example.org,New,Person,brand new\n"  # 4: a new person with a new tag
        "NEW@example.org,Again,,\n"  # 5: the same email as row 4
        ",Nobody,,\n"  # 6: no email
        "\n"  # an empty row, skipped
        "marie.b@example.org,Marie,B,veg\n",  # 8: new, with an existing tag
    )
    rows = rows_of(imported)
    assert rows[2]["outcome"] == "update"
    assert rows[2]["changes"] == {"last_name": ["Dubois", "Durand"], "tags": [["veg"], ["school", "veg"]]}
    assert rows[2]["new_tags"] == ["school"]
    assert rows[3]["outcome"] == "error" and rows[3]["problems"] == [["bad_email", {"email": "not-an-email"}]]
    assert rows[4]["outcome"] == "create" and rows[4]["new_tags"] == ["brand new"]
    assert rows[4]["changes"] == {"first_name": ["", "New"], "last_name": ["", "Person"], "tags": [[], ["brand new"]]}
    assert rows[5]["problems"] == [["duplicate", {"row": 4}]]
    assert rows[6]["problems"] == [["missing_email", {}]]
    assert rows[8]["outcome"] == "create" and rows[8]["new_tags"] == []
    assert imported.report["counts"] == {"create": 2, "update": 1, "unchanged": 0, "error": 3, "warning": 0}
    assert imported.report["new_tags"] == ["brand new", "school"]
    assert imported.report["blank_rows"] == 1
    assert imported.status == ImportStatus.CHECKED
    # Nothing about people was written.
    marie.refresh_from_db()
    assert marie.last_name == "Dubois" and [t.name for t in marie.tags.all()] == ["veg"]
    assert list(people(hub)) == ["marie@example.org"]
    assert Activity.objects.across_hubs().filter(hub=hub).count() == before
    assert sorted(Tag.objects.across_hubs().filter(hub=hub).values_list("name", flat=True)) == ["veg"]


def test_rows_with_problems_block_applying_and_nothing_is_written(hub, crew):
    imported = upload(hub, "email,first_name\ngood@example.org,Good\nbad@,Bad\n")
    with pytest.raises(DomainError) as error:
        customer_import_start(hub=hub, customer_import=imported, actor=crew["owner"])
    assert error.value.code == "import_has_errors"
    imported.refresh_from_db()
    assert imported.status == ImportStatus.CHECKED
    assert nothing_written(hub)


def test_an_empty_cell_leaves_a_field_as_it_is_and_tags_are_added_not_replaced(hub):
    ann = customer_create(hub=hub, email="ann@example.org", first_name="Ann", phone="0611", tags=["school"])
    apply(hub, upload(hub, "email,first_name,phone,tags\nann@example.org,,,veg\n"))
    ann.refresh_from_db()
    assert (ann.first_name, ann.phone) == ("Ann", "0611")
    assert sorted(t.name for t in ann.tags.all()) == ["school", "veg"]


# --- applying --------------------------------------------------------------------------------------------


def test_applying_creates_leads_updates_people_and_records_it_once(hub, crew):
    ann = customer_create(hub=hub, email="ann@example.org", first_name="Ann", last_name="Lee")
    applied = apply(
        hub,
        upload(hub, "email,first_name,last_name,tags\nann@example.org,Ann,Leigh,veg\nbob@example.org,Bob,,veg\n"),
        actor=crew["support"],
    )
    assert applied.status == ImportStatus.APPLIED
    assert (applied.created_count, applied.updated_count, applied.unchanged_count) == (1, 1, 0)
    assert applied.rows_done == applied.rows_total == 2
    ann.refresh_from_db()
    bob = people(hub)["bob@example.org"]
    assert ann.last_name == "Leigh" and bob.source == "imported"
    imported_line = Activity.objects.across_hubs().get(customer=ann, kind=ActivityKind.IMPORTED)
    assert imported_line.actor == crew["support"]
    assert imported_line.data["changes"] == {"last_name": ["Lee", "Leigh"], "tags": [[], ["veg"]]}
    # The new person has their own "added" line, not an "updated by an import" one.
    assert not Activity.objects.across_hubs().filter(customer=bob, kind=ActivityKind.IMPORTED).exists()
    assert Activity.objects.across_hubs().filter(customer=bob, kind=ActivityKind.CUSTOMER_ADDED).count() == 1
    audit = AuditEvent.objects.filter(hub=hub, action="customers.import")
    assert audit.count() == 1 and audit.get().params == {
        "filename": "people.csv", "created": 1, "updated": 1, "unchanged": 0
    }  # fmt: skip
    assert not AuditEvent.objects.filter(hub=hub, action__in=["customer.create", "customer.update"]).exists()


def test_the_same_file_imported_twice_changes_nothing_the_second_time(hub, crew):
    text = "email,first_name,tags,consent\nann@example.org,Ann,veg,yes\nbob@example.org,Bob,,no\n"
    apply(hub, upload(hub, text), actor=crew["owner"])
    activities = Activity.objects.across_hubs().filter(hub=hub).count()
    again = upload(hub, text)
    assert again.report["counts"] == {"create": 0, "update": 0, "unchanged": 2, "error": 0, "warning": 0}
    applied = apply(hub, again, actor=crew["owner"])
    assert (applied.created_count, applied.updated_count, applied.unchanged_count) == (0, 0, 2)
    assert Activity.objects.across_hubs().filter(hub=hub).count() == activities
    assert len(people(hub)) == 2
    last = AuditEvent.objects.filter(hub=hub, action="customers.import").order_by("-id").first()
    assert last.params == {"filename": "people.csv", "created": 0, "updated": 0, "unchanged": 2}


def test_applying_is_all_or_nothing(hub, crew, monkeypatch):
    """Whatever fails half-way (here after the new people and Ann's change are written), nobody is
    changed and the import says why."""
    ann = customer_create(hub=hub, email="ann@example.org", first_name="Ann")
    real_change = imports._Writer.change

    def change_then_fail(self, rows, plan):
        real_change(self, rows, plan)
        raise DomainError("customer_exists", "Someone else added this person meanwhile.")

    monkeypatch.setattr(imports._Writer, "change", change_then_fail)
    imported = upload(
        hub,
        "email,first_name,tags\nann@example.org,Anne,veg\nb@example.org,B,veg\nc@example.org,C,\nd@example.org,D,\n",
    )
    activities = Activity.objects.across_hubs().filter(hub=hub).count()
    failed = apply(hub, imported, actor=crew["owner"])
    assert failed.status == ImportStatus.FAILED
    assert failed.error == "Someone else added this person meanwhile."
    ann.refresh_from_db()
    assert ann.first_name == "Ann" and not ann.tags.exists()
    assert list(people(hub)) == ["ann@example.org"]
    assert Activity.objects.across_hubs().filter(hub=hub).count() == activities
    assert not Tag.objects.across_hubs().filter(hub=hub).exists()
    assert not AuditEvent.objects.filter(hub=hub, action="customers.import").exists()
    # Checked again, it can be applied.
    monkeypatch.setattr(imports._Writer, "change", real_change)
    assert apply(hub, customer_import_check(hub=hub, customer_import=failed), crew["owner"]).status == "applied"
    assert len(people(hub)) == 4


def test_an_import_is_applied_once_even_if_asked_twice(hub, crew):
    imported = upload(hub, "email\nann@example.org\n")
    apply(hub, imported, actor=crew["owner"])
    with pytest.raises(DomainError) as error:
        customer_import_start(hub=hub, customer_import=imported, actor=crew["owner"])
    assert error.value.code == "import_not_ready"
    assert AuditEvent.objects.filter(hub=hub, action="customers.import").count() == 1


def test_the_check_is_made_again_when_applying(hub, crew):
    """Someone added a person after the dry run: applying updates them rather than adding them twice."""
    imported = upload(hub, "email,first_name\nann@example.org,Ann\n")
    customer_create(hub=hub, email="ANN@example.org", first_name="")
    applied = apply(hub, imported, actor=crew["owner"])
    assert (applied.created_count, applied.updated_count) == (0, 1)
    assert people(hub)["ann@example.org"].first_name == "Ann"


# --- consent ---------------------------------------------------------------------------------------------


def test_consent_is_recorded_with_its_source_and_time_and_a_no_withdraws_it(hub, crew):
    given = customer_create(hub=hub, email="given@example.org")
    consent_set(hub=hub, customer=given, given=True, source=ConsentSource.CREW)
    kept = customer_create(hub=hub, email="kept@example.org")
    consent_set(hub=hub, customer=kept, given=True, source=ConsentSource.CREW)
    applied = apply(
        hub,
        upload(
            hub,
            "email,marketing consent\nyes@example.org,Oui\nsub@example.org,subscribed\nno@example.org,no\n"
            "given@example.org,unsubscribed\nkept@example.org,\n",
        ),
        actor=crew["owner"],
    )
    found = people(hub)
    for email in ("yes@example.org", "sub@example.org"):
        person = found[email]
        assert (person.marketing_consent, person.consent_source) == (True, ConsentSource.IMPORT)
        assert person.consent_changed_at is not None and person.consent_changed_at >= applied.started_at
        assert Activity.objects.across_hubs().filter(customer=person, kind=ActivityKind.CONSENT_GIVEN).count() == 1
    assert found["no@example.org"].marketing_consent is False
    assert found["no@example.org"].consent_changed_at is None
    assert (found["given@example.org"].marketing_consent, found["given@example.org"].consent_source) == (
        False, ConsentSource.IMPORT
    )  # fmt: skip
    assert (found["kept@example.org"].marketing_consent, found["kept@example.org"].consent_source) == (
        True, ConsentSource.CREW
    )  # fmt: skip


def test_a_consent_that_says_neither_yes_nor_no_is_a_problem_not_a_guess(hub):
    imported = upload(hub, "email,consent\nann@example.org,maybe\n")
    assert rows_of(imported)[2]["problems"] == [["bad_consent", {"value": "maybe"}]]


# --- hostile files -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"", "file_empty"),
        (b"  \r\n\r\n", "file_empty"),
        (b"email,first_name\r\n", "file_header_only"),
        (b"email,first_name\n\n\n", "file_header_only"),
        (bytes(random.Random(7).randrange(256) for _ in range(4000)) + b"\x00", "file_binary"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x01\x02\x03\x04" * 50, "file_binary"),
        (b"PK\x03\x04\x14\x00\x06\x00" + b"\x00" * 100, "file_spreadsheet"),
        (b"email,first_name\n\x81\x8d\x8f@example.org,Ann\n", "file_encoding"),
        (b"Name,Town\nAnn Lee,Lyon\nBob Ray,Paris\n", "file_no_email_column"),
        (b"email\n" + b"x" * (5 * 1024 * 1024), "file_too_big"),
        (b'email,first_name\nann@example.org,"never closed\n' + b"x" * 140_000, "file_unreadable"),
    ],
    ids=[
        "empty", "blank lines", "header only", "header and blank lines", "binary", "image", "xlsx",
        "neither utf-8 nor windows-1252", "no email column", "over 5 MB", "a quote never closed",
    ],
)  # fmt: skip
def test_a_file_that_cannot_be_imported_is_refused_with_a_reason_and_writes_nothing(hub, content, code):
    with pytest.raises(DomainError) as error:
        upload(hub, content)
    assert error.value.code == code and error.value.message
    assert not CustomerImport.objects.across_hubs().filter(hub=hub).exists()
    assert nothing_written(hub)


def test_a_file_of_more_than_20000_people_is_refused(hub):
    content = "email\n" + "".join(f"p{n}@example.org\n" for n in range(20_001))
    with pytest.raises(DomainError) as error:
        upload(hub, content)
    assert error.value.code == "file_too_many_rows" and "20,000" in error.value.message
    assert nothing_written(hub)


def test_windows_1252_is_read_as_such(hub):
    imported = upload(hub, "email;prénom;nom\nlea@example.org;Léa;Müller-Œuvré\n".encode("cp1252"))
    assert (imported.encoding, imported.delimiter) == ("cp1252", ";")
    assert imported.mapping == ["email", "first_name", "last_name"]
    apply(hub, imported)
    lea = people(hub)["lea@example.org"]
    assert (lea.first_name, lea.last_name) == ("Léa", "Müller-Œuvré")


def test_a_byte_order_mark_does_not_hide_the_first_column(hub):
    imported = upload(hub, codecs.BOM_UTF8 + "Email;Prénom\nlea@example.org;Léa\n".encode())
    assert (imported.encoding, imported.delimiter, imported.mapping) == ("utf-8-sig", ";", ["email", "first_name"])
    apply(hub, imported)
    assert people(hub)["lea@example.org"].first_name == "Léa"


def test_excels_unicode_text_is_read(hub):
    imported = upload(hub, "Email\tFirst Name\nlea@example.org\tLéa\n".encode("utf-16"))
    assert (imported.encoding, imported.delimiter, imported.mapping) == ("utf-16", "\t", ["email", "first_name"])


def test_formula_cells_are_kept_as_text_with_a_warning_and_numbers_are_not_formulas(hub):
    imported = upload(
        hub,
        "email,first_name,last_name,phone,tags\n"
        "ann@example.org,=cmd|' /C calc'!A0,@SUM(A1),+33 6 12 34 56 78,=HYPERLINK(\"x\")\n"
        "bob@example.org,Bob,-12.50,-1,\n",
    )
    rows = rows_of(imported)
    assert rows[2]["warnings"] == [
        ["formula", {"field": "first_name", "char": "="}], ["formula", {"field": "last_name", "char": "@"}],
        ["formula", {"field": "tags", "char": "="}],
    ]  # fmt: skip
    assert rows[3]["warnings"] == []
    assert rows[2]["outcome"] == "create"  # a warning does not block
    apply(hub, imported)
    ann = people(hub)["ann@example.org"]
    # Stored as written, not stripped: the exports neutralise such cells on the way out.
    assert (ann.first_name, ann.last_name) == ("=cmd|' /C calc'!A0", "@SUM(A1)")
    assert [t.name for t in ann.tags.all()] == ['=HYPERLINK("x")']


def test_a_row_with_too_many_cells_and_a_value_too_long_are_problems(hub):
    imported = upload(hub, f"email,first_name\nann@example.org,Ann,Extra\nbob@example.org,{'B' * 101}\n")
    rows = rows_of(imported)
    assert rows[2]["problems"] == [["too_many_cells", {"cells": 3, "columns": 2}]]
    assert rows[3]["problems"] == [["too_long", {"field": "first_name", "max": 100}]]


@pytest.mark.slow
def test_ten_thousand_rows_are_checked_and_applied_in_one_go(hub, crew):
    for n in range(0, 10_000, 10):  # a tenth are people already here
        customer_create(hub=hub, email=f"person{n}@example.org", first_name="Old")
    lines = ["email;first_name;last_name;phone;tags;consent"]
    lines += [
        f"person{n}@example.org;P{n};Imported;06{n:08d};batch {n % 7};{'yes' if n % 2 else ''}" for n in range(10_000)
    ]
    content = codecs.BOM_UTF8 + ("\r\n".join(lines) + "\r\n").encode()
    started = time.perf_counter()
    imported = upload(hub, content)
    checked = time.perf_counter()
    assert imported.report["counts"] == {"create": 9000, "update": 1000, "unchanged": 0, "error": 0, "warning": 0}
    applied = apply(hub, imported, actor=crew["owner"])
    done = time.perf_counter()
    print(f"\n10,000 rows: dry run {checked - started:.1f} s, applied in {done - checked:.1f} s")
    assert applied.status == ImportStatus.APPLIED, applied.error
    assert (applied.created_count, applied.updated_count, applied.rows_done) == (9000, 1000, 10_000)
    assert Customer.objects.across_hubs().filter(hub=hub).count() == 10_000
    assert Activity.objects.across_hubs().filter(hub=hub, kind=ActivityKind.IMPORTED).count() == 1000


# --- the pages ---------------------------------------------------------------------------------------------


def test_support_uploads_reviews_and_applies_an_import_through_the_pages(client, hub, crew):
    customer_create(hub=hub, email="ann@example.org", first_name="Ann")
    client.force_login(crew["support"])
    upload_url = reverse("customer_import", kwargs={"slug": hub.slug})
    assert client.get(upload_url).status_code == 200
    from django.core.files.uploadedfile import SimpleUploadedFile

    file = SimpleUploadedFile("crm.csv", b"Email,First Name,Tags\nann@example.org,Anne,veg\nbob@example.org,Bob,\n")
    response = client.post(upload_url, {"file": file})
    imported = CustomerImport.objects.across_hubs().get(hub=hub)
    review_url = reverse("customer_import_review", kwargs={"slug": hub.slug, "import_id": imported.id})
    assert response.status_code == 302 and response["Location"] == review_url
    page = client.get(review_url + "?show=").content.decode()
    assert "Import: 1 new, 1 updated" in page
    assert "First name: “Ann” → “Anne”" in page and "Tags added: veg" in page
    assert "bob@example.org" in page
    assert people(hub)["ann@example.org"].first_name == "Ann"  # the dry run changed nothing

    response = client.post(reverse("customer_import_apply", kwargs={"slug": hub.slug, "import_id": imported.id}))
    assert response.status_code == 302 and response["Location"] == review_url
    assert "Imported: 1 new, 1 updated, 0 unchanged." in client.get(review_url).content.decode()
    assert people(hub)["ann@example.org"].first_name == "Anne"
    progress = client.get(reverse("customer_import_progress", kwargs={"slug": hub.slug, "import_id": imported.id}))
    assert progress.json() == {"status": "applied", "rows_done": 2, "rows_total": 2, "percent": 100, "finished": True}
    assert imported.filename in client.get(upload_url).content.decode()


def test_the_page_shows_why_a_file_is_refused_and_that_rows_with_problems_block_applying(client, hub, crew):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(crew["owner"])
    upload_url = reverse("customer_import", kwargs={"slug": hub.slug})
    page = client.post(upload_url, {"file": SimpleUploadedFile("x.csv", b"\x00\x01binary")}).content.decode()
    assert "This is not a text file" in page
    client.post(upload_url, {"file": SimpleUploadedFile("x.csv", b"email\nann@example.org\nnope\n")})
    imported = CustomerImport.objects.across_hubs().get(hub=hub)
    review_url = reverse("customer_import_review", kwargs={"slug": hub.slug, "import_id": imported.id})
    page = client.get(review_url).content.decode()
    assert "1 row has a problem. Nothing can be imported" in page
    assert "“nope” is not a valid email address." in page
    assert reverse("customer_import_apply", kwargs={"slug": hub.slug, "import_id": imported.id}) not in page
    # Mapping the columns again on the page runs the dry run again.
    response = client.post(review_url, {"col_0": "first_name"})
    assert "Choose the column that holds the email addresses" in response.content.decode()


def test_a_page_of_an_import_being_applied_polls_its_progress(client, hub, crew):
    imported = upload(hub, "email\nann@example.org\n")
    CustomerImport.objects.across_hubs().filter(id=imported.id).update(status=ImportStatus.APPLYING, rows_done=0)
    client.force_login(crew["owner"])
    page = client.get(reverse("customer_import_review", kwargs={"slug": hub.slug, "import_id": imported.id}))
    assert b"data-import-progress" in page.content and b"crm/import.js" in page.content
    progress = client.get(reverse("customer_import_progress", kwargs={"slug": hub.slug, "import_id": imported.id}))
    assert progress.json()["finished"] is False


@pytest.mark.parametrize(("role", "status"), [("owner", 200), ("support", 200), ("finance", 403), ("customer", 403)])
def test_who_may_import(client, hub, crew, role, status):
    imported = upload(hub, "email\nann@example.org\n")
    client.force_login(crew[role])
    assert client.get(reverse("customer_import", kwargs={"slug": hub.slug})).status_code == status
    kwargs = {"slug": hub.slug, "import_id": imported.id}
    assert client.get(reverse("customer_import_review", kwargs=kwargs)).status_code == status
    assert client.get(reverse("customer_import_progress", kwargs=kwargs)).status_code == status
    response = client.post(reverse("customer_import_apply", kwargs=kwargs))
    assert response.status_code == (302 if status == 200 else 403)
    assert Customer.objects.across_hubs().filter(hub=hub).exists() == (status == 200)


def test_another_hubs_import_is_not_found(client, hub, other_hub, crew):
    theirs = upload(other_hub, "email\nann@example.org\n")
    client.force_login(crew["owner"])
    for name in ("customer_import_review", "customer_import_progress"):
        assert client.get(reverse(name, kwargs={"slug": hub.slug, "import_id": theirs.id})).status_code == 404
    assert (
        client.post(reverse("customer_import_apply", kwargs={"slug": hub.slug, "import_id": theirs.id})).status_code
        == 404
    )
    assert not Customer.objects.across_hubs().filter(hub=other_hub).exists()


def test_an_edit_of_the_person_after_the_import_is_kept_by_a_second_import(hub):
    """The file fills fields; what the crew changed since stays unless the file says otherwise."""
    apply(hub, upload(hub, "email,first_name\nann@example.org,Ann\n"))
    ann = people(hub)["ann@example.org"]
    customer_update(hub=hub, customer=ann, phone="0611")
    again = upload(hub, "email,first_name\nann@example.org,Ann\n")
    assert again.report["counts"]["unchanged"] == 1


def test_a_file_is_judged_by_the_import_but_a_nul_in_the_forms_other_fields_is_still_refused(client, hub, crew):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(crew["owner"])
    upload_url = reverse("customer_import", kwargs={"slug": hub.slug})
    utf16 = SimpleUploadedFile("unicode.txt", "Email\tFirst Name\nlea@example.org\tLéa\n".encode("utf-16"))
    assert client.post(upload_url, {"file": utf16}).status_code == 302
    assert CustomerImport.objects.across_hubs().get(hub=hub).encoding == "utf-16"
    file = SimpleUploadedFile("x.csv", b"email\nann@example.org\n")
    response = client.post(upload_url, {"file": file, "note": "a\x00b"})
    assert response.status_code == 400 and b"NUL character" in response.content

"""The HTTP API v1 as an integrating shop sees it: tokens, scopes, idempotency, errors, isolation."""

import json

import pytest
from django.core.management import call_command
from django.urls import reverse

from hubtab.api.models import IdempotencyRecord
from hubtab.api.services import token_create
from hubtab.crm.services import customer_create
from hubtab.ledger.models import Transaction
from hubtab.ledger.services import account_floor_set

pytestmark = pytest.mark.django_db

ALL = ["customers:read", "customers:write", "accounts:read", "accounts:write"]


@pytest.fixture
def token(hub):
    return token_create(hub=hub, name="Shop", scopes=ALL, created_by=None)[1]


class Api:
    def __init__(self, client, token):
        self.client, self.token, self.n = client, token, 0

    def headers(self, key=None):
        headers = {"Authorization": f"Bearer {self.token}"}
        if key is not False:
            self.n += 1
            headers["Idempotency-Key"] = key or f"k-{self.n}"
        return headers

    def get(self, path, **params):
        return self.client.get("/api/v1" + path, params, headers=self.headers(False))

    def post(self, path, body=None, key=None):
        return self.client.post(
            "/api/v1" + path, json.dumps(body or {}), content_type="application/json", headers=self.headers(key)
        )

    def patch(self, path, body):
        return self.client.patch(
            "/api/v1" + path, json.dumps(body), content_type="application/json", headers=self.headers(False)
        )


@pytest.fixture
def api(client, token):
    return Api(client, token)


@pytest.fixture
def marie(api):
    response = api.post("/customers", {"email": "marie@example.org", "first_name": "Marie", "tags": ["box"]})
    assert response.status_code == 201, response.content
    return response.json()


def test_the_openapi_document_is_served(client):
    document = client.get("/api/v1/openapi.json").json()
    assert document["info"]["title"] == "Hubtab API"
    assert "/api/v1/customers/{customer_id}/account/charges" in document["paths"]


def test_a_shop_creates_a_customer_credits_and_charges_them(api, marie):
    assert marie["email"] == "marie@example.org" and marie["tags"] == ["box"]
    cid = marie["id"]
    assert api.get(f"/customers/{cid}").json()["first_name"] == "Marie"
    assert api.get(f"/customers/{cid}/account").json() == {
        "unit": "EUR", "decimals": 2, "balance": 0, "held": 0, "floor": 0, "spendable": 0,
    }  # fmt: skip
    credited = api.post(f"/customers/{cid}/account/credits", {"amount": 3000, "reason": "Welcome"})
    assert credited.status_code == 201 and credited.json()["account"]["balance"] == 3000
    charged = api.post(f"/customers/{cid}/account/charges", {"amount": 1250, "reference": "order-17"})
    assert charged.status_code == 201 and charged.json()["account"]["spendable"] == 1750
    too_much = api.post(f"/customers/{cid}/account/charges", {"amount": 1751, "reference": "order-18"})
    assert too_much.status_code == 422 and too_much.json()["error"]["code"] == "insufficient_funds"
    entries = api.get(f"/customers/{cid}/account/entries").json()["items"]
    assert [(e["kind"], e["amount"], e["balance_after"]) for e in entries] == [
        ("charge", -1250, 1750), ("adjustment", 3000, 3000),
    ]  # fmt: skip


def test_a_retry_with_the_same_json_written_differently_is_the_same_request(api, marie):
    cid = marie["id"]
    path = f"/api/v1/customers/{cid}/account/credits"
    first = api.client.post(path, '{"amount": 500, "reason": "Gift"}', content_type="application/json",
                            headers=api.headers("same-1"))  # fmt: skip
    again = api.client.post(path, '{\n  "reason":"Gift",\n  "amount":500\n}', content_type="application/json",
                            headers=api.headers("same-1"))  # fmt: skip
    assert first.status_code == again.status_code == 201 and again.json() == first.json()
    elsewhere = api.client.post(f"/api/v1/customers/{cid}/account/charges", '{"amount": 500, "reference": "o9"}',
                                content_type="application/json", headers=api.headers("same-1"))  # fmt: skip
    assert elsewhere.status_code == 409  # another path under the same key is another request
    assert Transaction.objects.across_hubs().filter(kind="adjustment").count() == 1


def test_a_retried_post_gets_the_first_answer_and_posts_once(api, marie):
    cid = marie["id"]
    first = api.post(f"/customers/{cid}/account/charges", {"amount": 100, "reference": "o1"}, key="retry-1")
    api.post(f"/customers/{cid}/account/credits", {"amount": 5000, "reason": "x"})
    again = api.post(f"/customers/{cid}/account/charges", {"amount": 100, "reference": "o1"}, key="retry-1")
    assert first.status_code == again.status_code == 422  # the first answer, not a new attempt
    assert again.json() == first.json()
    other = api.post(f"/customers/{cid}/account/charges", {"amount": 200, "reference": "o1"}, key="retry-1")
    assert other.status_code == 409 and other.json()["error"]["code"] == "idempotency_conflict"
    ok = api.post(f"/customers/{cid}/account/charges", {"amount": 100, "reference": "o2"}, key="retry-2")
    ok_again = api.post(f"/customers/{cid}/account/charges", {"amount": 100, "reference": "o2"}, key="retry-2")
    assert ok.status_code == ok_again.status_code == 201 and ok.json() == ok_again.json()
    assert Transaction.objects.across_hubs().filter(kind="charge").count() == 1


def test_every_post_needs_an_idempotency_key(client, token, marie):
    response = client.post(
        f"/api/v1/customers/{marie['id']}/account/credits", json.dumps({"amount": 1, "reason": "x"}),
        content_type="application/json", headers={"Authorization": f"Bearer {token}"},
    )  # fmt: skip
    assert response.status_code == 400 and response.json()["error"]["code"] == "idempotency_key_required"


@pytest.mark.parametrize("amount", [12.5, "1250", True, -5, 0, 10**13, None])
def test_bad_amounts_get_a_validation_error_and_change_nothing(api, marie, amount):
    response = api.post(f"/customers/{marie['id']}/account/credits", {"amount": amount, "reason": "x"})
    assert response.status_code == 422 and response.json()["error"]["code"] == "validation_error"
    assert api.get(f"/customers/{marie['id']}/account").json()["balance"] == 0
    # Refused before any work: no answer is remembered, the key stays free for a corrected request.
    assert list(IdempotencyRecord.objects.across_hubs().values_list("key", flat=True)) == ["k-1"]


def test_holds_are_placed_captured_for_less_and_the_rest_released(api, marie):
    cid = marie["id"]
    api.post(f"/customers/{cid}/account/credits", {"amount": 5000, "reason": "x"})
    hold = api.post(f"/customers/{cid}/account/holds", {"amount": 2000, "reference": "order-9"})
    assert hold.status_code == 201 and hold.json()["status"] == "held"
    assert api.get(f"/customers/{cid}/account").json()["spendable"] == 3000
    captured = api.post(f"/holds/{hold.json()['id']}/capture", {"amount": 1875})
    assert captured.json()["status"] == "captured" and captured.json()["captured"] == 1875
    account = api.get(f"/customers/{cid}/account").json()
    assert (account["balance"], account["held"], account["spendable"]) == (3125, 0, 3125)
    second = api.post(f"/customers/{cid}/account/holds", {"amount": 1000, "reference": "order-10"})
    assert api.post(f"/holds/{second.json()['id']}/void").json()["status"] == "voided"
    assert api.get(f"/customers/{cid}/account").json()["held"] == 0


def test_the_spending_limit_is_set_by_patch(api, marie):
    response = api.patch(f"/customers/{marie['id']}/account", {"floor": -2000})
    assert response.status_code == 200 and response.json()["spendable"] == 2000
    assert api.patch(f"/customers/{marie['id']}/account", {"floor": 100}).status_code == 422


def test_lists_page_by_cursor_and_filter(api, hub):
    for n in range(55):
        customer_create(hub=hub, email=f"c{n}@example.org", tags=["weekly"] if n % 2 else [])
    first = api.get("/customers").json()
    assert len(first["items"]) == 50 and first["next_cursor"]
    second = api.get("/customers", cursor=first["next_cursor"]).json()
    assert len(second["items"]) == 5 and second["next_cursor"] is None
    assert {c["id"] for c in first["items"]}.isdisjoint(c["id"] for c in second["items"])
    assert len(api.get("/customers", tag="weekly").json()["items"]) == 27
    assert api.get("/customers", cursor="not-ours").status_code == 422


def test_another_hubs_objects_are_not_found(api, other_hub):
    theirs = customer_create(hub=other_hub, email="theirs@example.org")
    account_floor_set(hub_id=other_hub.id, account_id=theirs.account_id, floor_minor=-1000)
    assert api.get(f"/customers/{theirs.id}").json()["error"]["code"] == "not_found"
    response = api.post(f"/customers/{theirs.id}/account/charges", {"amount": 100, "reference": "x"})
    assert response.status_code == 404
    assert api.post("/holds/999999/void").status_code == 404


def test_tokens_scopes_and_revocation(client, hub, marie, token):
    read_only = token_create(hub=hub, name="Report", scopes=["customers:read"], created_by=None)[1]
    limited = Api(client, read_only)
    assert limited.get(f"/customers/{marie['id']}").status_code == 200
    response = limited.post(f"/customers/{marie['id']}/account/credits", {"amount": 100, "reason": "x"}, key="ro-1")
    assert response.status_code == 403 and response.json()["error"]["code"] == "forbidden"
    # The refusal did not use up the key: the shop's own token, sending the same key, is served.
    credited = Api(client, token).post(f"/customers/{marie['id']}/account/credits", {"amount": 100, "reason": "x"},
                                       key="ro-1")  # fmt: skip
    assert credited.status_code == 201
    assert Api(client, "htb_wrong").get("/customers").status_code == 401
    assert client.get("/api/v1/customers").json()["error"]["code"] == "unauthorized"


def test_apitoken_create_prints_only_the_token(hub, capsys, client):
    call_command("apitoken", "create", "--hub", hub.slug, "--scopes", "all")
    printed = capsys.readouterr().out.strip()
    assert printed.startswith("htb_") and "\n" not in printed
    assert Api(client, printed).get("/customers").status_code == 200


def test_an_unknown_page_is_a_json_404(api):
    response = api.get("/customers/99999999")
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"


def test_an_owner_makes_a_token_on_the_page_sees_it_once_and_revokes_it(client, hub):
    import re

    from hubtab.core.models import Role
    from hubtab.core.services import membership_grant, user_create

    owner = user_create(email="owner@example.org", password="pw-long-enough", email_verified=True)
    membership_grant(hub=hub, user=owner, role=Role.OWNER)
    client.force_login(owner)
    url = reverse("api_tokens", args=[hub.slug])
    page = client.post(url, {"name": "Our shop", "scopes": ["customers:read"]}).content.decode()
    secret = re.search(r"(htb_[A-Za-z0-9_-]+)", page).group(1)
    assert "shown only once" in page
    assert secret not in client.get(url).content.decode()  # never again
    shop = Api(client, secret)
    assert shop.get("/customers").status_code == 200
    token_id = int(re.search(r"/api-tokens/(\d+)/revoke/", client.get(url).content.decode()).group(1))
    client.post(reverse("api_token_revoke", args=[hub.slug, token_id]))
    client.logout()
    assert Api(client, secret).get("/customers").status_code == 401


@pytest.mark.parametrize("bad_id", ["-39422922532116490092544", "0", "-1", "9223372036854775808"])
def test_ids_outside_the_database_range_are_refused_before_any_query(api, bad_id):
    for response in (api.get(f"/customers/{bad_id}"), api.post(f"/holds/{bad_id}/void")):
        assert response.status_code == 422 and response.json()["error"]["code"] == "validation_error"


def test_the_interactive_reference_is_served_from_our_own_static_files(client):
    from django.contrib.staticfiles import finders

    page = client.get("/api/v1/docs").content.decode()
    scripts = ["ninja/swagger-ui-bundle.js", "ninja/swagger-ui-init.js", "ninja/swagger-ui.css"]
    assert all(f"/static/{name}" in page for name in scripts) and "/api/v1/openapi.json" in page
    assert "http" not in page.split("<body", 1)[1].split("swagger-settings", 1)[0]  # nothing from outside
    assert all(finders.find(name) for name in scripts)


@pytest.mark.django_db(transaction=True)
def test_the_interactive_reference_renders_in_a_browser_under_our_content_policy(live_server, browser):
    page = browser.new_page()
    blocked = []
    page.on("console", lambda message: blocked.append(message.text) if "Content Security Policy" in message.text
            and "script" in message.text else None)  # fmt: skip
    page.goto(f"{live_server.url}/api/v1/docs")
    page.get_by_text("/api/v1/customers/{customer_id}/account/charges").first.wait_for()
    assert blocked == []
    from hubtab.testing import screenshot

    screenshot(page, "api-reference-laptop")
    page.close()


def test_the_owners_api_page_names_the_scopes_in_the_readers_language(client, hub, token):
    from hubtab.core.models import Role
    from hubtab.core.services import membership_grant, user_create

    owner = user_create(email="owner@example.org", password="pw-long-enough", email_verified=True)
    membership_grant(hub=hub, user=owner, role=Role.OWNER)
    client.force_login(owner)
    page = client.get(reverse("api_tokens", args=[hub.slug]), HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Lire les clients" in page and "Mouvementer le crédit" in page and "Read customers" not in page

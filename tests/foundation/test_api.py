import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from gasworks.customers.models import Customer
from tests.factories import PASSWORD, make_customer, make_user

pytestmark = pytest.mark.django_db


def api_as(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_it_issues_a_token_for_good_credentials_and_accepts_it():
    user = make_user("cashier", username="tok")
    client = APIClient()
    response = client.post("/api/v1/auth/token/", {"username": "tok", "password": PASSWORD}, format="json")
    assert response.status_code == 200
    client.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
    assert client.get("/api/v1/customers/").status_code == 200
    assert user.auth_token.key == response.json()["token"]


def test_it_refuses_bad_credentials_with_the_error_envelope():
    make_user("cashier", username="tok")
    response = APIClient().post(
        "/api/v1/auth/token/", {"username": "tok", "password": "wrong"}, format="json"
    )
    assert response.status_code == 401
    assert response.json() == {
        "error": {
            "code": "invalid_credentials",
            "message": "The username or password is wrong.",
            "fields": {},
        }
    }


def test_it_locks_the_token_endpoint_after_repeated_failures():
    make_user("cashier", username="tok")
    client = APIClient()
    for _ in range(5):
        client.post("/api/v1/auth/token/", {"username": "tok", "password": "wrong"}, format="json")
    response = client.post("/api/v1/auth/token/", {"username": "tok", "password": PASSWORD}, format="json")
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "locked_out"


def test_it_answers_401_without_credentials():
    response = APIClient().get("/api/v1/customers/")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_it_validates_token_requests():
    response = APIClient().post("/api/v1/auth/token/", {}, format="json")
    assert response.status_code == 400
    body = response.json()["error"]
    assert body["code"] == "invalid"
    assert set(body["fields"]) == {"username", "password"}


def test_it_creates_a_customer_with_a_generated_account_number(personas):
    response = api_as(personas["cashier"]).post(
        "/api/v1/customers/",
        {
            "name": "王芳",
            "category": "residential",
            "phone": "13811112222",
            "address": "朝阳区1号",
            "household_size": 4,
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["account_no"] and body["status"] == "active" and body["balance"] == "0.00"
    assert body["household_size"] == 4 and body["address"] == "朝阳区1号"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"category": "residential", "phone": "1", "address": "a"}, "name"),
        ({"name": "x", "category": "palace", "phone": "1", "address": "a"}, "category"),
        (
            {"name": "x", "category": "residential", "phone": "1", "address": "a", "household_size": 0},
            "household_size",
        ),
        (
            {"name": "x", "category": "residential", "phone": "1", "address": "a", "household_size": "many"},
            "household_size",
        ),
        ({"name": "x", "category": "residential", "address": "a"}, "phone"),
    ],
)
def test_it_refuses_bad_customer_input_and_writes_nothing(personas, payload, field):
    before = Customer.objects.count()
    response = api_as(personas["cashier"]).post("/api/v1/customers/", payload, format="json")
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    assert Customer.objects.count() == before


def test_it_never_answers_500_to_malformed_json(personas):
    response = api_as(personas["cashier"]).post(
        "/api/v1/customers/", "{not json", content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "parse_error"


def test_it_patches_a_customer_but_not_a_closed_one(personas):
    from gasworks.customers import services

    customer = personas["other_customer"]
    client = api_as(personas["cashier"])
    response = client.patch(f"/api/v1/customers/{customer.pk}/", {"phone": "13900001111"}, format="json")
    assert response.status_code == 200 and response.json()["phone"] == "13900001111"
    services.close(customer, "moved")
    response = client.patch(f"/api/v1/customers/{customer.pk}/", {"phone": "1"}, format="json")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "account_closed"


def test_it_paginates_and_filters_customers(personas):
    for _ in range(3):
        make_customer(category="commercial")
    body = api_as(personas["admin"]).get("/api/v1/customers/?category=commercial&page_size=2").json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == 3 and len(body["results"]) == 2 and body["next"]


def test_a_customer_sees_only_its_own_record(personas):
    client = api_as(personas["customer"])
    own, other = personas["own_customer"], personas["other_customer"]
    listing = client.get("/api/v1/customers/").json()
    assert [row["id"] for row in listing["results"]] == [own.pk]
    assert client.get(f"/api/v1/customers/{own.pk}/").status_code == 200
    assert client.get(f"/api/v1/customers/{other.pk}/").status_code == 404
    assert client.get(f"/api/v1/customers/{other.pk}/ledger/").status_code == 404
    assert client.patch(f"/api/v1/customers/{own.pk}/", {"name": "x"}, format="json").status_code == 403


def test_it_shows_the_ledger_as_api_md_says(personas):
    body = api_as(personas["customer"]).get(f"/api/v1/customers/{personas['own_customer'].pk}/ledger/").json()
    assert body == {"balance": "0.00", "entries": []}


def test_admins_create_users_by_api(personas):
    client = api_as(personas["admin"])
    response = client.post(
        "/api/v1/users/",
        {"username": "newreader", "password": "a-long-password-9", "role": "meter_reader"},
        format="json",
    )
    assert response.status_code == 201, response.content
    user = get_user_model().objects.get(username="newreader")
    assert user.role == "meter_reader" and list(user.groups.values_list("name", flat=True)) == [
        "meter_reader"
    ]
    assert "password" not in response.json()


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"username": "c1", "password": "a-long-password-9", "role": "customer"}, "customer"),
        ({"username": "s1", "password": "short-9", "role": "cashier"}, "password"),
        ({"username": "s2", "password": "a-long-password-9", "role": "wizard"}, "role"),
    ],
)
def test_it_refuses_bad_users(personas, payload, field):
    before = get_user_model().objects.count()
    response = api_as(personas["admin"]).post("/api/v1/users/", payload, format="json")
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    assert get_user_model().objects.count() == before


def test_it_refuses_a_customer_id_on_a_staff_user(personas):
    payload = {
        "username": "s3",
        "password": "a-long-password-9",
        "role": "cashier",
        "customer": personas["own_customer"].pk,
    }
    response = api_as(personas["admin"]).post("/api/v1/users/", payload, format="json")
    assert response.status_code == 400 and "customer" in response.json()["error"]["fields"]


def test_it_refuses_a_taken_username_with_409(personas):
    payload = {"username": personas["cashier"].username, "password": "a-long-password-9", "role": "cashier"}
    response = api_as(personas["admin"]).post("/api/v1/users/", payload, format="json")
    assert response.status_code in (400, 409)
    assert response.json()["error"]["fields"]["username"]


def test_a_superuser_acts_as_admin(db):
    boss = get_user_model().objects.create_superuser("boss", "boss@example.com", "a-long-password-9")
    assert api_as(boss).get("/api/v1/users/").status_code == 200


def test_the_schema_and_docs_are_served_offline(client, db):
    schema = client.get("/api/schema/")
    assert schema.status_code == 200 and b"/api/v1/customers/" in schema.content
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    html = docs.content.decode()
    assert "cdn" not in html.lower() and "unpkg" not in html and "jsdelivr" not in html

import pytest
from django.contrib.auth import get_user_model
from django.core import mail

from gasworks.customers.models import Customer, Status
from gasworks.system.models import AuditEntry, Parameter
from tests.factories import PASSWORD, make_customer, make_user

pytestmark = pytest.mark.django_db

NEW_CUSTOMER = {
    "name": "赵六",
    "category": "commercial",
    "gas_use": "process",
    "phone": "13700000000",
    "address": "丰台区饭店街3号",
    "district": "丰台区",
    "household_size": "1",
    "id_number": "",
}


def test_a_cashier_opens_an_account_on_the_page(client, personas):
    client.force_login(personas["cashier"])
    response = client.post("/customers/new/", NEW_CUSTOMER)
    customer = Customer.objects.get(name="赵六")
    assert response.status_code == 302 and response.url == f"/customers/{customer.pk}/"
    page = client.get(response.url).content.decode()
    assert customer.account_no in page and "丰台区饭店街3号" in page


@pytest.mark.parametrize(
    ("field", "value"), [("name", ""), ("household_size", "0"), ("category", "x"), ("phone", "")]
)
def test_bad_input_on_the_account_form_is_explained_and_writes_nothing(client, personas, field, value):
    client.force_login(personas["cashier"])
    before = Customer.objects.count()
    response = client.post("/customers/new/", {**NEW_CUSTOMER, field: value})
    assert response.status_code == 200
    assert response.context["form"].errors[field]
    assert Customer.objects.count() == before


def test_the_name_transfer_page_is_the_move_out_flow(client, personas):
    """A name transfer needs a final reading now: the old address leads to the service app's
    move-out flow (tests/moveout has the flow itself)."""
    old = personas["other_customer"]
    client.force_login(personas["cashier"])
    response = client.get(f"/customers/{old.pk}/transfer/")
    assert response.url == f"/service/moveout/customers/{old.pk}/?kind=transfer"


def test_suspending_needs_a_reason(client, personas):
    customer = personas["other_customer"]
    client.force_login(personas["admin"])
    response = client.post(f"/customers/{customer.pk}/suspend/", {"reason": ""})
    assert response.status_code == 200 and response.context["form"].errors["reason"]
    client.post(f"/customers/{customer.pk}/suspend/", {"reason": "arrears"})
    customer.refresh_from_db()
    assert customer.status == Status.SUSPENDED


def test_closing_twice_is_refused_with_a_message(client, personas):
    customer = personas["other_customer"]
    client.force_login(personas["admin"])
    client.post(f"/customers/{customer.pk}/close/", {"reason": "moved"})
    response = client.post(f"/customers/{customer.pk}/close/", {"reason": "again"})
    assert response.status_code == 200
    assert "cannot become" in response.context["form"].non_field_errors()[0]


def test_the_search_page_filters_and_answers_htmx_with_rows_only(client, personas):
    make_customer(name="欧阳锋", phone="13512345678")
    client.force_login(personas["meter_reader"])
    full = client.get("/customers/?q=欧阳").content.decode()
    assert "欧阳锋" in full and "<html" in full
    rows = client.get("/customers/?q=135123", HTTP_HX_REQUEST="true").content.decode()
    assert "欧阳锋" in rows and "<html" not in rows


def test_customer_list_query_count_is_fixed(client, personas, django_assert_max_num_queries):
    for _ in range(30):
        make_customer()
    client.force_login(personas["cashier"])
    with django_assert_max_num_queries(12):
        assert client.get("/customers/").status_code == 200


def test_a_customer_registers_by_proving_the_account(client, db):
    customer = make_customer(phone="138-0000-9999")
    response = client.post(
        "/accounts/register/",
        {
            "account_no": customer.account_no,
            "phone": "13800009999",
            "username": "homeowner",
            "email": "",
            "password1": "my-gas-pass-1",
            "password2": "my-gas-pass-1",
        },
    )
    assert response.status_code == 302
    user = get_user_model().objects.get(username="homeowner")
    assert user.role == "customer" and user.customer == customer


@pytest.mark.parametrize(
    ("change", "error_field"),
    [
        ({"phone": "13999999999"}, "account_no"),
        ({"account_no": "0100000000"}, "account_no"),
        ({"password2": "other"}, "password2"),
    ],
)
def test_registration_refuses_what_does_not_prove_the_account(client, db, change, error_field):
    customer = make_customer(phone="13800009999")
    form = {
        "account_no": customer.account_no,
        "phone": "13800009999",
        "username": "intruder",
        "email": "",
        "password1": "my-gas-pass-1",
        "password2": "my-gas-pass-1",
    }
    response = client.post("/accounts/register/", {**form, **change})
    assert response.status_code == 200
    assert response.context["form"].errors[error_field]
    assert not get_user_model().objects.filter(username="intruder").exists()


def test_an_account_gets_only_one_portal_login(client, personas):
    own = personas["own_customer"]
    response = client.post(
        "/accounts/register/",
        {
            "account_no": own.account_no,
            "phone": own.phone,
            "username": "second",
            "email": "",
            "password1": "my-gas-pass-1",
            "password2": "my-gas-pass-1",
        },
    )
    assert "already has a portal login" in response.content.decode()
    assert not get_user_model().objects.filter(username="second").exists()


def test_the_login_page_locks_out_after_repeated_failures(client, db):
    make_user("cashier", username="counter1")
    for _ in range(5):
        client.post("/accounts/login/", {"username": "counter1", "password": "wrong"})
    response = client.post("/accounts/login/", {"username": "counter1", "password": PASSWORD})
    assert response.status_code == 429
    assert b"locked" in response.content
    assert "_auth_user_id" not in client.session


def test_staff_log_in_and_sessions_expire_when_idle(client, db, settings):
    make_user("cashier", username="counter2")
    response = client.post("/accounts/login/", {"username": "counter2", "password": PASSWORD})
    assert response.status_code == 302
    assert settings.SESSION_SAVE_EVERY_REQUEST is True
    assert client.session.get_expiry_age() == settings.SESSION_COOKIE_AGE <= 3600


def test_staff_passwords_need_twelve_characters(personas):
    from gasworks.accounts import services
    from gasworks.errors import InvalidInput

    with pytest.raises(InvalidInput):
        services.create_user("shorty", "abcdefgh-12", "cashier")
    services.create_user("shorty", "abcdefgh-123", "cashier")
    customer = make_customer()
    services.create_user("cust8", "gas-8chr", "customer", customer)


def test_password_reset_sends_a_mail(client, db):
    user = make_user("cashier", username="forgetful")
    user.email = "forgetful@example.com"
    user.save()
    response = client.post("/accounts/password_reset/", {"email": "forgetful@example.com"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1 and "forgetful" in mail.outbox[0].body


def test_the_profile_page_saves_contact_details(client, personas):
    client.force_login(personas["inspector"])
    client.post(
        "/accounts/profile/", {"first_name": "刘", "last_name": "安", "email": "i@example.com", "phone": "1"}
    )
    personas["inspector"].refresh_from_db()
    assert personas["inspector"].email == "i@example.com"


def test_admins_create_and_edit_users_on_pages(client, personas):
    client.force_login(personas["admin"])
    response = client.post(
        "/users/new/",
        {
            "username": "reader9",
            "first_name": "",
            "email": "",
            "role": "meter_reader",
            "customer_account_no": "",
            "password": "reader-pass-123",
        },
    )
    assert response.status_code == 302
    reader = get_user_model().objects.get(username="reader9")
    client.post(
        f"/users/{reader.pk}/",
        {"first_name": "", "last_name": "", "email": "", "phone": "", "role": "inspector"},
    )
    reader.refresh_from_db()
    assert reader.role == "inspector" and not reader.is_active  # unchecked box deactivates


def test_the_audit_log_records_who_changed_what(client, personas):
    customer = personas["other_customer"]
    client.force_login(personas["cashier"])
    client.post(f"/customers/{customer.pk}/edit/", {**NEW_CUSTOMER, "name": "改名"})
    entry = AuditEntry.objects.filter(
        model="customers.Customer", object_id=str(customer.pk), action="update"
    ).first()
    assert entry.actor == personas["cashier"]
    assert entry.before["name"] != "改名" and entry.after["name"] == "改名"
    client.force_login(personas["admin"])
    page = client.get("/system/audit/").content.decode()
    assert "改名" in page


def test_the_audit_log_never_shows_passwords(personas):
    entry = AuditEntry.objects.filter(model="accounts.User", action="create").first()
    assert "password" not in entry.after


def test_parameters_are_edited_all_or_nothing(client, personas):
    from gasworks.system import parameters

    client.force_login(personas["admin"])
    client.post("/system/parameters/", {"station_name": "朝阳燃气站", "late_fee_rate_per_day": "0.001"})
    assert parameters.get("station_name") == "朝阳燃气站"
    response = client.post("/system/parameters/", {"station_name": "Other", "late_fee_rate_per_day": "lots"})
    assert response.status_code == 200 and "lots" in response.content.decode()
    assert parameters.get("station_name") == "朝阳燃气站"
    assert str(parameters.get("late_fee_rate_per_day")) == "0.001"
    assert AuditEntry.objects.filter(model="system.Parameter").count() == 2
    assert Parameter.objects.count() == 2


def test_a_cashier_may_read_but_not_change_parameters(client, personas):
    client.force_login(personas["cashier"])
    assert client.post("/system/parameters/", {"station_name": "x"}).status_code == 403


def test_the_language_switch_serves_chinese(client, personas):
    client.force_login(personas["cashier"])
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    page = client.get("/customers/").content.decode()
    assert "客户" in page and 'lang="zh-hans"' in page

from decimal import Decimal

import pytest

from gasworks.billing.models import PriceVersion, Tariff, TariffTier
from gasworks.billing.web_hooks import seed_tariffs

pytestmark = pytest.mark.django_db
URL = "/api/v1/tariffs/"
BODY = {
    "name": "北京居民",
    "category": "residential",
    "effective_from": "2026-01-01",
    "tiers": [
        {"up_to": "350", "price": "2.61"},
        {"up_to": "500", "price": "2.83"},
        {"up_to": None, "price": "4.23"},
    ],
}


def test_it_creates_a_tiered_tariff(admin_client):
    response = admin_client.post(URL, BODY, content_type="application/json")
    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["versions"] == [
        {
            "effective_from": "2026-01-01",
            "tiers": [
                {"up_to": "350.000", "price": "2.6100"},
                {"up_to": "500.000", "price": "2.8300"},
                {"up_to": None, "price": "4.2300"},
            ],
        }
    ]
    # A second POST with another date adds a price version; the same date is a 409.
    again = admin_client.post(URL, {**BODY, "effective_from": "2026-07-01"}, content_type="application/json")
    assert again.status_code == 201 and len(again.json()["versions"]) == 2
    dup = admin_client.post(URL, BODY, content_type="application/json")
    assert dup.status_code == 409 and dup.json()["error"]["code"] == "duplicate_price_version"
    assert PriceVersion.objects.count() == 2


def test_it_creates_a_flat_tariff(admin_client):
    body = {
        "name": "非居民",
        "category": "commercial",
        "effective_from": "2026-01-01",
        "tiers": [{"up_to": None, "price": "2.63"}],
    }
    response = admin_client.post(URL, body, content_type="application/json")
    assert response.status_code == 201
    assert TariffTier.objects.get().price == Decimal("2.6300")


@pytest.mark.parametrize(
    ("tiers", "code"),
    [
        (
            [
                {"up_to": "500", "price": "2.61"},
                {"up_to": "350", "price": "2.83"},
                {"up_to": None, "price": "4.23"},
            ],
            "thresholds_not_increasing",
        ),
        ([{"up_to": "350", "price": "-2.61"}, {"up_to": None, "price": "4.23"}], "negative_price"),
        ([{"up_to": "350", "price": "2.61"}], "last_tier_bounded"),
        ([{"up_to": None, "price": "2.61"}, {"up_to": "350", "price": "2.83"}], "unbounded_tier_not_last"),
        ([], "no_tiers"),
        ([{"up_to": "abc", "price": "2.61"}], "invalid_tier"),
        ([{"price": "x"}], "invalid_tier"),
    ],
)
def test_it_refuses_bad_tiers_with_a_clear_400_and_writes_nothing(admin_client, tiers, code):
    response = admin_client.post(URL, {**BODY, "tiers": tiers}, content_type="application/json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == code and error["message"] and "tiers" in error["fields"]
    assert (
        not Tariff.objects.exists() and not PriceVersion.objects.exists() and not TariffTier.objects.exists()
    )


def test_it_refuses_an_unknown_category(admin_client):
    response = admin_client.post(URL, {**BODY, "category": "alien"}, content_type="application/json")
    assert response.status_code == 400
    assert not Tariff.objects.exists()


def test_it_seeds_the_beijing_tariffs_once(db):
    assert seed_tariffs() == 4
    assert seed_tariffs() == 0
    heating = Tariff.objects.get(category="residential", gas_use="heating")
    assert [t.up_to for t in heating.versions.get().tiers.all()] == [
        Decimal("1500.000"),
        Decimal("2500.000"),
        None,
    ]


def test_it_creates_a_tariff_through_the_page(admin_client):
    response = admin_client.post(
        "/billing/tariffs/new/",
        {
            "name": "北京居民",
            "category": "residential",
            "gas_use": "cooking",
            "effective_from": "2026-01-01",
            "tiers": "350 2.61\n500 2.83\n- 4.23",
            "minimum_charge": "0",
            "meter_rent": "0",
        },
    )
    assert response.status_code == 302
    assert Tariff.objects.get().gas_use == "cooking"
    bad = admin_client.post(
        "/billing/tariffs/new/",
        {
            "name": "x",
            "category": "commercial",
            "effective_from": "2026-01-01",
            "tiers": "- -1",
            "minimum_charge": "0",
            "meter_rent": "0",
        },
    )
    assert bad.status_code == 200 and "negative" in bad.content.decode()
    assert Tariff.objects.count() == 1


@pytest.mark.parametrize(
    ("tier", "message_part"),
    [
        ({"up_to": None, "price": "1e30"}, "price"),
        ({"up_to": "1e30", "price": "2.61"}, "up_to"),
        ({"up_to": None, "price": "2.61234"}, "price"),  # 5 places: refused, not rounded
        ({"up_to": "350.0001", "price": "2.61"}, "up_to"),
    ],
)
def test_a_tier_that_does_not_fit_its_column_is_a_400_and_stores_nothing(admin_client, tier, message_part):
    tiers = [tier] if tier["up_to"] is None else [tier, {"up_to": None, "price": "4.23"}]
    response = admin_client.post(URL, {**BODY, "tiers": tiers}, content_type="application/json")
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "invalid_tier" and message_part in error["message"]
    assert not Tariff.objects.exists() and not PriceVersion.objects.exists()
    assert admin_client.get(URL).status_code == 200
    assert admin_client.get("/billing/tariffs/").status_code == 200


@pytest.mark.parametrize("field", ["minimum_charge", "meter_rent"])
def test_a_charge_that_does_not_fit_is_a_400(admin_client, field):
    response = admin_client.post(URL, {**BODY, field: "1E+20"}, content_type="application/json")
    assert response.status_code == 400 and field in response.json()["error"]["fields"]
    assert not Tariff.objects.exists()


def test_the_tariff_page_refuses_a_price_that_does_not_fit(admin_client):
    page = admin_client.post(
        "/billing/tariffs/new/",
        {
            "name": "x",
            "category": "residential",
            "effective_from": "2026-01-01",
            "tiers": "- 1e30",
            "minimum_charge": "0",
            "meter_rent": "0",
        },
    )
    assert page.status_code == 200 and "1E+30" in page.content.decode()
    assert not Tariff.objects.exists()


def test_a_tariff_whose_tier_cannot_be_stored_leaves_no_tariff_or_version_behind():
    # Tiers already parsed skip the input check: the write guard refuses, the whole tariff rolls back.
    from gasworks.billing import tariffs
    from gasworks.errors import InvalidInput
    from gasworks.lib import tiers as tiermath

    with pytest.raises(InvalidInput) as caught:
        tariffs.create_tariff("x", "residential", "2026-01-01", (tiermath.Tier(None, Decimal("1e30")),))
    assert caught.value.code == "out_of_range" and "price" in caught.value.fields
    assert (
        not Tariff.objects.exists() and not PriceVersion.objects.exists() and not TariffTier.objects.exists()
    )


@pytest.mark.parametrize("body", [[BODY], ["name"], '"tariff"', "7"])
def test_a_body_that_is_not_an_object_is_a_400_and_writes_nothing(admin_client, body):
    response = admin_client.post(URL, body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert not Tariff.objects.exists()

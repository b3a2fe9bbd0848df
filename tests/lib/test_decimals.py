"""Decimals against their columns: input is refused unless it fits exactly; a write never stores
what the column cannot hold (every decimal column of every model is guarded)."""

from decimal import Decimal

import pytest
from django import forms
from django.apps import apps
from django.db import models, transaction
from rest_framework import serializers

from gasworks.errors import InvalidInput
from gasworks.lib import decimals
from gasworks.lib.fields import DecimalField
from tests.lib.inputs import declared_fields


@pytest.mark.parametrize(
    ("value", "fits"),
    [
        ("2.61", True),
        ("99999999.9999", True),
        ("2.6100000", True),  # trailing zeros are no extra precision
        ("0", True),
        ("-12.5", True),
        ("1e30", False),
        ("1E+20", False),
        ("1e999999", False),  # no context arithmetic: no Overflow on the way to the refusal
        ("123456789", False),  # 9 whole digits where 8 fit
        ("1.23456", False),  # 5 places where 4 fit: refused, not rounded
        ("NaN", False),
        ("Infinity", False),
    ],
)
def test_input_fits_a_12_4_column_exactly_or_is_refused(value, fits):
    problem = decimals.input_error(Decimal(value), 12, 4)
    assert (problem is None) == fits
    if not fits and Decimal(value).is_finite():
        assert "8" in problem and "4" in problem  # the message says the limits


@pytest.mark.parametrize(
    ("value", "stored"),
    [("999999999999.99", True), ("1.23456", True), ("999999999999.995", False), ("1e30", False)],
)
def test_a_write_refuses_only_what_the_column_cannot_hold_once_rounded(value, stored):
    assert (decimals.overflow_error(Decimal(value), 14, 2) is None) == stored


def _gasworks_models():
    return [m for m in apps.get_models() if m.__module__.startswith("gasworks.")]


def test_every_decimal_column_of_every_model_is_guarded():
    plain = [
        f"{model.__name__}.{field.name}"
        for model in _gasworks_models()
        for field in model._meta.get_fields()
        if isinstance(field, models.DecimalField) and not isinstance(field, DecimalField)
    ]
    assert plain == [], "use gasworks.lib.fields.DecimalField for these columns"


def test_every_decimal_input_field_has_digits_and_places():
    # A DecimalField without max_digits accepts 1E+20 and hands it to the write (the adjustment bug).
    loose = [
        where
        for where, field in declared_fields()
        if isinstance(field, forms.DecimalField | serializers.DecimalField)
        and (field.max_digits is None or field.decimal_places is None)
    ]
    assert loose == []


@pytest.mark.django_db
def test_the_guard_refuses_a_value_too_wide_on_save_and_bulk_create(personas):
    from gasworks.billing.models import PriceVersion, Tariff, TariffTier

    tariff = Tariff.objects.create(name="t", category="residential")
    version = PriceVersion.objects.create(tariff=tariff, effective_from="2026-01-01")
    with pytest.raises(InvalidInput) as caught, transaction.atomic():
        TariffTier.objects.bulk_create([TariffTier(version=version, number=1, price=Decimal("1e30"))])
    assert caught.value.fields == {"price": [caught.value.message]}
    tariff.minimum_charge = Decimal("1E+20")
    with pytest.raises(InvalidInput), transaction.atomic():
        tariff.save()
    with pytest.raises(InvalidInput), transaction.atomic():
        Tariff.objects.filter(pk=tariff.pk).update(meter_rent=Decimal("1E+20"))
    assert not TariffTier.objects.exists()
    tariff.refresh_from_db()
    assert tariff.minimum_charge == 0 and tariff.meter_rent == 0

"""Filters every template has (they are builtins): ``{{ amount|money }}`` and
``{{ balance|balance }}``, the one money format of every page (gasworks.lib.money decides it),
and ``{{ code|choice_label:"app.Model.field" }}``, a stored code as people read it."""

from functools import cache

from django import template
from django.apps import apps

from gasworks.lib.money import format_balance, format_money, format_price

register = template.Library()


def _shown(fmt, value, **kw):
    """``fmt(value)``, or the value as it is when it is not a number (a template never fails)."""
    try:
        return fmt(value, **kw)
    except (TypeError, ValueError):
        return value


@register.filter
def money(value, arg=""):
    """¥1,234.50; ``|money:"abs"`` drops the sign where the label already says which way."""
    return _shown(format_money, value, sign=arg != "abs")


@register.filter
def price(value):
    """A unit price: ¥2.61, ¥8.1234 (up to 4 places, never rounded to the fen)."""
    return _shown(format_price, value)


@register.filter
def balance(value):
    """Owed ¥83,131.99 or Credit ¥12.00 (欠费 / 余额)."""
    return _shown(format_balance, value)


@cache
def _choices(path: str) -> dict:
    app_label, model, field = path.split(".")
    return dict(apps.get_model(app_label, model)._meta.get_field(field).flatchoices)


@register.filter
def choice_label(value, path: str):
    """The translated label of ``value`` among the choices of the field ``app.Model.field``
    (for codes kept outside that field, such as the methods in a shift's frozen totals)."""
    return _choices(path).get(value, value)

"""``{{ amount|money }}`` and ``{{ balance|balance }}``: the one money format of every page
(gasworks.lib.money decides it)."""

from django import template

from gasworks.lib.money import format_balance, format_money

register = template.Library()


@register.filter
def money(value, arg=""):
    """¥1,234.50; ``|money:"abs"`` drops the sign where the label already says which way."""
    try:
        return format_money(value, sign=arg != "abs")
    except (TypeError, ValueError):
        return value


@register.filter
def balance(value):
    """Owed ¥83,131.99 or Credit ¥12.00 (欠费 / 余额)."""
    try:
        return format_balance(value)
    except (TypeError, ValueError):
        return value

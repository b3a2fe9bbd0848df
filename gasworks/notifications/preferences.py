"""Reading and changing a customer's notification preferences (portal, staff page, API)."""

from __future__ import annotations

from django.db import transaction

from gasworks.notifications import texts
from gasworks.notifications.models import Preference

SAFETY_KINDS = {code for code, kind in texts.KINDS.items() if kind.safety}
CHOOSABLE = [code for code, kind in texts.KINDS.items() if not kind.safety]


def of(customer) -> Preference:
    """The customer's preferences (the defaults, unsaved, when they never set any)."""
    return Preference.objects.filter(customer=customer).first() or Preference(customer=customer)


def save(customer, *, sms=None, wechat=None, email=None, opt_out=None, email_address=None, language=None):
    """Change what is given; safety kinds cannot be opted out of (they are dropped, not refused:
    the form does not offer them, and an API client sending one gets them back ignored)."""
    with transaction.atomic():
        preference, _created = Preference.objects.select_for_update().get_or_create(customer=customer)
        for name, value in (
            ("sms", sms),
            ("wechat", wechat),
            ("email", email),
            ("email_address", email_address),
            ("language", language),
        ):
            if value is not None:
                setattr(preference, name, value)
        if opt_out is not None:
            preference.opt_out = sorted({code for code in opt_out if code in CHOOSABLE})
        preference.save()
        return preference

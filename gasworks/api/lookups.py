"""Looking things up by what the caller sent: ids in the URL and in query filters.

- ``get_object_or_404``: DRF's, the one API code uses: a pk that is not a number
  (``/bills/abc/pdf/``) is a 404 like a missing object. Django's (django.shortcuts) lets the
  ValueError through as a 500; a test keeps it out of the API modules.
- ``id_param``: a ``?customer=``-style filter; absent is None, anything but a valid id a 400.
"""

from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError
from rest_framework.generics import get_object_or_404

from gasworks.lib.ids import MAX_ID, parse_id

__all__ = ["get_object_or_404", "id_param"]


def id_param(request, name: str) -> int | None:
    raw = request.query_params.get(name, "")
    if not raw.strip():
        return None
    value = parse_id(raw)
    if value is None:
        message = _("Give the id as a whole number from 1 to %(max)s.") % {"max": MAX_ID}
        raise ValidationError({name: [message]})
    return value

"""What a locked-out login sees: the API gets its JSON error envelope, pages get a page."""

from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

LOCKED_STATUS = 429


def lockout_response(request, response=None, credentials=None, *args, **kwargs):
    message = _("Too many failed attempts: this login is locked for a while.")
    if request.path.startswith("/api/"):
        body = {"error": {"code": "locked_out", "message": message, "fields": {}}}
        return JsonResponse(body, status=LOCKED_STATUS)
    return render(request, "registration/locked_out.html", status=LOCKED_STATUS)

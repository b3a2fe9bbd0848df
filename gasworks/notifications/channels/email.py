"""Mail through Django's mail backend, HTML and text. Configured when EMAIL_HOST is set (or a
non-SMTP backend is chosen, as in tests)."""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from gasworks.notifications.channels.base import Adapter, Outcome


class EmailAdapter(Adapter):
    code = "email"
    channel = "email"

    def describe(self) -> str:
        return _("Mail server")

    def configured(self) -> bool:
        backend = getattr(settings, "EMAIL_BACKEND", "")
        return bool(getattr(settings, "EMAIL_HOST", "") not in ("", "localhost")) or not backend.endswith(
            "smtp.EmailBackend"
        )

    def send(self, message, subject, text):
        mail = EmailMultiAlternatives(subject or text[:60], text, to=[message.address])
        mail.attach_alternative(
            render_to_string("notifications/email.html", {"subject": subject, "text": text}), "text/html"
        )
        try:
            mail.send()
        except (OSError, TimeoutError) as exc:  # the mail server did not answer: try again later
            return Outcome(sent=False, retry=True, error=str(exc)[:255])
        return Outcome(sent=True, ref=f"email:{message.key}")

"""Pages: the outbox (staff), channels and templates (admin), the portal inbox and preferences,
and a customer's preferences on the staff side."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from gasworks.accounts.access import is_customer
from gasworks.customers.models import Customer
from gasworks.errors import DomainError
from gasworks.lib.pagination import CappedPaginator
from gasworks.notifications import channels, interruptions, preferences, sender, texts
from gasworks.notifications.forms import InterruptionForm, OutboxFilter, PreferenceForm, TemplateForm
from gasworks.notifications.models import Channel, Message, MessageStatus, SupplyInterruption, Template
from gasworks.web.views import PAGE_SIZE, apply_error, staff_required


@staff_required
@permission_required("notifications.view_message", raise_exception=True)
def outbox(request):
    form = OutboxFilter(request.GET or None)
    queryset = Message.objects.select_related("customer")
    if form.is_valid():
        data = form.cleaned_data
        for name in ("status", "channel", "event"):
            if data.get(name):
                queryset = queryset.filter(**{name: data[name]})
        if data.get("account"):
            queryset = queryset.filter(customer__account_no=data["account"].strip())
    # A month of bill notices is millions of rows: count up to the cap, newest first by the key.
    page = CappedPaginator(queryset.order_by("-pk"), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "notifications/outbox.html", {"form": form, "page": page, "kinds": texts.KINDS})


@staff_required
@require_POST
@permission_required("notifications.change_message", raise_exception=True)
def resend(request, pk: int):
    message = get_object_or_404(Message, pk=pk)
    if message.status not in (MessageStatus.FAILED, MessageStatus.SUPPRESSED) or not message.address:
        messages.error(request, _("Only a failed message with an address can be sent again."))
    else:
        sender.resend(message, request.user)
        messages.success(request, _("Queued to be sent again."))
    return redirect(request.POST.get("next") or "notifications:outbox")


@staff_required
@permission_required("notifications.view_template", raise_exception=True)
def channel_list(request):
    rows = []
    for adapter in channels.adapters():
        sending = channels.active(adapter.channel)  # the adapter the channel sends through now
        rows.append(
            {
                "adapter": adapter,
                "label": Channel(adapter.channel).label,
                "configured": adapter.configured(),
                "in_use": sending is not None and sending.code == adapter.code,
            }
        )
    return render(request, "notifications/channels.html", {"rows": rows})


@staff_required
@permission_required("notifications.view_template", raise_exception=True)
def template_list(request):
    stored = {(t.event, t.channel, t.language): t for t in Template.objects.all()}
    return render(request, "notifications/templates.html", {"kinds": texts.KINDS, "stored": stored.values()})


@staff_required
@permission_required("notifications.change_template", raise_exception=True)
def template_edit(request, pk: int | None = None):
    instance = get_object_or_404(Template, pk=pk) if pk else None
    initial = {}
    if instance is None and request.GET.get("event") in texts.KINDS:
        event, language = request.GET["event"], request.GET.get("language", "zh-hans")
        subject, body = texts.built_in(event, language if language in ("en", "zh-hans") else "zh-hans")
        initial = {"event": event, "language": language, "subject": subject, "body": body, "channel": "sms"}
    form = TemplateForm(request.POST or None, instance=instance, initial=initial)
    preview = ""
    if request.method == "POST" and form.is_valid():
        sample = {
            name: f"«{name}»" for name in texts.KINDS[form.cleaned_data["event"]].variables + texts.COMMON
        }
        preview = texts.render(form.cleaned_data["body"], sample)
        if "save" in request.POST:
            template = form.save(commit=False)
            template.updated_by = request.user
            template.save()
            messages.success(request, _("Template saved."))
            return redirect("notifications:templates")
    length = texts.sms_length(preview, "") if preview else None
    return render(
        request, "notifications/template_form.html", {"form": form, "preview": preview, "length": length}
    )


@login_required
def inbox(request):
    if not is_customer(request.user):
        raise PermissionDenied
    queryset = Message.objects.filter(customer_id=request.user.customer_id, channel="portal").exclude(
        status=MessageStatus.QUEUED, text=""
    )
    page = Paginator(queryset.order_by("-created_at", "-pk"), PAGE_SIZE).get_page(request.GET.get("page"))
    Message.objects.filter(pk__in=[m.pk for m in page], read_at__isnull=True).update(read_at=timezone.now())
    return render(request, "notifications/inbox.html", {"page": page})


def _preferences(request, customer, back: str):
    current = preferences.of(customer)
    initial = {
        "sms": current.sms,
        "wechat": current.wechat,
        "email": current.email,
        "email_address": current.email_address,
        "language": current.language,
        "opt_out": current.opt_out,
    }
    form = PreferenceForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        preferences.save(customer, **form.cleaned_data)
        messages.success(request, _("Preferences saved."))
        return redirect(back)
    return render(
        request, "notifications/preferences.html", {"form": form, "customer": customer, "back": back}
    )


@login_required
def my_preferences(request):
    if not is_customer(request.user):
        raise PermissionDenied
    customer = get_object_or_404(Customer, pk=request.user.customer_id)
    return _preferences(request, customer, "notifications:my-preferences")


@staff_required
@permission_required("notifications.change_preference", raise_exception=True)
def customer_preferences(request, customer_pk: int):
    customer = get_object_or_404(Customer, pk=customer_pk)
    return _preferences(request, customer, f"/customers/{customer.pk}/")


@staff_required
@permission_required("notifications.view_supplyinterruption", raise_exception=True)
def interruption_list(request):
    page = Paginator(SupplyInterruption.objects.all(), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "notifications/interruptions.html", {"page": page})


@staff_required
@permission_required("notifications.announce_supplyinterruption", raise_exception=True)
def interruption_create(request):
    form = InterruptionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            item = interruptions.announce(
                data["district"],
                data["starts_at"],
                data["ends_at"],
                data["reason"],
                request.user,
                form.street_list(),
            )
        except DomainError as exc:
            apply_error(form, exc)
        else:
            messages.success(
                request, _("Announced: %(n)s customers are being told.") % {"n": item.customers_told}
            )
            return redirect("notifications:interruptions")
    return render(request, "web/form.html", {"form": form, "title": _("Announce a supply interruption")})


@staff_required
@require_POST
@permission_required("notifications.announce_supplyinterruption", raise_exception=True)
def interruption_cancel(request, pk: int):
    interruptions.cancel(get_object_or_404(SupplyInterruption, pk=pk), request.user)
    messages.success(request, _("Cancelled: the customers told are being told again."))
    return redirect("notifications:interruptions")

"""Staff pages of metering: meters, readings, review, routes (抄表册), import/export, alerts.
Each view checks its permission, calls one service and renders."""

import contextlib
import csv
import datetime as dt
import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.db.models.functions import TruncMonth
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from gasworks.accounts.access import is_customer
from gasworks.customers.models import Customer
from gasworks.errors import DomainError, InvalidInput
from gasworks.lib import media
from gasworks.lib.dates import start_of_day
from gasworks.lib.pagination import CappedPaginator
from gasworks.metering import bulk, forms, ingest, routes, self_reading, services
from gasworks.metering.billable import volume as volume_of
from gasworks.metering.models import (
    BILLABLE_STATUSES,
    DeadLetter,
    Meter,
    MeterKind,
    Reading,
    ReadingImport,
    ReadingPhoto,
    ReadingRoute,
    ReadingStatus,
    TamperAlert,
)
from gasworks.web.views import apply_error, file_reader, staff_required

PAGE_SIZE = 25


def perm(name):
    return permission_required(f"metering.{name}", raise_exception=True)


@staff_required
@perm("view_meter")
def meter_list(request):
    query = request.GET.get("q", "").strip()
    kind = request.GET.get("kind", "")
    meters = Meter.objects.select_related("premises").order_by("serial_no")
    if query:
        meters = meters.filter(
            Q(serial_no__istartswith=query) | Q(premises__address__icontains=query) | Q(district=query)
        )
    if kind in MeterKind.values:
        meters = meters.filter(kind=kind)
    else:
        kind = ""
    page = CappedPaginator(meters, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"page": page, "q": query, "kind": kind, "kinds": MeterKind.choices}
    return render(request, "metering/meter_list.html", context)


@staff_required
@perm("view_meter")
def meter_detail(request, pk):
    meter = get_object_or_404(Meter.objects.select_related("premises"), pk=pk)
    readings = Reading.objects.filter(meter=meter).select_related("customer").order_by("-taken_at")
    page = Paginator(readings, PAGE_SIZE).get_page(request.GET.get("page"))
    monthly: dict[str, float] = {}
    billable = readings.filter(status__in=BILLABLE_STATUSES).annotate(month=TruncMonth("taken_at"))
    # At base conditions where the meter corrects (a supply meter's volume is only comparable
    # with the bills once corrected), else as measured: billable.volume, the billing rule.
    for month, volume, corrected in billable.values_list("month", "consumption", "corrected_consumption"):
        key = month.strftime("%Y-%m")
        monthly[key] = monthly.get(key, 0) + float(volume_of(volume, corrected))  # chart only
    chart = {"months": sorted(monthly), "volumes": [round(monthly[m], 3) for m in sorted(monthly)]}
    context = {
        "meter": meter,
        "page": page,
        "events": meter.events.select_related("by"),
        "customer": services.billing_customer(meter.premises_id),
        "chart": json.dumps(chart),
        "has_key": hasattr(meter, "device_key"),
        "connected": meter.kind in ingest.CONNECTED_KINDS,
        "alerts": meter.alerts.filter(closed_at__isnull=True)[:10],
    }
    return render(request, "metering/meter_detail.html", context)


@staff_required
@perm("add_meter")
def meter_create(request):
    form = forms.MeterForm(request.POST or None, initial={"installed_on": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        customer = None
        if data["kind"] != MeterKind.DISTRICT:
            customer = Customer.objects.filter(account_no=data["account_no"].strip()).first()
            if customer is None:
                form.add_error("account_no", _("No such account."))
        if form.is_valid():
            try:
                meter = services.install_meter(
                    data["serial_no"],
                    customer.premises if customer is not None else None,
                    kind=data["kind"],
                    digits=data["digits"],
                    initial_reading=data["initial_reading"],
                    installed_on=data["installed_on"],
                    correction_factor=data["correction_factor"],
                    by=request.user,
                    district=data["district"],
                )
            except DomainError as exc:
                apply_error(form, exc)
            else:
                messages.success(request, _("Meter installed."))
                return redirect("metering:meter-detail", pk=meter.pk)
    return render(request, "web/form.html", {"form": form, "title": _("Install a meter")})


@staff_required
@perm("change_meter")
def meter_replace(request, pk):
    meter = get_object_or_404(Meter, pk=pk)
    form = forms.ReplaceForm(request.POST or None, initial={"on": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            new = services.replace_meter(
                meter,
                data["final_value"],
                data["new_serial_no"],
                data["on"],
                data["new_initial"],
                by=request.user,
            )
        except DomainError as exc:
            apply_error(form, exc)
        else:
            messages.success(request, _("Meter replaced."))
            return redirect("metering:meter-detail", pk=new.pk)
    return render(
        request, "web/form.html", {"form": form, "title": _("Replace %(s)s") % {"s": meter.serial_no}}
    )


@staff_required
@perm("change_meter")
def meter_remove(request, pk):
    meter = get_object_or_404(Meter, pk=pk)
    form = forms.RemoveForm(request.POST or None, initial={"on": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        try:
            services.remove_meter(
                meter, form.cleaned_data["final_value"], form.cleaned_data["on"], by=request.user
            )
        except DomainError as exc:
            apply_error(form, exc)
        else:
            messages.success(request, _("Meter removed."))
            return redirect("metering:meter-detail", pk=meter.pk)
    return render(
        request, "web/form.html", {"form": form, "title": _("Remove %(s)s") % {"s": meter.serial_no}}
    )


@staff_required
@perm("manage_device_keys")
@require_POST
def meter_device_key(request, pk):
    meter = get_object_or_404(Meter, pk=pk)
    try:
        key = ingest.issue_key(meter, by=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("metering:meter-detail", pk=meter.pk)
    # Shown on this response only; it is never displayed again.
    response = render(request, "metering/device_key.html", {"meter": meter, "key": key})
    response["Cache-Control"] = "no-store"
    return response


@staff_required
@perm("add_reading")
def reading_create(request):
    initial = {
        "taken_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        "meter": request.GET.get("meter", ""),
    }
    form = forms.ReadingForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        meter = Meter.objects.filter(serial_no=data["meter"].strip()).first()
        previous = None
        if meter is not None and not data["confirm"]:
            previous = services.goes_backwards(meter, data["value"], data["taken_at"])
        if meter is None:
            form.add_error("meter", _("Unknown meter."))
        elif previous is not None:
            form.ask_to_confirm(previous)
        else:
            try:
                reading = services.record_reading(
                    meter,
                    data["value"],
                    data["taken_at"],
                    reason=data["reason"],
                    pressure_kpa=data["pressure_kpa"],
                    temperature_c=data["temperature_c"],
                    by=request.user,
                )
            except DomainError as exc:
                apply_error(form, exc)
            else:
                _report(request, reading)
                return redirect("metering:meter-detail", pk=meter.pk)
    return render(request, "web/form.html", {"form": form, "title": _("Enter a reading")})


def _report(request, reading) -> None:
    if reading.flags:
        messages.warning(
            request, _("Saved, but flagged for review: %(f)s") % {"f": ", ".join(reading.flag_labels)}
        )
    else:
        messages.success(request, _("Saved: %(v)s m³ used.") % {"v": reading.consumption})


@staff_required
@perm("review_reading")
def review_queue(request):
    page = Paginator(services.review_queue(), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "metering/review_queue.html", {"page": page, "form": forms.ReviewForm()})


@staff_required
@perm("review_reading")
@require_POST
def review_decide(request, pk, decision):
    reading = get_object_or_404(Reading, pk=pk)
    form = forms.ReviewForm(request.POST)
    if not form.is_valid() or decision not in {"approve", "correct", "reject"}:
        messages.error(request, _("Check the corrected value."))
        return redirect("metering:review-queue")
    note = form.cleaned_data["note"]
    try:
        if decision == "approve":
            services.approve(reading, by=request.user, note=note)
        elif decision == "reject":
            services.reject(reading, by=request.user, note=note)
        else:
            if form.cleaned_data["value"] is None:
                raise DomainError("invalid", _("Give the corrected value."), status=400)
            services.correct(reading, form.cleaned_data["value"], by=request.user, note=note)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Decided."))
    return redirect("metering:review-queue")


# ---------------------------------------------------------------- routes


def _visible_routes(user):
    routes = ReadingRoute.objects.select_related("reader").order_by("name")
    if user.has_perm("metering.change_readingroute"):
        return routes
    return routes.filter(reader=user)


@staff_required
@perm("view_readingroute")
def route_list(request):
    routes = list(_visible_routes(request.user))
    start = _cycle_start()
    for route in routes:
        ids = list(route.stops.values_list("meter_id", flat=True))
        route.total = len(ids)
        route.done = (
            Reading.objects.filter(meter_id__in=ids, taken_at__gte=start)
            .values("meter_id")
            .distinct()
            .count()
        )
    return render(request, "metering/route_list.html", {"routes": routes})


@staff_required
@perm("add_readingroute")
def route_create(request):
    """Start a route: a name, a reader, and all meters of a district or a street (or none yet,
    to pick them on the builder page)."""
    form = forms.RouteCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        ids = []
        if data["district"] or data["street"]:
            meters = routes.installed_meters(district=data["district"], street=data["street"].strip())
            ids = list(meters.values_list("pk", flat=True))
        try:
            route = routes.create_route(data["name"], data["reader"], ids, by=request.user)
        except DomainError as exc:
            apply_error(form, exc)
        else:
            messages.success(request, _("Route created with %(n)d stops.") % {"n": len(ids)})
            return redirect("metering:route-edit", pk=route.pk)
    return render(request, "web/form.html", {"form": form, "title": _("New reading route")})


ROUTE_PICK_LIMIT = 200


@staff_required
@perm("change_readingroute")
def route_edit(request, pk):
    """The route builder: the stops in walking order (move, remove), meters to add by district,
    street or search, and the route's name and reader."""
    route = get_object_or_404(ReadingRoute.objects.select_related("reader"), pk=pk)
    filters = {
        "district": request.GET.get("district", "").strip(),
        "street": request.GET.get("street", "").strip()[:80],
        "q": request.GET.get("q", "").strip()[:80],
    }
    settings_form = forms.RouteSettingsForm(
        request.POST if request.POST.get("action") == "settings" else None,
        initial={"name": route.name, "reader": route.reader},
    )
    if request.method == "POST":
        try:
            done = _route_action(request, route, settings_form)
        except DomainError as exc:
            if request.POST.get("action") == "settings":
                apply_error(settings_form, exc)
            else:
                messages.error(request, exc.message)
            done = False
        if done:
            return redirect(f"{reverse('metering:route-edit', args=[route.pk])}?{request.GET.urlencode()}")
    stops = list(route.stops.select_related("meter__premises").order_by("position"))
    on_route = {s.meter_id for s in stops}
    picked = None
    if any(filters.values()):
        meters = routes.installed_meters(filters["district"], filters["street"], filters["q"])
        picked = {"count": meters.count(), "meters": list(meters[:ROUTE_PICK_LIMIT])}
    context = {
        "route": route,
        "stops": stops,
        "on_route": on_route,
        "picked": picked,
        "filters": filters,
        "districts": routes.districts(),
        "settings_form": settings_form,
        "limit": ROUTE_PICK_LIMIT,
    }
    return render(request, "metering/route_edit.html", context)


def _route_action(request, route, settings_form) -> bool:
    """One change of the builder page, through the routes service; True when done."""
    action, post = request.POST.get("action", ""), request.POST
    if action == "settings":
        if not settings_form.is_valid():
            return False
        data = settings_form.cleaned_data
        routes.update_route(route, data["name"], data["reader"], by=request.user)
        messages.success(request, _("Route saved."))
    elif action == "add":
        added = routes.add_stops(route, post.getlist("meter"), by=request.user)
        messages.success(request, _("%(n)d meters added.") % {"n": added})
    elif action == "add_all":
        meters = routes.installed_meters(
            post.get("district", "").strip(), post.get("street", "").strip(), post.get("q", "").strip()
        )
        added = routes.add_stops(route, list(meters.values_list("pk", flat=True)), by=request.user)
        messages.success(request, _("%(n)d meters added.") % {"n": added})
    elif action in ("up", "down"):
        routes.move_stop(route, post.get("meter"), -1 if action == "up" else 1, by=request.user)
    elif action == "remove":
        routes.remove_stop(route, post.get("meter"), by=request.user)
    elif action == "order":
        routes.reorder(route, post.getlist("meter"), by=request.user)
    else:
        raise DomainError("invalid", _("Unknown change."), status=400)
    return True


def _next_stop(route, stops, index, done):
    following = next((i for i in range(index + 1, len(stops)) if stops[i].meter_id not in done), None)
    if following is None:
        return redirect("metering:route-list")
    return redirect(f"{reverse('metering:route-walk', args=[route.pk])}?stop={following}")


def _cycle_start() -> dt.datetime:
    """Readings since the first of this month count as done for the route."""
    today = timezone.localdate()
    return start_of_day(today.replace(day=1))


@staff_required
@perm("view_readingroute")
def route_walk(request, pk):
    """The meter reader's phone page: one meter at a time, its last reading, the new one."""
    route = get_object_or_404(_visible_routes(request.user), pk=pk)
    stops = list(route.stops.select_related("meter__premises").order_by("position"))
    if not stops:
        return render(request, "metering/route_walk.html", {"route": route, "stop": None})
    start = _cycle_start()
    done = set(
        Reading.objects.filter(meter_id__in=[s.meter_id for s in stops], taken_at__gte=start).values_list(
            "meter_id", flat=True
        )
    )
    try:
        index = max(0, min(int(request.GET.get("stop", "")), len(stops) - 1))
    except ValueError:
        index = next((i for i, s in enumerate(stops) if s.meter_id not in done), 0)
    stop = stops[index]
    meter = stop.meter
    form = forms.RouteReadingForm(request.POST or None)
    backwards = None
    if request.method == "POST":
        if not request.user.has_perm("metering.add_reading"):
            return HttpResponse(status=403)
        if form.is_valid():
            value, now = form.cleaned_data["value"], timezone.now()
            if not form.cleaned_data["confirm"]:
                backwards = services.goes_backwards(meter, value, now)
            if backwards is None:
                try:
                    reading = services.record_reading(meter, value, now, by=request.user)
                except DomainError as exc:
                    apply_error(form, exc)
                else:
                    _report(request, reading)
                    return _next_stop(route, stops, index, done | {meter.pk})
    last = Reading.objects.filter(meter=meter).exclude(status="rejected").order_by("-taken_at").first()
    context = {
        "backwards": backwards,
        "route": route,
        "stop": stop,
        "meter": meter,
        "customer": services.billing_customer(meter.premises_id),
        "last": last,
        "form": form,
        "index": index,
        "count": len(stops),
        "done": len(done),
        "read_now": meter.pk in done,
        "previous": index - 1 if index > 0 else None,
        "next": index + 1 if index + 1 < len(stops) else None,
    }
    return render(request, "metering/route_walk.html", context)


# ---------------------------------------------------------------- import / export


@staff_required
@perm("import_readings")
def reading_import(request):
    form = forms.ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            batch = bulk.stage_file(upload.name, upload.read(), by=request.user)
        except DomainError as exc:
            apply_error(form, exc)
        else:
            return redirect("metering:reading-import-preview", pk=batch.pk)
    return render(request, "metering/import.html", {"form": form})


@staff_required
@perm("import_readings")
def reading_import_preview(request, pk):
    batch = get_object_or_404(ReadingImport, pk=pk, created_by=request.user)
    rows, errors = bulk.check_rows(batch.rows)
    if request.method == "POST" and batch.imported_at is None:
        if errors:
            messages.error(request, _("Fix the rows with errors first: nothing was imported."))
        else:
            try:
                result = bulk.import_batch(batch, by=request.user)
            except DomainError as exc:
                messages.error(request, exc.message)
            else:
                messages.success(
                    request,
                    _("%(n)d readings imported, %(f)d flagged for review.")
                    % {"n": result["imported"], "f": result["flagged"]},
                )
                return redirect("metering:meter-list")
    context = {
        "batch": batch,
        "rows": rows[:200],
        "count": len(rows),
        "errors": sorted(errors.items()),
    }
    return render(request, "metering/import_preview.html", context)


class _Echo:
    def write(self, value):
        return value


@staff_required
@perm("view_reading")
def reading_export(request):
    """Readings as CSV, in the import's columns plus the results (optionally ?from=&to= dates)."""
    readings = Reading.objects.select_related("meter", "customer").order_by("meter__serial_no", "taken_at")
    for name, lookup in (("from", "taken_at__date__gte"), ("to", "taken_at__date__lte")):
        with contextlib.suppress(KeyError, ValueError):
            readings = readings.filter(**{lookup: dt.date.fromisoformat(request.GET[name])})
    writer = csv.writer(_Echo())
    header = [
        "serial_no",
        "value",
        "taken_at",
        "reason",
        "status",
        "flags",
        "consumption",
        "corrected_consumption",
        "account_no",
    ]

    def lines():
        yield "\ufeff" + writer.writerow(header)
        for r in readings.iterator(chunk_size=2000):
            yield writer.writerow(
                [r.meter.serial_no, r.value, timezone.localtime(r.taken_at).isoformat(), r.reason, r.status,
                 " ".join(r.flags), r.consumption, r.corrected_consumption, r.customer.account_no]
            )  # fmt: skip

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="readings.csv"'
    return response


# ---------------------------------------------------------------- alerts


@staff_required
@perm("view_tamperalert")
def alert_list(request):
    show = request.GET.get("show", "open")
    alerts = TamperAlert.objects.select_related("meter", "customer", "reading").order_by("-raised_at", "-pk")
    if show != "all":
        alerts = alerts.filter(closed_at__isnull=True)
    page = Paginator(alerts, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "metering/alert_list.html", {"page": page, "show": show})


@staff_required
@perm("view_deadletter")
def dead_letter_list(request):
    """MQTT messages the consumer could not read: kept with their reason, counted by reason."""
    counts = dict(DeadLetter.objects.values_list("reason").annotate(n=Count("pk")).order_by())
    reasons = [(label, counts.get(value, 0)) for value, label in DeadLetter._meta.get_field("reason").choices]
    page = Paginator(DeadLetter.objects.all(), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "metering/dead_letter_list.html",
        {"page": page, "reasons": reasons, "total": sum(counts.values())},
    )


@staff_required
@perm("change_tamperalert")
@require_POST
def alert_close(request, pk):
    alert = get_object_or_404(TamperAlert, pk=pk)
    try:
        services.close_alert(alert, by=request.user, note=request.POST.get("note", ""))
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("metering:alert-list")


@file_reader
def reading_photo(request, pk):
    """The photo sent with a self-reading: to staff who see readings or review them, and to the
    customer who sent it. Another customer's is a 404."""
    user = request.user
    if is_customer(user):
        readings = Reading.objects.filter(customer_id=user.customer_id)
    elif user.has_perm("metering.view_reading") or user.has_perm("metering.review_reading"):
        readings = Reading.objects.all()
    else:
        raise PermissionDenied
    found = get_object_or_404(ReadingPhoto, reading__in=readings.filter(pk=pk))
    return media.serve(found.image.name)


# ---------------------------------------------------------------- the customer's portal


@login_required
def portal_reading(request):
    """The customer sends a meter reading with a photo (自报读数) and sees the last ones."""
    if not is_customer(request.user):
        raise PermissionDenied
    customer = Customer.objects.select_related("premises").get(pk=request.user.customer_id)
    meters = list(self_reading.customer_meters(customer))
    form = forms.SelfReadingForm(request.POST or None, request.FILES or None, meters=meters)
    status = 200
    if request.method == "POST":
        try:
            if not form.is_valid():
                raise InvalidInput("invalid", _("Check the fields marked below."))
            data = form.cleaned_data
            reading = self_reading.submit(
                customer,
                data["meter"],
                data["value"],
                data["photo"],
                by=request.user,
                read_at=data["read_at"],
            )
        except DomainError as exc:
            apply_error(form, exc)
            status = exc.status
        else:
            if reading.status == ReadingStatus.FLAGGED:
                messages.warning(
                    request,
                    _(
                        "Thank you. Your reading %(value)s looks unusual (%(why)s): our staff check it with the photo before it is billed."
                    )
                    % {"value": reading.value, "why": ", ".join(str(f) for f in reading.flag_labels)},
                )
            else:
                messages.success(
                    request, _("Thank you: your reading %(value)s is recorded.") % {"value": reading.value}
                )
            return redirect("metering:portal-reading")
    return render(
        request,
        "metering/portal_reading.html",
        {
            "customer": customer,
            "form": form,
            "meters": [(m, services.baseline(m).value) for m in meters],
            "recent": self_reading.recent(customer),
        },
        status=status,
    )

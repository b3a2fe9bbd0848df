"""Pages of the foundation: dashboard, portal landing, customers, users, parameters, audit log,
registration and profile. Each view checks its permission, calls one service and renders."""

import functools

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from gasworks.accounts import services as account_services
from gasworks.accounts.access import is_customer
from gasworks.customers import services as customer_services
from gasworks.customers.models import Category, Customer, Status
from gasworks.errors import DomainError
from gasworks.lib.pagination import CappedPaginator
from gasworks.system import auditlog, parameters
from gasworks.system.models import Parameter
from gasworks.web import forms

PAGE_SIZE = 25


def apply_error(form, exc: DomainError) -> None:
    """Show a refused action on the form: field messages by field, the rest on top."""
    placed = False
    for field, errors in exc.fields.items():
        if field in form.fields:
            for error in errors:
                form.add_error(field, error)
            placed = True
    if not placed or exc.message:
        form.add_error(None, exc.message)


def staff_required(view):
    """A page for staff only: customer logins get 403, anonymous users the login page."""

    @login_required
    def wrapped(request, *args, **kwargs):
        if is_customer(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return wrapped


def file_reader(view):
    """A view that hands out a stored file (a photo): for a signed-in page (an <img> in it) and
    for an API client, which sends its `Authorization: Token` and gets the same file its JSON
    linked to. Anyone else gets 403, before anything is looked up (so nothing is revealed)."""

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        if not request.user.is_authenticated:
            from rest_framework.exceptions import AuthenticationFailed

            from gasworks.api.auth import TokenAuthentication

            try:
                found = TokenAuthentication().authenticate(request)
            except AuthenticationFailed:
                found = None
            if found is None:
                raise PermissionDenied
            request.user = found[0]
        return view(request, *args, **kwargs)

    return wrapped


@login_required
def portal(request):
    if not is_customer(request.user):
        return redirect("home")
    customer = Customer.objects.select_related("premises").get(pk=request.user.customer_id)
    from gasworks.customers.balance import balance_of
    from gasworks.web.navigation import menu_for

    sections = [s for s in (section(request, customer) for section in PORTAL_SECTIONS) if s]
    sections.sort(key=lambda s: s.get("order", 0))  # stable: notices (no order) stay first
    shortcuts = [e for e in menu_for(request.user, request.path) if e["url"] != request.path]
    return render(
        request,
        "web/portal.html",
        {
            "customer": customer,
            "balance": balance_of(customer),
            "notices": [s for s in sections if not s.get("order")],
            "panels": [s for s in sections if s.get("order")],
            "scripts": list(dict.fromkeys(src for s in sections for src in s.get("scripts", ()))),
            "shortcuts": shortcuts,
        },
    )


# Domain apps add to the customer's portal page the same way: (request, customer) ->
# {"template", ...} or None. A section without "order" is a notice at the top (a supply
# interruption, unread messages); one with an "order" is a card below, in that order ("wide":
# the full width; "scripts": static files the card needs, each loaded once).
PORTAL_SECTIONS: list = []


@staff_required
@permission_required("customers.view_customer", raise_exception=True)
def customer_list(request):
    queryset = Customer.objects.select_related("premises").order_by("account_no")
    query = request.GET.get("q", "").strip()
    category = request.GET.get("category", "")
    status = request.GET.get("status", "")
    if category in Category.values:
        queryset = queryset.filter(category=category)
    if status in Status.values:
        queryset = queryset.filter(status=status)
    queryset = customer_services.search(queryset, query)
    page = CappedPaginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "q": query,
        "category": category,
        "status": status,
        "categories": Category.choices,
        "statuses": Status.choices,
    }
    template = "web/customer_rows.html" if request.headers.get("HX-Request") else "web/customer_list.html"
    return render(request, template, context)


@staff_required
@permission_required("customers.view_customer", raise_exception=True)
def customer_detail(request, pk):
    customer = get_object_or_404(Customer.objects.select_related("premises"), pk=pk)
    from gasworks.customers.balance import balance_of

    history = customer.status_changes.select_related("by")
    return render(
        request,
        "web/customer_detail.html",
        {
            "customer": customer,
            "history": history,
            "balance": balance_of(customer),
            "sections": customer_sections(request, customer),
        },
    )


# Domain apps add panels to the customer page (meters, bills, hazards...) without customers
# knowing them: each is a function (request, customer) -> {"title", "template", ...} or None.
CUSTOMER_SECTIONS: list = []


def customer_sections(request, customer, sections=None) -> list[dict]:
    return [s for s in (section(request, customer) for section in sections or CUSTOMER_SECTIONS) if s]


# Notices at the top of the counter's customer page (a planned supply interruption), added the
# same way; `counter_sections` is what the payments counter shows.
COUNTER_SECTIONS: list = []


def counter_sections(request, customer) -> list[dict]:
    return customer_sections(request, customer, COUNTER_SECTIONS) if COUNTER_SECTIONS else []


def _customer_data(form_data) -> customer_services.CustomerData:
    return customer_services.CustomerData(**form_data)


@staff_required
@permission_required("customers.add_customer", raise_exception=True)
def customer_create(request):
    form = forms.CustomerForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            customer = customer_services.open_account(_customer_data(form.cleaned_data), by=request.user)
        except DomainError as exc:
            apply_error(form, exc)
        else:
            messages.success(request, _("Account %(no)s opened.") % {"no": customer.account_no})
            return redirect("customer-detail", pk=customer.pk)
    return render(request, "web/form.html", {"form": form, "title": _("Open an account")})


@staff_required
@permission_required("customers.change_customer", raise_exception=True)
def customer_edit(request, pk):
    customer = get_object_or_404(Customer.objects.select_related("premises"), pk=pk)
    initial = {
        "name": customer.name,
        "category": customer.category,
        "gas_use": customer.gas_use,
        "phone": customer.phone,
        "address": customer.premises.address,
        "district": customer.premises.district,
        "household_size": customer.household_size,
        "id_number": customer.id_number,
    }
    form = forms.CustomerForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            customer_services.update_account(customer, by=request.user, **form.cleaned_data)
        except DomainError as exc:
            apply_error(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("customer-detail", pk=customer.pk)
    return render(
        request, "web/form.html", {"form": form, "title": _("Edit %(no)s") % {"no": customer.account_no}}
    )


@staff_required
@permission_required("customers.transfer_customer", raise_exception=True)
def customer_transfer(request, pk):
    """The old transfer address: a name transfer now needs a final reading and a final bill, so
    it is the service app's move-out flow, started as a transfer (the query string kept)."""
    customer = get_object_or_404(Customer, pk=pk)
    query = request.GET.copy()
    query["kind"] = "transfer"
    return redirect(f"{reverse('service:moveout-start', args=[customer.pk])}?{query.urlencode()}")


STATUS_ACTIONS = {
    "suspend": ("customers.suspend_customer", Status.SUSPENDED, _("Suspend account")),
    "reactivate": ("customers.suspend_customer", Status.ACTIVE, _("Reactivate account")),
    "close": ("customers.close_customer", Status.CLOSED, _("Close account")),
}


@staff_required
def customer_status(request, pk, verb):
    if verb not in STATUS_ACTIONS:
        raise Http404
    perm, to_status, title = STATUS_ACTIONS[verb]
    if not request.user.has_perm(perm):
        raise PermissionDenied
    customer = get_object_or_404(Customer, pk=pk)
    form = forms.ReasonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            customer_services.change_status(customer, to_status, form.cleaned_data["reason"], by=request.user)
        except DomainError as exc:
            apply_error(form, exc)
        else:
            messages.success(
                request,
                _("Account %(no)s is now %(status)s.")
                % {"no": customer.account_no, "status": Status(to_status).label},
            )
            return redirect("customer-detail", pk=customer.pk)
    return render(request, "web/form.html", {"form": form, "title": f"{title}: {customer.account_no}"})


@staff_required
@permission_required("accounts.view_user", raise_exception=True)
def user_list(request):
    users = get_user_model().objects.select_related("customer").order_by("role", "username")
    page = Paginator(users, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "web/user_list.html", {"page": page})


@staff_required
@permission_required("accounts.add_user", raise_exception=True)
def user_create(request):
    form = forms.UserCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            customer = None
            if data["customer_account_no"]:
                number = customer_services.check_account_no(data["customer_account_no"])
                customer = Customer.objects.filter(account_no=number).first()
                if customer is None:
                    raise DomainError(
                        "unknown_account",
                        _("No account has that number."),
                        {"customer_account_no": [_("Unknown account.")]},
                    )
            account_services.create_user(
                data["username"],
                data["password"],
                data["role"],
                customer,
                first_name=data["first_name"],
                email=data["email"],
            )
        except DomainError as exc:
            apply_error(form, exc)
        else:
            messages.success(request, _("User %(name)s created.") % {"name": data["username"]})
            return redirect("user-list")
    return render(request, "web/form.html", {"form": form, "title": _("New user")})


@staff_required
@permission_required("accounts.change_user", raise_exception=True)
def user_edit(request, pk):
    user = get_object_or_404(get_user_model(), pk=pk)
    form = forms.UserEditForm(request.POST or None, instance=user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            # The form already wrote the fields onto `user`; the service checks the role move.
            fresh = get_user_model().objects.get(pk=pk)
            account_services.update_user(
                fresh,
                role=data["role"],
                is_active=data["is_active"],
                first_name=data["first_name"],
                last_name=data["last_name"],
                email=data["email"],
                phone=data["phone"],
            )
        except DomainError as exc:
            apply_error(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("user-list")
    return render(request, "web/form.html", {"form": form, "title": user.username})


@staff_required
@permission_required("system.view_parameter", raise_exception=True)
def parameter_list(request):
    stored = dict(Parameter.objects.values_list("key", "value"))
    can_edit = request.user.has_perm("system.change_parameter")
    errors: dict[str, str] = {}
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied
        from gasworks.system.services import set_parameters

        try:
            set_parameters({k: v for k, v in request.POST.items() if k in parameters.REGISTRY})
        except DomainError as exc:
            errors = {k: v[0] for k, v in exc.fields.items()}
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Parameters saved."))
            return redirect("parameter-list")
    rows = []
    for spec in parameters.REGISTRY.values():
        raw = request.POST.get(spec.key) if errors else None
        value = raw if raw is not None else stored.get(spec.key, str(spec.default))
        rows.append(
            {"spec": spec, "value": value, "error": errors.get(spec.key), "overridden": spec.key in stored}
        )
    return render(request, "web/parameters.html", {"rows": rows, "can_edit": can_edit})


@staff_required
@permission_required("system.view_auditentry", raise_exception=True)
def audit_list(request):
    """Every recorded change, newest first, with the ledger's entries among them (see
    gasworks.system.auditlog), filtered by who, object, action and dates, 50 to a page."""
    form = forms.AuditFilterForm(
        request.GET or None, types=auditlog.object_types(), actions=auditlog.action_labels()
    )
    filters = auditlog.Filters()
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        filters = auditlog.Filters(
            actor=data["actor"].pk if data["actor"] else None,
            model=data["model"],
            object_id=data["object_id"].strip(),
            q=data["q"].strip(),
            action=data["action"],
            since=data["since"],
            until=data["until"],
        )
    page = CappedPaginator(auditlog.LogPage(filters).query, 50).get_page(request.GET.get("page"))
    rows = auditlog.LogPage.rows(page.object_list)
    return render(request, "web/audit_list.html", {"page": page, "rows": rows, "form": form})


def register(request):
    if request.user.is_authenticated:
        return redirect("home")
    form = forms.RegisterForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            account_services.register_customer(
                data["account_no"], data["phone"], data["username"], data["password1"], data["email"]
            )
        except DomainError as exc:
            apply_error(form, exc)
        else:
            messages.success(request, _("Your login is ready: please sign in."))
            return redirect("login")
    return render(request, "registration/register.html", {"form": form})


@login_required
def profile(request):
    form = forms.ProfileForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Profile saved."))
        return redirect("profile")
    return render(request, "web/form.html", {"form": form, "title": _("My profile"), "profile": True})


def favicon(request):
    """/favicon.ico, which browsers ask for where a page has no <link rel="icon"> (a PDF, the API)."""
    from django.templatetags.static import static

    response = redirect(static("gasworks/favicon.ico"))
    response["Cache-Control"] = "public, max-age=86400"
    return response

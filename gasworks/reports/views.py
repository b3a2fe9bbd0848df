from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render

from gasworks.accounts.access import is_customer
from gasworks.reports.dashboard import tiles_for


@login_required
def dashboard(request):
    """The landing page: customers go to their portal, staff see the figures of their role."""
    if is_customer(request.user):
        return redirect("portal")
    return render(request, "web/home.html", {"sections": tiles_for(request.user)})

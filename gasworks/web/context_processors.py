from gasworks.accounts.access import role_of
from gasworks.system import parameters
from gasworks.web.navigation import menu_for


def navigation(request):
    user = getattr(request, "user", None)
    if user is None:
        return {}
    return {
        "menu": menu_for(user, request.path),
        "user_role": role_of(user),
        "station_name": parameters.get("station_name") if user.is_authenticated else "",
    }

from gasworks.accounts.access import role_of
from gasworks.accounts.roles import Role
from gasworks.system import parameters
from gasworks.web.navigation import group_sections, menu_for


def navigation(request):
    user = getattr(request, "user", None)
    if user is None:
        return {}
    menu = menu_for(user, request.path)
    return {
        "menu": menu,
        "menu_sections": group_sections(menu),
        "user_role": role_of(user),
        "user_role_label": Role(role_of(user)).label if role_of(user) else "",
        "station_name": parameters.get("station_name") if user.is_authenticated else "",
    }

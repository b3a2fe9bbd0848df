"""moveout: see gasworks/service/__init__.py. Move-out and name transfer with a final reading, a
final bill and the balance settled, in one transaction (services.py)."""


def ready() -> None:
    """Called from the service app's AppConfig.ready: the roles that may move accounts out."""
    from gasworks.accounts import roles

    roles.extend(roles.Role.CASHIER, "service.move_out_customer", "service.view_moveout")

"""arrangements: see gasworks/service/__init__.py."""


def ready() -> None:
    """Called from the service app's AppConfig.ready: roles, menu, panels, parameters."""
    from gasworks.service.arrangements import wiring

    wiring.connect()

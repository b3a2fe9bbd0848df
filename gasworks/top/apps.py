from django.apps import AppConfig


class TopConfig(AppConfig):
    """Listed last in INSTALLED_APPS: its ready() runs after every domain app's."""

    name = "gasworks.top"
    label = "top"
    verbose_name = "Gasworks"

    def ready(self) -> None:
        from gasworks import subscriptions
        from gasworks.celery import install_schedule
        from gasworks.customers.management.commands.seed_demo import EXTRA_SEEDERS
        from gasworks.top import demo

        subscriptions.connect()
        install_schedule()
        if demo.seed not in EXTRA_SEEDERS:
            EXTRA_SEEDERS.append(demo.seed)  # last: it bills the readings the others seeded

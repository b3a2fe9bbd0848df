from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "gasworks.web"
    label = "web"
    verbose_name = "Web"

    def ready(self) -> None:
        # Last app loaded: its demo seeder runs after every domain app's own.
        from gasworks.customers.management.commands.seed_demo import EXTRA_SEEDERS
        from gasworks.web import demo

        if demo.seed not in EXTRA_SEEDERS:
            EXTRA_SEEDERS.append(demo.seed)

from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "gasworks.web"
    label = "web"
    verbose_name = "Web"

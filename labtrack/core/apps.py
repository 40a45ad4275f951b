from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "labtrack.core"
    label = "core"

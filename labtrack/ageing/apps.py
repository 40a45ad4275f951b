from django.apps import AppConfig


class AgeingConfig(AppConfig):
    name = "labtrack.ageing"
    label = "ageing"

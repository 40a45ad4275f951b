from django.apps import AppConfig


class AnalysesConfig(AppConfig):
    name = "labtrack.analyses"
    label = "analyses"

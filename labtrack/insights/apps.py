from django.apps import AppConfig


class InsightsConfig(AppConfig):
    name = "labtrack.insights"
    label = "insights"

from django.apps import AppConfig


class WebConfig(AppConfig):
    """Server-rendered pages for chemists and analysts (thin views over services/selectors)."""

    name = "labtrack.web"
    label = "web"
    verbose_name = "LabTrack web pages"

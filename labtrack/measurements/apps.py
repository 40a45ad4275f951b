from django.apps import AppConfig


class MeasurementsConfig(AppConfig):
    name = "labtrack.measurements"
    label = "measurements"

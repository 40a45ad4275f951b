from django.apps import AppConfig


class SamplesConfig(AppConfig):
    name = "labtrack.samples"
    label = "samples"

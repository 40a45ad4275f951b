from django.apps import AppConfig


class OperationsConfig(AppConfig):
    """Running LabTrack: the demo seed, the sweep, raw-file verification, worker processes.
    It sits above every other app and nothing imports it."""

    name = "labtrack.operations"
    label = "operations"

from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "labtrack.core"
    label = "core"

    def ready(self) -> None:
        from labtrack.core import audit  # noqa: F401  (connects the history-reason receiver)

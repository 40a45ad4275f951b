from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "labtrack.core"
    label = "core"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from labtrack.core import audit  # noqa: F401  (connects the history-reason receiver)
        from labtrack.core.append_only import _after_migrate

        post_migrate.connect(_after_migrate, dispatch_uid="labtrack-history-append-only")

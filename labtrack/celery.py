"""The Celery app. Worker: `celery -A labtrack worker`; periodic sweep: `celery -A labtrack beat`."""
import os

from celery import Celery
from celery.signals import worker_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "labtrack.settings")

app = Celery("labtrack")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_init.connect
def _remove_stale_temp_dirs(**_kwargs) -> None:
    """Temp folders of runs whose worker was killed (kill -9, OOM) are removed at start."""
    from labtrack import engine  # after Django is set up: the worker imports this module first

    engine.remove_stale_temp_dirs(max_age_hours=6)

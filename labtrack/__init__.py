"""LabTrack: laboratory information and sample tracking for perovskite nanocrystal labs."""
import analysis  # noqa: F401  (sets BLAS threading before numpy is imported)
from labtrack.celery import app as celery_app

__all__ = ("celery_app",)

"""LabTrack: laboratory information and sample tracking for perovskite nanocrystal labs."""
from labtrack.celery import app as celery_app

__all__ = ("celery_app",)

"""Beat task for pull-point reminders. Sending is idempotent: a ReminderSent row per
pull point (unique) records it, so a restarted or doubled beat never resends."""
from __future__ import annotations

from celery import shared_task

from labtrack.ageing.selectors import due_pull_points
from labtrack.ageing.services import reminders_send


@shared_task(acks_late=True, soft_time_limit=120, time_limit=180)
def send_due_reminders() -> int:
    """E-mail the reminder of every open pull point that has none yet; returns how many."""
    return reminders_send(due=due_pull_points(user=None))

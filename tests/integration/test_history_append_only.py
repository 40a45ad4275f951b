"""On PostgreSQL the audit history refuses UPDATE and DELETE, even from raw SQL."""
from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.db.utils import DatabaseError

from labtrack.core.append_only import history_tables
from labtrack.core.audit import acting_as
from labtrack.core.roles import Role
from labtrack.samples.models import Membership
from tests.conftest import skip_or_fail
from tests.labtrack.factories import make_batch

pytestmark = [pytest.mark.integration, pytest.mark.django_db]


@pytest.fixture(autouse=True)
def _postgres_only(db):
    if connection.vendor != "postgresql":
        skip_or_fail("the append-only triggers are PostgreSQL's: set DATABASE_URL")


def test_every_history_table_is_guarded():
    with connection.cursor() as cursor:
        cursor.execute("SELECT DISTINCT event_object_table FROM information_schema.triggers "
                       "WHERE trigger_name = 'labtrack_history_append_only'")
        guarded = {row[0] for row in cursor.fetchall()}
    assert len(history_tables()) >= 10 and set(history_tables()) <= guarded


def test_a_history_row_cannot_be_rewritten_or_deleted(members, project):
    batch = make_batch(members["chemist"], project, code="NC7.1")
    record = batch.history.latest()
    table = record._meta.db_table
    for sql in (f"UPDATE {table} SET history_change_reason = 'nothing happened' WHERE history_id = %s",
                f"DELETE FROM {table} WHERE history_id = %s"):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(sql, [record.history_id])
    record.refresh_from_db()
    assert record.history_change_reason != "nothing happened"


def test_deleting_a_user_keeps_their_history_unattributed(members, project, django_user_model):
    leaver = django_user_model.objects.create_user("leaver", password="x-long-password-1")
    Membership.objects.create(user=leaver, project=project, role=Role.CHEMIST)
    batch = make_batch(members["chemist"], project, code="NC7.2")
    with acting_as(leaver, "corrected the notes"):
        batch.notes = "washed twice"
        batch.save()
    assert batch.history.latest().history_user_id == leaver.pk
    leaver.delete()
    record = batch.history.latest()
    assert record.history_user_id is None and record.notes == "washed twice"

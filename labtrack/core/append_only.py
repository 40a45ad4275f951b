"""The audit history is append-only in the database, not only in the admin.

On PostgreSQL every simple-history table gets a row trigger that refuses UPDATE and DELETE,
so neither a bug, a shell session nor a manager with SQL access rewrites who did what. One
change is let through: deleting a user sets `history_user_id` to NULL (the FK's SET_NULL),
and that alone may change. The triggers are installed after every `migrate`, for every
historical model there is, so a newly audited model is covered without a new migration.
SQLite (the embedded demo) has no such trigger: it is a single-user workstation database.
"""
from __future__ import annotations

from django.apps import apps
from django.db import connections
from simple_history.models import HistoricalChanges

FUNCTION_SQL = """
CREATE OR REPLACE FUNCTION labtrack_history_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE'
       AND (to_jsonb(NEW) - 'history_user_id') = (to_jsonb(OLD) - 'history_user_id')
       AND NEW.history_user_id IS NULL THEN
        RETURN NEW;  -- the user was deleted: the record stays, unattributed
    END IF;
    RAISE EXCEPTION 'the audit history is append-only: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""
TRIGGER = "labtrack_history_append_only"


def history_tables() -> list[str]:
    """Database tables of every simple-history model."""
    return sorted(m._meta.db_table for m in apps.get_models() if issubclass(m, HistoricalChanges))


def install_append_only_triggers(using: str = "default") -> list[str]:
    """(Re)create the trigger on every history table; returns the tables guarded."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        return []
    tables = history_tables()
    existing = set(connection.introspection.table_names())
    guarded = [t for t in tables if t in existing]
    with connection.cursor() as cursor:
        cursor.execute(FUNCTION_SQL)
        for table in guarded:
            quoted = connection.ops.quote_name(table)
            cursor.execute(f"DROP TRIGGER IF EXISTS {TRIGGER} ON {quoted}")
            cursor.execute(f"CREATE TRIGGER {TRIGGER} BEFORE UPDATE OR DELETE ON {quoted} "
                           f"FOR EACH ROW EXECUTE FUNCTION labtrack_history_append_only()")
    return guarded


def _after_migrate(sender, using: str = "default", **kwargs) -> None:
    # post_migrate is sent once per app with models; act on the last one, when every
    # table exists.
    last = [c for c in apps.get_app_configs() if c.models_module is not None][-1]
    if sender is last:
        install_append_only_triggers(using)

#!/usr/bin/env bash
# Back up LabTrack: a PostgreSQL dump and the content-addressed raw-file store.
# Blobs never change once written, so an rsync without --delete is a complete, cheap copy.
set -euo pipefail
: "${DATABASE_URL:?set DATABASE_URL}" "${MEDIA_ROOT:?set MEDIA_ROOT}" "${BACKUP_DIR:?set BACKUP_DIR}"
stamp=$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$BACKUP_DIR/db" "$BACKUP_DIR/media"
pg_dump --format=custom --file "$BACKUP_DIR/db/labtrack-$stamp.dump" "$DATABASE_URL"
rsync -a "$MEDIA_ROOT/" "$BACKUP_DIR/media/"
echo "backup $stamp written to $BACKUP_DIR"

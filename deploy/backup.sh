#!/usr/bin/env bash
# Back up LabTrack: a PostgreSQL dump and the content-addressed raw-file store.
# Blobs never change once written, so an rsync without --delete is a complete, cheap copy.
# With LABTRACK_STORAGE=s3 the blobs are in a bucket: `manage.py backup_blobs` copies the
# new ones into the same layout (BACKUP_DIR/media/blobs/ab/cd/<sha256>), re-hashing each,
# so restore.sh reads a backup of either backend.
set -euo pipefail
: "${DATABASE_URL:?set DATABASE_URL}" "${BACKUP_DIR:?set BACKUP_DIR}"
APP_DIR="$(cd "$(dirname "$0")/.." && pwd)"
PYTHON="${PYTHON:-$APP_DIR/.venv/bin/python}"
stamp=$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$BACKUP_DIR/db" "$BACKUP_DIR/media"
pg_dump --format=custom --file "$BACKUP_DIR/db/labtrack-$stamp.dump" "$DATABASE_URL"
if [ "${LABTRACK_STORAGE:-filesystem}" = s3 ]; then
    (cd "$APP_DIR" && "$PYTHON" manage.py backup_blobs "$BACKUP_DIR/media")
else
    : "${MEDIA_ROOT:?set MEDIA_ROOT}"
    rsync -a "$MEDIA_ROOT/" "$BACKUP_DIR/media/"
fi
echo "backup $stamp written to $BACKUP_DIR"

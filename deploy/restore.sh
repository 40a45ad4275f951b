#!/usr/bin/env bash
# Restore a LabTrack backup made by backup.sh: restore.sh DUMP_FILE
set -euo pipefail
: "${DATABASE_URL:?set DATABASE_URL}" "${MEDIA_ROOT:?set MEDIA_ROOT}" "${BACKUP_DIR:?set BACKUP_DIR}"
dump="${1:?usage: restore.sh BACKUP_DIR/db/labtrack-STAMP.dump}"
pg_restore --clean --if-exists --no-owner --dbname "$DATABASE_URL" "$dump"
rsync -a "$BACKUP_DIR/media/" "$MEDIA_ROOT/"
echo "restored $dump; verify raw files with: python manage.py verify_raw_files"

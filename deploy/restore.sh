#!/usr/bin/env bash
# Restore a LabTrack backup made by backup.sh: restore.sh DUMP_FILE
#
# Raw files are content-addressed (MEDIA_ROOT/blobs/ab/cd/<sha256>), so every blob can be
# checked against its own name. A plain `rsync -a` skips a file whose size and mtime
# match, so a bit-flipped blob would survive a restore; and a blind `rsync --checksum`
# would overwrite a good live copy with a bad backup copy. So, per blob: keep the live copy
# if it hashes to its name, else take the backup copy if *it* does, else report it as lost.
# Everything outside blobs/ is synced with --checksum. Then `manage.py verify_blobs` checks
# that every raw file in the restored database has its blob (skip with SKIP_VERIFY_BLOBS=1).
# With LABTRACK_STORAGE=s3 (blobs in a bucket) the same repair runs through the storage
# API: `manage.py restore_blobs BACKUP_DIR/media` (same rules and messages, then verify).
# Exit status: 0 all blobs intact, 1 some blob could not be repaired or verify_blobs failed.
set -euo pipefail
: "${DATABASE_URL:?set DATABASE_URL}" "${BACKUP_DIR:?set BACKUP_DIR}"
dump="${1:?usage: restore.sh BACKUP_DIR/db/labtrack-STAMP.dump}"
APP_DIR="$(cd "$(dirname "$0")/.." && pwd)"
PYTHON="${PYTHON:-$APP_DIR/.venv/bin/python}"
src="$BACKUP_DIR/media"

pg_restore --clean --if-exists --no-owner --dbname "$DATABASE_URL" "$dump"

if [ "${LABTRACK_STORAGE:-filesystem}" = s3 ]; then
    verify=(); [ "${SKIP_VERIFY_BLOBS:-0}" != 1 ] || verify=(--skip-verify)
    cd "$APP_DIR" && exec "$PYTHON" manage.py restore_blobs "$src" "${verify[@]}"
fi
: "${MEDIA_ROOT:?set MEDIA_ROOT}"

mkdir -p "$MEDIA_ROOT"
# Non-blob media (if any): compare contents, not size and mtime.
rsync -a --checksum --itemize-changes --exclude '/blobs/' "$src/" "$MEDIA_ROOT/"

sha_ok() {  # sha_ok FILE NAME: does FILE hash to NAME?
    [ -f "$1" ] && [ "$(sha256sum "$1" | cut -d' ' -f1)" = "$2" ]
}

checked=0 copied=0 repaired=0 lost=0
# Every blob name in the backup or already live, once.
while IFS= read -r -d '' rel; do
    name="${rel##*/}"
    live="$MEDIA_ROOT/$rel" copy="$src/$rel"
    checked=$((checked + 1))
    if sha_ok "$live" "$name"; then
        sha_ok "$copy" "$name" || [ ! -e "$copy" ] || echo "WARNING backup copy is corrupt (live copy is good): $copy"
        continue
    fi
    if sha_ok "$copy" "$name"; then
        was_there=0; [ -e "$live" ] && was_there=1
        mkdir -p "$(dirname "$live")"
        # Copy beside, then rename: a crash mid-copy never leaves a half blob under its name.
        cp --preserve=mode,timestamps "$copy" "$live.restoring" && mv -f "$live.restoring" "$live"
        if sha_ok "$live" "$name"; then
            if [ "$was_there" = 1 ]; then
                echo "MISMATCH repaired from the backup: $rel"
                repaired=$((repaired + 1))
            else
                copied=$((copied + 1))
            fi
            continue
        fi
    fi
    echo "LOST neither the live nor the backup copy matches its checksum: $rel"
    lost=$((lost + 1))
done < <( { [ -d "$src/blobs" ] && (cd "$src" && find blobs -type f ! -name '*.restoring' -print0)
            [ -d "$MEDIA_ROOT/blobs" ] && (cd "$MEDIA_ROOT" && find blobs -type f ! -name '*.restoring' -print0)
          } | sort -zu )

echo "restored $dump; $checked blobs checked: $copied copied from the backup, $repaired corrupt ones repaired, $lost lost"
status=0
[ "$lost" -eq 0 ] || status=1
if [ "${SKIP_VERIFY_BLOBS:-0}" != 1 ]; then
    (cd "$APP_DIR" && "$PYTHON" manage.py verify_blobs) || status=1
fi
exit "$status"

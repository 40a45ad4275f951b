#!/usr/bin/env bash
# Start the demo: a Celery worker (with the periodic sweep embedded) and the web server.
# Ctrl-C stops both. Uses the environment's settings (embedded default when none).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
PORT="${PORT:-8000}"
mkdir -p var
# The demo is a workstation server: DEBUG on (static files, embedded demo key) unless the
# caller chose otherwise. Settings refuse DEBUG off without a real SECRET_KEY.
export DEBUG="${DEBUG:-1}"
$BIN/celery -A labtrack worker --beat --schedule var/celerybeat-schedule --concurrency 2 --max-memory-per-child 1048576 \
    --loglevel INFO --logfile var/worker.log &
WORKER=$!
trap 'kill $WORKER 2>/dev/null; wait $WORKER 2>/dev/null' EXIT INT TERM
cat <<MSG

  LabTrack is running at http://127.0.0.1:${PORT}/
  Demo logins (user / password):
    chemist / chemist-demo    analyst / analyst-demo
    manager / manager-demo    viewer  / viewer-demo
  The worker analyses the demo files in the background (log: var/worker.log).
  Ctrl-C stops the web server and the worker.

MSG
$BIN/python manage.py runserver "127.0.0.1:${PORT}" --noreload

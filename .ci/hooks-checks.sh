#!/usr/bin/env bash
# Checks of the pre-commit hook manifest: it must load in pre-commit as users' configs will load it.
set -euo pipefail
cd "$(dirname "$0")/.."
python -m pre_commit validate-manifest .pre-commit-hooks.yaml
echo "hooks-checks: .pre-commit-hooks.yaml is valid"

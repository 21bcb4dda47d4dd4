#!/usr/bin/env bash
# Install wa-sync from the action's own checkout into a virtual environment of its own, and
# put it on the PATH of the job's later steps. All that comes from the package registry is
# at the versions in the checkout's constraints.txt, those wa-sync's tests ran with, so that
# a new release cannot change what runs in an estate's CI: pip first (the runner's Python
# brings whichever pip it bundles), then the build backend (setuptools, in pip's isolated
# build environment: --build-constraint reaches it, --constraint does not) and wa-sync's
# dependencies.
set -euo pipefail
venv="${RUNNER_TEMP:-/tmp}/wa-sync-venv"
python="$(command -v python3 || command -v python)"
constraints="$GITHUB_ACTION_PATH/constraints.txt"
"$python" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
  --constraint "$constraints" pip
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
  --constraint "$constraints" --build-constraint "$constraints" "$GITHUB_ACTION_PATH"
echo "$venv/bin" >> "$GITHUB_PATH"
"$venv/bin/wa-sync" --version

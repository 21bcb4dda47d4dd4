#!/usr/bin/env bash
# Install wa-sync from the action's own checkout into a virtual environment of its own
# (nothing from a package registry but wa-sync's dependencies, at the versions in the
# checkout's constraints.txt: those its tests ran with, so that a new release of one of
# them cannot change what runs in an estate's CI), and put it on the PATH of the job's
# later steps.
set -euo pipefail
venv="${RUNNER_TEMP:-/tmp}/wa-sync-venv"
python="$(command -v python3 || command -v python)"
"$python" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
  --constraint "$GITHUB_ACTION_PATH/constraints.txt" "$GITHUB_ACTION_PATH"
echo "$venv/bin" >> "$GITHUB_PATH"
"$venv/bin/wa-sync" --version

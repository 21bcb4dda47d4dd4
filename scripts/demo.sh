#!/usr/bin/env bash
# `make demo`: validate, plan and apply the example configuration against the embedded
# Twilio emulator, approve the submitted templates the way WhatsApp would, and show
# where every customer stands. The emulator's state lives in .wa-sync/emulator.db, so a
# second `make demo` finds everything in place (rm -rf .wa-sync to start over).
set -euo pipefail
cd "$(dirname "$0")/.."
wa() { .venv/bin/wa-sync "$@"; }
step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

step "wa-sync validate"
wa validate

step "wa-sync --emulator plan"
wa --emulator plan

step "wa-sync --emulator apply --auto-approve"
wa --emulator apply --auto-approve

step "WhatsApp reviews the submitted templates (emulator control API)"
.venv/bin/python scripts/demo_approve.py

step "wa-sync --emulator status"
wa --emulator status

step "wa-sync --emulator output"
wa --emulator output

step "wa-sync --emulator plan --detailed-exitcode"
wa --emulator plan --detailed-exitcode

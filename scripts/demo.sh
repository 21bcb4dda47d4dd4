#!/usr/bin/env bash
# `make demo`: validate, plan and apply the example configuration against the embedded
# Twilio emulator, play WhatsApp's and Meta's part (the one-time code for Grachten
# Koffie's own number, the template reviews), and show where every customer stands.
# The example has customers of both onboarding flows: legacy ones (access request,
# invitation) and grachten-koffie, onboarded through Meta's Embedded Signup.
# The emulator's state lives in .wa-sync/emulator.db, so a second `make demo` finds
# everything in place (rm -rf .wa-sync to start over).
set -euo pipefail
cd "$(dirname "$0")/.."
wa() { .venv/bin/wa-sync "$@"; }
step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
PHONE="+31205550123" # grachten-koffie's own number: not bought from Twilio

step "wa-sync validate"
wa validate

step "wa-sync --emulator plan"
wa --emulator plan

step "wa-sync --emulator apply --auto-approve"
wa --emulator apply --auto-approve

step "wa-sync --emulator status"
wa --emulator status

if wa --emulator status --customer grachten-koffie --format json |
    grep -q '"status": "PENDING_VERIFICATION"'; then
    step "Meta sends the code to the cafe's phone; the emulator's is 123456 (see docs/emulator.md)"
    wa --emulator verify grachten-koffie "$PHONE" 123456
fi

step "WhatsApp reviews the submitted templates (wa-sync emulator approve)"
wa emulator approve

step "wa-sync --emulator status"
wa --emulator status

step "wa-sync --emulator output"
wa --emulator output

step "wa-sync --emulator plan --detailed-exitcode"
wa --emulator plan --detailed-exitcode

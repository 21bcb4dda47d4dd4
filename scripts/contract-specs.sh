#!/usr/bin/env bash
# `make contract-specs`: put Twilio's OpenAPI descriptions where tests/contract finds them.
#
# The contract tests look for each file in $WA_SYNC_OAI_DIR, else ../shared/twilio-oai, else
# .contract-specs/. Every file found in none of them is fetched from the npm package
# @twilio-alpha/mcp@0.7.0 (which ships twilio-oai's spec/json) into .contract-specs/:
# all four without ../shared/twilio-oai, only twilio_sync_v1.json (the apply lock's Sync
# API, docs/reliability.md) with it.
set -euo pipefail
cd "$(dirname "$0")/.."

FILES=(twilio_api_v2010.json twilio_content_v1.json twilio_messaging_v2.json twilio_sync_v1.json)
PACKAGE="@twilio-alpha/mcp@0.7.0"
DEST=.contract-specs

missing=()
for f in "${FILES[@]}"; do
    found=""
    for dir in "${WA_SYNC_OAI_DIR:-}" ../shared/twilio-oai "$DEST"; do
        if [ -n "$dir" ] && [ -s "$dir/$f" ]; then found=1; break; fi
    done
    [ -n "$found" ] || missing+=("$f")
done
if [ ${#missing[@]} -eq 0 ]; then
    echo "every Twilio OpenAPI file is in place (nothing to fetch)"
    exit 0
fi

command -v npm >/dev/null || { echo "npm is needed to fetch $PACKAGE" >&2; exit 1; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "$PACKAGE" >/dev/null)
tarball="$(ls "$work"/*.tgz)"
tar -xzf "$tarball" -C "$work"
mkdir -p "$DEST"
for f in "${missing[@]}"; do
    src="$work/package/twilio-oai/spec/json/$f"
    [ -s "$src" ] || { echo "$PACKAGE has no twilio-oai/spec/json/$f" >&2; exit 1; }
    cp "$src" "$DEST/$f"
done
echo "wrote ${missing[*]} to $DEST/"

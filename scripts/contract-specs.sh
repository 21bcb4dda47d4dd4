#!/usr/bin/env bash
# `make contract-specs`: put Twilio's OpenAPI descriptions where tests/contract finds them.
#
# The contract tests read $WA_SYNC_OAI_DIR, else ../shared/twilio-oai, else .contract-specs/.
# When ../shared/twilio-oai is absent, this fetches the three files from the npm package
# @twilio-alpha/mcp@0.7.0 (which ships twilio-oai's spec/json) into .contract-specs/.
set -euo pipefail
cd "$(dirname "$0")/.."

FILES=(twilio_api_v2010.json twilio_content_v1.json twilio_messaging_v2.json)
PACKAGE="@twilio-alpha/mcp@0.7.0"
DEST=.contract-specs

if [ -d ../shared/twilio-oai ]; then
    echo "using ../shared/twilio-oai (nothing to fetch)"
    exit 0
fi

have_all() {
    for f in "${FILES[@]}"; do [ -s "$DEST/$f" ] || return 1; done
}
if have_all; then
    echo "$DEST already holds the specs"
    exit 0
fi

command -v npm >/dev/null || { echo "npm is needed to fetch $PACKAGE" >&2; exit 1; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "$PACKAGE" >/dev/null)
tarball="$(ls "$work"/*.tgz)"
tar -xzf "$tarball" -C "$work"
mkdir -p "$DEST"
for f in "${FILES[@]}"; do
    src="$work/package/twilio-oai/spec/json/$f"
    [ -s "$src" ] || { echo "$PACKAGE has no twilio-oai/spec/json/$f" >&2; exit 1; }
    cp "$src" "$DEST/$f"
done
echo "wrote ${FILES[*]} to $DEST/"

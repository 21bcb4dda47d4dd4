#!/usr/bin/env bash
# The job matrix for N shards (SHARDS, 1-64, empty for 1): one entry per shard, with its
# index (1..N) and its `--shard` value (K/N), written to the step output `matrix`.
set -euo pipefail
n="${SHARDS:-1}"
if ! [[ "$n" =~ ^[0-9]+$ ]] || ((10#$n < 1 || 10#$n > 64)); then
  echo "::error::wa-sync shards must be a whole number from 1 to 64, not '$n' (the repository variable WA_SYNC_SHARDS, or the workflow's shards input)."
  exit 1
fi
n=$((10#$n))
items=()
for ((k = 1; k <= n; k++)); do items+=("{\"index\":$k,\"shard\":\"$k/$n\"}"); done
matrix="{\"include\":[$(IFS=,; echo "${items[*]}")]}"
echo "matrix=$matrix" >> "$GITHUB_OUTPUT"
echo "$n shard(s): $matrix"

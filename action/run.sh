#!/usr/bin/env bash
# Run one wa-sync command for the action (action.yml) and record what it did.
#
# Reads the action's inputs from WA_SYNC_* variables; writes the command's stdout, stderr
# and exit code into the output directory (plan.md, plan.err, exitcode and shard for a
# plan: what action/plan-comment.cjs reads), the job summary, and the step's outputs
# exit_code, has_changes, plan_file and output_dir. It exits 0 whatever the command did,
# so that the comment is posted even for a failed plan; the action's last step fails the
# job on an error.
set -uo pipefail

command="${WA_SYNC_COMMAND:-plan}"
case "$command" in
  validate | plan | apply | status) ;;
  *)
    echo "::error::wa-sync action: command must be validate, plan, apply, status, comment or shards, not '$command'."
    exit 1
    ;;
esac

out="${RUNNER_TEMP:-/tmp}/wa-sync-output/$command"
rm -rf "$out" && mkdir -p "$out"
wa_sync="${WA_SYNC_BIN:-$(command -v wa-sync)}"

args=(--root "${WA_SYNC_ROOT:-.}" --no-color)
for id in ${WA_SYNC_CUSTOMERS:-}; do args+=(--customer "$id"); done
if [ "${WA_SYNC_EMULATOR:-false}" = true ]; then args+=(--emulator); fi
args+=("$command")

reconcile=()
if [ -n "${WA_SYNC_SHARD:-}" ]; then reconcile+=(--shard "$WA_SYNC_SHARD"); fi
if [ "${WA_SYNC_PRUNE:-false}" = true ]; then reconcile+=(--prune); fi
if [ "${WA_SYNC_ALLOW_MASS_DELETE:-false}" = true ]; then reconcile+=(--allow-mass-delete); fi

plan_file=""
case "$command" in
  validate) args+=(--format github) ;;
  plan)
    plan_file="${WA_SYNC_PLAN_FILE:-$out/plan.json}"
    args+=(--format markdown --detailed-exitcode --out "$plan_file" "${reconcile[@]}")
    ;;
  apply)
    if [ -n "${WA_SYNC_PLAN_FILE:-}" ]; then args+=("$WA_SYNC_PLAN_FILE"); fi
    args+=(--auto-approve --report "$out/apply-report.jsonl" "${reconcile[@]}")
    if [ -n "${WA_SYNC_PARALLELISM:-}" ]; then args+=(--parallelism "$WA_SYNC_PARALLELISM"); fi
    ;;
esac
read -r -a extra <<< "${WA_SYNC_ARGS:-}"
args+=("${extra[@]}")

stdout="$out/$command.txt"
if [ "$command" = plan ]; then stdout="$out/plan.md"; fi
"$wa_sync" "${args[@]}" > "$stdout" 2> "$out/$command.err"
code=$?
cat "$stdout"
cat "$out/$command.err" >&2

has_changes=false
if [ "$command" = plan ] && [ "$code" = 2 ]; then has_changes=true; fi
if [ "$command" = apply ] && grep -q '"result": "ok"' "$out/apply-report.jsonl" 2> /dev/null; then
  has_changes=true
fi
echo "$code" > "$out/exitcode"
echo "${WA_SYNC_SHARD:-1/1}" > "$out/shard"

{
  title="wa-sync $command"
  if [ -n "${WA_SYNC_SHARD:-}" ]; then title="$title (shard $WA_SYNC_SHARD)"; fi
  echo "## $title"
  echo
  if [ "$command" = plan ] && { [ "$code" = 0 ] || [ "$code" = 2 ]; }; then
    cat "$stdout"
  else
    if [ "$code" != 0 ]; then echo ":x: exit $code"; echo; fi
    echo '````text'
    cat "$stdout" "$out/$command.err" | tail -n 200
    echo '````'
  fi
} >> "${GITHUB_STEP_SUMMARY:-/dev/null}"

{
  echo "exit_code=$code"
  echo "has_changes=$has_changes"
  echo "plan_file=$plan_file"
  echo "output_dir=$out"
} >> "${GITHUB_OUTPUT:-/dev/null}"
exit 0

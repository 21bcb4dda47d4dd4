#!/usr/bin/env bash
# Run one wa-sync command for the action (action.yml) and record what it did.
#
# Reads the action's inputs from INPUT_* variables (wa-sync's own WA_SYNC_* settings stay
# the caller's); writes the command's stdout, stderr and exit code into the output
# directory (plan.md, plan.err, exitcode and shard for a plan: what
# action/plan-comment.cjs reads), the job summary, and the step's outputs
# exit_code, has_changes, plan_file and output_dir. It exits 0 whatever the command did,
# so that the comment is posted even for a failed plan; the action's last step fails the
# job on an error. It exits 1 at once, running nothing, on inputs the action refuses.
set -uo pipefail

command="${INPUT_COMMAND:-plan}"
case "$command" in
  validate | plan | apply | status) ;;
  *)
    echo "::error::wa-sync action: command must be validate, plan, apply, status, comment or shards, not '$command'."
    exit 1
    ;;
esac
# The pull request has ONE plan comment: each shard's job posting its own would replace the
# other shards' plans with its one, so the last job to finish would be all a reviewer sees.
if [ "$command" = plan ] && [ "${INPUT_COMMENT:-false}" = true ] && [ -n "${INPUT_SHARD:-}" ]; then
  echo "::error::wa-sync action: comment: true cannot be given with shard: each shard's job would replace the pull request's one plan comment with its own shard's plan. Remove comment: true from the plan jobs, upload each job's output_dir as an artifact, and post the comment from one job that needs them all, with command: comment and plans-dir (docs/github-action.md, \"A sharded pull-request plan\")."
  exit 1
fi

out="${RUNNER_TEMP:-/tmp}/wa-sync-output/$command"
rm -rf "$out" && mkdir -p "$out"
wa_sync="$(command -v wa-sync || echo wa-sync)"

args=(--root "${INPUT_ROOT:-.}" --no-color)
# split on spaces and lines, never globbed: a `*` is an id wa-sync refuses, not file names
read -r -d "" -a ids <<< "${INPUT_CUSTOMER:-}" || true
for id in "${ids[@]}"; do args+=(--customer "$id"); done
if [ "${INPUT_EMULATOR:-false}" = true ]; then args+=(--emulator); fi
args+=("$command")

reconcile=()
if [ -n "${INPUT_SHARD:-}" ]; then reconcile+=(--shard "$INPUT_SHARD"); fi
if [ -n "${INPUT_CHANGED_SINCE:-}" ]; then reconcile+=(--changed-since "$INPUT_CHANGED_SINCE"); fi
if [ "${INPUT_PRUNE:-false}" = true ]; then reconcile+=(--prune); fi
if [ "${INPUT_ALLOW_MASS_DELETE:-false}" = true ]; then reconcile+=(--allow-mass-delete); fi

plan_file=""
case "$command" in
  validate) args+=(--format github) ;;
  plan)
    plan_file="${INPUT_PLAN_FILE:-$out/plan.json}"
    args+=(--format markdown --detailed-exitcode --out "$plan_file" "${reconcile[@]}")
    ;;
  apply)
    if [ -n "${INPUT_PLAN_FILE:-}" ]; then args+=("$INPUT_PLAN_FILE"); fi
    args+=(--auto-approve --report "$out/apply-report.jsonl" "${reconcile[@]}")
    if [ -n "${INPUT_PARALLELISM:-}" ]; then args+=(--parallelism "$INPUT_PARALLELISM"); fi
    ;;
esac
# split on spaces and line breaks alike (`args: |` gives one a line); read ends at the text end
read -r -d "" -a extra <<< "${INPUT_ARGS:-}" || true
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
echo "${INPUT_SHARD:-1/1}" > "$out/shard"

{
  title="wa-sync $command"
  if [ -n "${INPUT_SHARD:-}" ]; then title="$title (shard $INPUT_SHARD)"; fi
  echo "## $title"
  echo
  if [ "$command" = plan ] && { [ "$code" = 0 ] || [ "$code" = 2 ]; }; then
    cat "$stdout"
  else
    if [ "$code" != 0 ]; then echo ":x: exit $code"; echo; fi
    text="$(cat "$stdout" "$out/$command.err" | tail -n 200)"
    # a fence no line of the output can end: longer than any line of backticks in it
    fence='````'
    while grep -q "^ *$fence" <<< "$text"; do fence="$fence\`"; done
    printf '%stext\n%s\n%s\n' "$fence" "$text" "$fence"
  fi
} >> "${GITHUB_STEP_SUMMARY:-/dev/null}"

{
  echo "exit_code=$code"
  echo "has_changes=$has_changes"
  echo "plan_file=$plan_file"
  echo "output_dir=$out"
} >> "${GITHUB_OUTPUT:-/dev/null}"
exit 0

// Posts the wa-sync plan as ONE pull-request comment, updated in place on every push.
// Called by the action (action.yml) through actions/github-script:
//   await require(".../action/plan-comment.cjs")({github, context, core}, options)
// The previous comment is found by the hidden MARKER; shard results (one directory per
// shard, holding plan.md, plan.err, exitcode and shard, as action/run.sh writes them) are
// combined into one body. plansDir is one such directory, or a directory of them.
"use strict";

const fs = require("node:fs");
const path = require("node:path");

const MARKER = "<!-- wa-sync-plan -->";
// GitHub refuses comments over 65,536 characters; keep room for the header and notes.
const MAX_BODY = 60000;

function readText(file) {
  try {
    return fs.readFileSync(file, "utf8");
  } catch {
    return "";
  }
}

/** Every shard's result in plansDir, sorted by shard number. */
function readShards(plansDir) {
  if (!plansDir || !fs.existsSync(plansDir)) return [];
  if (fs.existsSync(path.join(plansDir, "exitcode"))) return [readShard(plansDir)];
  const shards = [];
  for (const entry of fs.readdirSync(plansDir, { withFileTypes: true })) {
    if (entry.isDirectory()) shards.push(readShard(path.join(plansDir, entry.name)));
  }
  return shards.sort((a, b) => a.index - b.index);
}

/** One plan job's result: the directory action/run.sh wrote. */
function readShard(dir) {
  const code = readText(path.join(dir, "exitcode")).trim();
  const shard = readText(path.join(dir, "shard")).trim();
  const [k, n] = shard.split("/").map((x) => Number.parseInt(x, 10));
  return {
    shard,
    index: Number.isFinite(k) ? k : 0,
    count: Number.isFinite(n) ? n : 1,
    exitcode: code === "" ? null : Number.parseInt(code, 10),
    markdown: readText(path.join(dir, "plan.md")).trim(),
    stderr: readText(path.join(dir, "plan.err")).trim(),
  };
}

/** The text's last lines in a code block that nothing in the text can end: its fence
 * is longer than any run of backticks in it (CommonMark closes a block only at a line
 * of at least as many). */
function fenced(text) {
  const lines = text.split("\n");
  const tail = lines.length > 60 ? ["…", ...lines.slice(-60)] : lines;
  const longest = Math.max(0, ...(text.match(/`+/g) || []).map((run) => run.length));
  const fence = "`".repeat(Math.max(4, longest + 1));
  return `${fence}text\n${tail.join("\n")}\n${fence}`;
}

function shardSection(s) {
  if (s.exitcode === 0 || s.exitcode === 2) return s.markdown || "_No output._";
  const what = s.exitcode === null ? "did not finish" : `failed (exit ${s.exitcode})`;
  const failed = `:x: **wa-sync plan ${what}.**`;
  // A plan shown whole, then refused (customers Twilio was not read for, a template
  // re-categorised with on_category_change: fail): the error, then the plan, which
  // says why for each customer.
  if (s.exitcode !== null && s.markdown.startsWith(MARKER)) {
    return failed + (s.stderr ? "\n\n" + fenced(s.stderr) : "") + "\n\n" + s.markdown;
  }
  const detail = s.stderr || s.markdown;
  return failed + (detail ? "\n\n" + fenced(detail) : "");
}

/** The whole comment body, marker first. */
function buildBody({ shards, validateResult, runUrl, sha }) {
  const head = [MARKER, "## wa-sync plan", ""];
  const meta = [];
  if (sha) meta.push(`commit \`${sha.slice(0, 7)}\``);
  if (runUrl) meta.push(`[workflow run](${runUrl})`);
  if (meta.length) head.push(meta.join(" · "), "");

  if (validateResult && validateResult !== "success") {
    head.push(
      ":x: **Validation failed**, so nothing was planned. Each problem is annotated on " +
        "its line in the *Files changed* tab and listed in the `validate` job's log.",
    );
    return head.join("\n") + "\n";
  }
  if (shards.length === 0) {
    head.push(":warning: No plan was produced: no plan job finished. See the workflow run.");
    return head.join("\n") + "\n";
  }

  const failed = shards.filter((s) => s.exitcode !== 0 && s.exitcode !== 2).length;
  const changed = shards.filter((s) => s.exitcode === 2).length;
  const expected = Math.max(...shards.map((s) => s.count));
  // counted by shard number: a second result of one shard never stands in for another's
  const missing = [];
  for (let k = 1; k <= expected; k++) {
    if (!shards.some((s) => s.index === k)) missing.push(`${k}/${expected}`);
  }
  const summary = [];
  if (failed) summary.push(`:x: ${failed} of ${expected} plan job(s) failed.`);
  if (missing.length) {
    summary.push(
      `:warning: only ${expected - missing.length} of ${expected} shards reported a result ` +
        `(no result from shard ${missing.join(", ")}): the plan is incomplete.`,
    );
  }
  if (!failed && !missing.length) {
    summary.push(changed ? "Twilio will change when this is merged." : "No changes.");
  }
  head.push(summary.join(" "), "", "");

  let sections;
  if (expected === 1 && shards.length === 1) {
    sections = [shardSection(shards[0])];
  } else {
    sections = shards.map((s) => {
      const label = s.exitcode === 2 ? "changes" : s.exitcode === 0 ? "no changes" : "error";
      return `### Shard ${s.shard} (${label})\n\n${shardSection(s)}`;
    });
  }

  let body = head.join("\n") + sections.join("\n\n") + "\n";
  if (body.length > MAX_BODY) {
    const note =
      "\n\n:warning: **The plan is too long for one comment and was cut here.** " +
      `The whole plan of each shard is in the artifacts of the ${runUrl ? `[workflow run](${runUrl})` : "workflow run"}.\n`;
    body = body.slice(0, MAX_BODY - note.length) + note;
  }
  return body;
}

/** Update the comment carrying MARKER, or create it. Returns what was done. */
async function upsertComment(github, { owner, repo, issue_number, body }) {
  const comments = await github.paginate(github.rest.issues.listComments, {
    owner,
    repo,
    issue_number,
    per_page: 100,
  });
  const previous = comments.find(
    (c) => typeof c.body === "string" && c.body.includes(MARKER) && c.user && c.user.type === "Bot",
  );
  if (previous) {
    await github.rest.issues.updateComment({ owner, repo, comment_id: previous.id, body });
    return { action: "updated", id: previous.id };
  }
  const created = await github.rest.issues.createComment({ owner, repo, issue_number, body });
  return { action: "created", id: created.data.id };
}

async function planComment({ github, context, core }, options = {}) {
  const { owner, repo } = context.repo;
  const pr = context.payload.pull_request;
  if (!pr) throw new Error("plan-comment runs on pull_request events only");
  const runUrl = `${context.serverUrl}/${owner}/${repo}/actions/runs/${context.runId}`;
  const body = buildBody({
    shards: readShards(options.plansDir),
    validateResult: options.validateResult,
    runUrl,
    sha: pr.head && pr.head.sha,
  });
  const result = await upsertComment(github, { owner, repo, issue_number: pr.number, body });
  if (core) core.info(`wa-sync plan comment ${result.action} (id ${result.id})`);
  return result;
}

module.exports = planComment;
module.exports.MARKER = MARKER;
module.exports.MAX_BODY = MAX_BODY;
module.exports.buildBody = buildBody;
module.exports.readShards = readShards;
module.exports.upsertComment = upsertComment;

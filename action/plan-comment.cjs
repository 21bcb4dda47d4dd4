// Posts the wa-sync plan as ONE pull-request comment, updated in place on every push.
// Called by the action (action.yml) through actions/github-script:
//   await require(".../action/plan-comment.cjs")({github, context, core}, options)
// The previous comment is found by its first line, the hidden marker of its estate (MARKER,
// or for an estate in a subdirectory of the repository, markerOf(root)); shard results (one directory per
// shard, holding plan.md, plan.err, exitcode and shard, as action/run.sh writes them) are
// combined into one body. plansDir is one such directory, or a directory of them. With
// inProgress, the body says instead that this commit's plan is in progress: posted as the
// plan starts, so that a plan job whose runner GitHub loses leaves that, not an older
// commit's plan.
"use strict";

const fs = require("node:fs");
const path = require("node:path");

const MARKER = "<!-- wa-sync-plan -->";

/** The comment's marker for the estate at `root`: MARKER for the repository's root, one
 * of its own for each other, so that two estates in one repository keep a comment each. */
function markerOf(root) {
  const dir = path.posix.normalize(`${root || "."}/`).replace(/^\.\//, "").replace(/\/$/, "");
  if (dir === "" || dir === ".") return MARKER;
  return `<!-- wa-sync-plan root=${encodeURIComponent(dir).replace(/-/g, "%2D")} -->`;
}
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

function failedLine(s) {
  const what = s.exitcode === null ? "did not finish" : `failed (exit ${s.exitcode})`;
  return `:x: **wa-sync plan ${what}.**`;
}

function shardSection(s) {
  if (s.exitcode === 0 || s.exitcode === 2) return s.markdown || "_No output._";
  const failed = failedLine(s);
  // A plan shown whole, then refused (customers Twilio was not read for, a template
  // re-categorised with on_category_change: fail): the error, then the plan, which
  // says why for each customer.
  if (s.exitcode !== null && s.markdown.startsWith(MARKER)) {
    return failed + (s.stderr ? "\n\n" + fenced(s.stderr) : "") + "\n\n" + s.markdown;
  }
  const detail = s.stderr || s.markdown;
  return failed + (detail ? "\n\n" + fenced(detail) : "");
}

const SHORTENED =
  "_The rest of this plan does not fit in the comment: it is whole in the workflow " +
  "run's artifacts (`plan.md`)._";

/** A line of at most `room` characters, cut after a comma (a list of names). */
function capped(line, room) {
  if (line.length <= room) return line;
  const cut = line.lastIndexOf(", ", room);
  return line.slice(0, cut > 0 ? cut : room) + " …";
}

/** The lines of a wa-sync markdown plan above its table and folds: the summary, the
 * customers not read, the emulator banner. Plain paragraphs: no HTML block or code
 * block is open after them. */
function planHead(markdown) {
  if (!markdown.startsWith(MARKER)) return [];
  const head = [];
  for (const line of markdown.split("\n").slice(1)) {
    if (line.startsWith("|") || line.startsWith("<")) break;
    if (line.startsWith("**") || line.startsWith("_")) head.push(capped(line, 2000));
  }
  return head;
}

/** A shard's section, shorter for a higher level: 0 whole, 1 its summary lines (and the
 * end of its error), 2 a line saying where it is. Never cut inside a fold or a block. */
function shardSectionAt(s, level) {
  if (level === 0) return shardSection(s);
  const ok = s.exitcode === 0 || s.exitcode === 2;
  const parts = ok ? [] : [failedLine(s)];
  if (level === 1) {
    const lines = s.stderr.split("\n").slice(-10).map((line) => capped(line, 500));
    if (!ok && s.stderr) parts.push(fenced(lines.join("\n")));
    if (s.exitcode !== null) parts.push(...planHead(s.markdown));
  }
  parts.push(SHORTENED);
  return parts.join("\n\n");
}

/** Each shard's section, the longest shortened first until the body fits MAX_BODY. */
function fitSections(shards, headLength, single) {
  const section = (s, level) => {
    const text = shardSectionAt(s, level);
    if (single) return text;
    const label = s.exitcode === 2 ? "changes" : s.exitcode === 0 ? "no changes" : "error";
    return `### Shard ${s.shard} (${label})\n\n${text}`;
  };
  const levels = shards.map(() => 0);
  const texts = shards.map((s) => section(s, 0));
  const size = () => headLength + texts.reduce((n, t) => n + t.length + 2, 0);
  while (size() > MAX_BODY) {
    let longest = -1;
    for (let i = 0; i < shards.length; i++) {
      if (levels[i] < 2 && (longest < 0 || texts[i].length > texts[longest].length)) longest = i;
    }
    if (longest < 0) break;
    levels[longest] += 1;
    texts[longest] = section(shards[longest], levels[longest]);
  }
  return { texts, shortened: levels.some((level) => level > 0) };
}

/** The body cut at a line, for more shards than even their one-line sections fit. */
function cutAtLine(body, note) {
  const room = MAX_BODY - note.length;
  if (body.length <= MAX_BODY) return body;
  return body.slice(0, body.lastIndexOf("\n", room)) + note;
}

/** The comment's first lines: marker, title, the commit and the workflow run. */
function bodyHead({ runUrl, sha, marker = MARKER }) {
  const head = [marker, "## wa-sync plan", ""];
  const meta = [];
  if (sha) meta.push(`commit \`${sha.slice(0, 7)}\``);
  if (runUrl) meta.push(`[workflow run](${runUrl})`);
  if (meta.length) head.push(meta.join(" · "), "");
  return head;
}

/** The body while the plan runs: it replaces the previous commit's plan at once. */
function inProgressBody({ runUrl, sha, marker = MARKER }) {
  const commit = sha ? ` for commit \`${sha.slice(0, 7)}\`` : "";
  const run = runUrl ? `[workflow run](${runUrl})` : "workflow run";
  const head = bodyHead({ runUrl, sha, marker });
  head.push(
    `:hourglass_flowing_sand: **Plan in progress${commit}.** The plan replaces this ` +
      "comment when the plan job ends. If the workflow run has ended and this is still " +
      `here, the plan did not finish (GitHub lost the job's runner, say): the ${run} ` +
      "says why; re-run it for a plan.",
  );
  return head.join("\n") + "\n";
}

/** The whole comment body, marker first. */
function buildBody({ shards, validateResult, runUrl, sha, marker = MARKER }) {
  const head = bodyHead({ runUrl, sha, marker });

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
  const single = expected === 1 && shards.length === 1;
  const artifacts = `the artifacts of the ${runUrl ? `[workflow run](${runUrl})` : "workflow run"}`;
  const tooLong =
    ":warning: **The plan is too long for one comment**: the sections that say so are " +
    `shortened; each shard's whole plan is in ${artifacts}.`;
  const headLength = [...head, summary.join(" "), "", tooLong, "", ""].join("\n").length;
  const { texts, shortened } = fitSections(shards, headLength, single);
  head.push(summary.join(" "), "");
  if (shortened) head.push(tooLong, "");
  const note = `\n\n:warning: **The comment ends here: it is cut.** The rest is in ${artifacts}.\n`;
  return cutAtLine(head.join("\n") + "\n" + texts.join("\n\n") + "\n", note);
}

/** Update the comment whose first line is `marker`, or create it. Returns what was done.
 * (Not any comment holding it: each shard's plan carries MARKER inside the body.) */
async function upsertComment(github, { owner, repo, issue_number, body, marker = MARKER }) {
  const comments = await github.paginate(github.rest.issues.listComments, {
    owner,
    repo,
    issue_number,
    per_page: 100,
  });
  const previous = comments.find(
    (c) =>
      typeof c.body === "string" &&
      c.body.split("\n", 1)[0] === marker &&
      c.user &&
      c.user.type === "Bot",
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
  // A re-run of an older commit's workflow must not replace the plan of the newer head.
  const now = await github.rest.pulls.get({ owner, repo, pull_number: pr.number });
  const head = pr.head && pr.head.sha;
  if (head && now.data.head.sha !== head) {
    const message =
      `wa-sync plan comment not posted: this run planned commit ${head.slice(0, 7)}, ` +
      `but the pull request is at ${now.data.head.sha.slice(0, 7)} now; its own run posts its plan.`;
    if (core) core.warning(message);
    return { action: "skipped", id: null };
  }
  const runUrl = `${context.serverUrl}/${owner}/${repo}/actions/runs/${context.runId}`;
  const marker = markerOf(options.root);
  const body = options.inProgress
    ? inProgressBody({ runUrl, sha: head, marker })
    : buildBody({
        shards: readShards(options.plansDir),
        validateResult: options.validateResult,
        runUrl,
        sha: head,
        marker,
      });
  const issue_number = pr.number;
  const result = await upsertComment(github, { owner, repo, issue_number, body, marker });
  if (core) core.info(`wa-sync plan comment ${result.action} (id ${result.id})`);
  return result;
}

/** planComment for the step that opens a plan: a failure to post is a warning, never
 * the plan's end (the plan goes on, and its own comment is posted, or fails, after it). */
async function planStarted({ github, context, core }, options = {}) {
  try {
    return await planComment({ github, context, core }, { ...options, inProgress: true });
  } catch (error) {
    const message =
      `wa-sync plan comment: could not say that the plan is in progress (${error.message}); ` +
      "the plan goes on, and the comment of an earlier commit stays until it ends.";
    if (core) core.warning(message);
    return { action: "failed", id: null };
  }
}

module.exports = planComment;
module.exports.planStarted = planStarted;
module.exports.MARKER = MARKER;
module.exports.markerOf = markerOf;
module.exports.MAX_BODY = MAX_BODY;
module.exports.buildBody = buildBody;
module.exports.readShards = readShards;
module.exports.upsertComment = upsertComment;

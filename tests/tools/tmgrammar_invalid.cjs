// Tokenizes .mlp files with the VS Code extension's TextMate grammar (the
// vscode-textmate engine VS Code uses) and prints every token scoped invalid.*;
// exit 1 if any. Usage: node tmgrammar_invalid.cjs NODE_MODULES GRAMMAR FILE...
// Run by tests/test_vscode_extension.py over examples/ and the stdlib.
const fs = require("fs"), path = require("path");
const NM = process.argv[2];
const vsctm = require(path.join(NM, "vscode-textmate"));
const oniguruma = require(path.join(NM, "vscode-oniguruma"));
const wasm = fs.readFileSync(path.join(NM, "vscode-oniguruma/release/onig.wasm")).buffer;
const grammarPath = process.argv[3];
oniguruma.loadWASM(wasm).then(async () => {
  const registry = new vsctm.Registry({
    onigLib: Promise.resolve({ createOnigScanner: (p) => new oniguruma.OnigScanner(p), createOnigString: (s) => new oniguruma.OnigString(s) }),
    loadGrammar: async () => vsctm.parseRawGrammar(fs.readFileSync(grammarPath, "utf8"), grammarPath),
  });
  const grammar = await registry.loadGrammar("source.mlp");
  let bad = 0;
  for (const file of process.argv.slice(4)) {
    let state = vsctm.INITIAL;
    fs.readFileSync(file, "utf8").split(/\r?\n/).forEach((line, i) => {
      const r = grammar.tokenizeLine(line, state);
      for (const t of r.tokens) if (t.scopes.some((s) => s.startsWith("invalid"))) { bad++; console.log(`${file}:${i + 1}:${t.startIndex + 1}: ${line.slice(t.startIndex, t.endIndex)} ${t.scopes.join(" ")}`); }
      state = r.ruleStack;
    });
  }
  process.exit(bad ? 1 : 0);
});

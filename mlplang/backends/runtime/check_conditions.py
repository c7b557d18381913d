"""Evaluate `require` / `when` conditions of an MLP pipeline at run time.

Input: the JSON document in the environment variable MLP_CHECK:
  {"mode": "require" | "decide",
   "conditions": [{"text": "evaluate.report.auc >= param.min_auc", "expr": EXPR}, ...],
   "metrics": {"evaluate.report": "path/to/metrics.json", ...},
   "params": {"min_auc": "float", ...}}
EXPR is {"op": "and"|"or", "args": [EXPR...]} | {"op": "not", "arg": EXPR}
| {"op": "<"|"<="|">"|">="|"=="|"!=", "left": OPERAND, "right": OPERAND}
| {"op": "truth", "arg": OPERAND};
OPERAND is {"literal": value} | {"param": name} | {"metric": "step.output", "key": key}.
Param values come from the environment variables MLP_PARAM_<name>.

"require": prints each condition with its values, exits 1 when one fails.
"decide": prints the same and writes `holds=true|false` to $GITHUB_OUTPUT (if
set) and to stdout as the last line; exits 0. Exit 2 on a missing metric or param.
"""

import json
import operator
import os
import sys

COMPARE = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
           "==": operator.eq, "!=": operator.ne}


class CheckError(Exception):
    pass


def param_value(name, declared):
    raw = os.environ.get("MLP_PARAM_" + name)
    if raw is None or raw == "":
        raise CheckError("param %r has no value" % name)
    try:
        if declared == "int":
            return int(raw)
        if declared == "float":
            return float(raw)
        if declared == "bool":
            if raw.lower() in ("true", "1"):
                return True
            if raw.lower() in ("false", "0"):
                return False
            raise ValueError(raw)
    except ValueError:
        raise CheckError("param %r is declared %s but its value is %r" % (name, declared, raw))
    return raw


def metric_value(spec, cache, artifact, key):
    if artifact not in cache:
        path = spec["metrics"].get(artifact)
        if path is None:
            raise CheckError("no metrics file is known for %s" % artifact)
        try:
            with open(path, encoding="utf-8") as handle:
                cache[artifact] = json.load(handle)
        except (OSError, ValueError) as error:
            raise CheckError("cannot read metrics %s from %s: %s" % (artifact, path, error))
    document = cache[artifact]
    if not isinstance(document, dict) or key not in document:
        raise CheckError("metrics %s have no key %r (keys: %s)" % (
            artifact, key, ", ".join(sorted(document)) if isinstance(document, dict) else "not an object"))
    return document[key]


def operand(spec, cache, node):
    if "literal" in node:
        return node["literal"]
    if "param" in node:
        return param_value(node["param"], spec["params"][node["param"]])
    return metric_value(spec, cache, node["metric"], node["key"])


def evaluate(spec, cache, node):
    op = node["op"]
    if op == "and":
        return all(evaluate(spec, cache, arg) for arg in node["args"])
    if op == "or":
        return any(evaluate(spec, cache, arg) for arg in node["args"])
    if op == "not":
        return not evaluate(spec, cache, node["arg"])
    if op == "truth":
        return bool(operand(spec, cache, node["arg"]))
    left = operand(spec, cache, node["left"])
    right = operand(spec, cache, node["right"])
    try:
        return COMPARE[op](left, right)
    except TypeError:
        raise CheckError("cannot compare %r %s %r" % (left, op, right))


def main():
    spec = json.loads(os.environ["MLP_CHECK"])
    cache = {}
    holds = True
    try:
        for condition in spec["conditions"]:
            result = evaluate(spec, cache, condition["expr"])
            print("%s: %s" % ("holds" if result else "FAILS", condition["text"]))
            holds = holds and result
    except CheckError as error:
        print("mlp check error: %s" % error, file=sys.stderr)
        return 2
    if spec["mode"] == "decide":
        line = "holds=%s" % ("true" if holds else "false")
        output = os.environ.get("GITHUB_OUTPUT")
        if output:
            with open(output, "a", encoding="utf-8") as handle:
                handle.write(line + "\n")
        print(line)
        return 0
    return 0 if holds else 1


if __name__ == "__main__":
    sys.exit(main())

"""Run `check_conditions` in a Kubeflow task (standard library only).

Kubeflow chooses artifact paths at run time, so the MLP_CHECK document names,
for each metrics artifact, the environment variable holding its path; this
program puts the paths in, runs the checker (its source is in
MLP_CHECK_PROGRAM) and, in "decide" mode, writes `true` or `false` to the
file named by MLP_OUT_holds: the task's output parameter, which later tasks'
`triggerPolicy` conditions read.
"""

import contextlib
import io
import json
import os
import sys


def main():
    spec = json.loads(os.environ["MLP_CHECK"])
    spec["metrics"] = {artifact: os.environ[variable] for artifact, variable in spec["metrics"].items()}
    os.environ["MLP_CHECK"] = json.dumps(spec)
    checker = {"__name__": "check_conditions"}
    exec(compile(os.environ["MLP_CHECK_PROGRAM"], "check_conditions.py", "exec"), checker)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        status = checker["main"]()
    sys.stdout.write(printed.getvalue())
    if status or spec["mode"] != "decide":
        return status
    lines = printed.getvalue().splitlines()
    holds = bool(lines) and lines[-1] == "holds=true"
    with open(os.environ["MLP_OUT_holds"], "w", encoding="utf-8") as handle:
        handle.write("true" if holds else "false")
    return 0


if __name__ == "__main__":
    sys.exit(main())

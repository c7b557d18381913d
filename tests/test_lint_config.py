"""`mlp lint` configuration and suppressions, through the command line.

Configuration: `[tool.mlp]` in pyproject.toml or an `mlp.toml`, nearest
first; select/ignore by code prefix or rule name; per-code severity;
rule options; invalid settings exit 2. Suppressions: `# mlp: ignore[...]`
on a line or on a block's first line; unused (MLP901) and unknown (MLP902)
ones are reported. Exit codes follow `--fail-on`. `mlp explain` and
`mlp check` (language diagnostics only) are covered at the end.

Assertions name the codes they are about rather than the whole list, so
that a new rule firing on a fixture does not break unrelated tests.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from mlplang.cli import main
from mlplang.compiler.rules import all_rules
from mlplang.config import LintConfig, parse_config

# MLP211 (missing-owner) on line 1; MLP205 (pii-in-model) on the `out model` line 13.
PIPELINE = """\
pipeline churn {
  description = "Weekly churn model"

  source events: Dataset {
    uri     = "s3://acme/events/"
    version = "2026-11-01"
    pii     = ["email"]
  }

  step train {
    run   = "python train.py --data ${in.data} --model ${out.model}"
    in  data:  Dataset = events
    out model: Model
  }
}
"""
PII_LINE = 13

# No rule fires (all are disabled), only the language warning MLP107 on line 4.
TYPO = """\
pipeline tidy {
  owner = "ml@acme.example"
  step hello {
    run = "echo ${inp.name}"
  }
}
"""


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def run(*args: str):
    return CliRunner().invoke(main, [str(a) for a in args])


def lint(*args) -> tuple[int, list[tuple[str, int, str]]]:
    """Exit code and (code, line, severity) of each finding, via `--format json`."""
    result = run("lint", "--format", "json", *args)
    assert result.exit_code in (0, 1), result.output
    found = json.loads(result.stdout)["diagnostics"]
    return result.exit_code, [(d["code"], d["line"], d["severity"]) for d in found]


def codes(*args) -> set[str]:
    return {code for code, _, _ in lint(*args)[1]}


def rule_named(name: str):
    for rule in all_rules():
        if rule.name == name:
            return rule
    pytest.skip(f"the rule `{name}` does not exist yet")


# ---- discovery ------------------------------------------------------------------------


def test_without_configuration_the_rules_run(tmp_path):
    file = write(tmp_path / "p.mlp", PIPELINE)
    assert {"MLP211", "MLP205"} <= codes(file)


def test_mlp_toml_is_found_walking_up(tmp_path):
    write(tmp_path / "mlp.toml", 'ignore = ["MLP211"]\n')
    file = write(tmp_path / "a" / "b" / "p.mlp", PIPELINE)
    found = codes(file)
    assert "MLP211" not in found and "MLP205" in found


def test_pyproject_tool_mlp_is_found_walking_up(tmp_path):
    write(tmp_path / "pyproject.toml", '[project]\nname = "x"\n\n[tool.mlp]\nignore = ["missing-owner"]\n')
    file = write(tmp_path / "pipelines" / "p.mlp", PIPELINE)
    assert "MLP211" not in codes(file)


def test_the_nearest_configuration_wins(tmp_path):
    write(tmp_path / "mlp.toml", 'ignore = ["MLP211"]\n')
    write(tmp_path / "team" / "pyproject.toml", '[tool.mlp]\nignore = ["MLP205"]\n')
    found = codes(write(tmp_path / "team" / "p.mlp", PIPELINE))
    assert "MLP205" not in found and "MLP211" in found, "settings are not merged: only the nearest applies"
    found = codes(write(tmp_path / "p.mlp", PIPELINE))
    assert "MLP211" not in found and "MLP205" in found


def test_mlp_toml_wins_over_pyproject_in_the_same_folder(tmp_path):
    write(tmp_path / "mlp.toml", 'ignore = ["MLP211"]\n')
    write(tmp_path / "pyproject.toml", '[tool.mlp]\nignore = ["MLP205"]\n')
    found = codes(write(tmp_path / "p.mlp", PIPELINE))
    assert "MLP211" not in found and "MLP205" in found


def test_a_pyproject_without_tool_mlp_is_passed_over(tmp_path):
    write(tmp_path / "mlp.toml", 'ignore = ["MLP211"]\n')
    write(tmp_path / "sub" / "pyproject.toml", '[project]\nname = "sub"\n')
    assert "MLP211" not in codes(write(tmp_path / "sub" / "p.mlp", PIPELINE))


def test_config_option_reads_the_named_file(tmp_path):
    write(tmp_path / "mlp.toml", 'ignore = ["MLP205"]\n')
    strict = write(tmp_path / "ci" / "strict.toml", 'ignore = ["MLP211"]\n')
    found = codes("--config", strict, write(tmp_path / "p.mlp", PIPELINE))
    assert "MLP211" not in found and "MLP205" in found, "--config replaces the discovered settings"


def test_config_option_reads_tool_mlp_of_a_pyproject(tmp_path):
    pyproject = write(tmp_path / "elsewhere" / "pyproject.toml", '[tool.mlp]\nignore = ["MLP211"]\n')
    assert "MLP211" not in codes("--config", pyproject, write(tmp_path / "p.mlp", PIPELINE))


# ---- select and ignore ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("settings", "present", "absent"),
    [
        ('select = ["MLP21"]', {"MLP211"}, {"MLP205"}),
        ('select = ["missing-owner"]', {"MLP211"}, {"MLP205"}),
        ('select = ["mlp2"]', {"MLP211", "MLP205"}, set()),
        ('ignore = ["MLP2"]', set(), {"MLP211", "MLP205"}),
        ('ignore = ["pii-in-model"]', {"MLP211"}, {"MLP205"}),
        ('select = ["MLP2"]\nignore = ["MLP211"]', {"MLP205"}, {"MLP211"}),
    ],
)
def test_select_and_ignore(tmp_path, settings, present, absent):
    write(tmp_path / "mlp.toml", settings + "\n")
    found = codes(write(tmp_path / "p.mlp", PIPELINE))
    assert present <= found and not absent & found


def test_select_restricts_to_what_it_names(tmp_path):
    write(tmp_path / "mlp.toml", 'select = ["missing-owner"]\n')
    assert codes(write(tmp_path / "p.mlp", PIPELINE)) == {"MLP211"}


def test_language_errors_cannot_be_deselected(tmp_path):
    write(tmp_path / "mlp.toml", 'select = ["MLP211"]\nignore = ["MLP1"]\n')
    file = write(tmp_path / "p.mlp", PIPELINE.replace("= events", "= evnets"))
    exit_code, found = lint(file)
    assert exit_code == 1 and ("MLP101", 12, "error") in found


def test_language_warnings_can_be_ignored(tmp_path):
    file = write(tmp_path / "p.mlp", TYPO)
    assert "MLP107" in codes(file)
    write(tmp_path / "mlp.toml", 'ignore = ["interpolation-typo"]\n')
    assert "MLP107" not in codes(file)


# ---- severity ---------------------------------------------------------------------------


def test_an_error_rule_made_a_warning_passes_fail_on_error(tmp_path):
    write(tmp_path / "mlp.toml", 'select = ["MLP211"]\n')
    file = write(tmp_path / "p.mlp", PIPELINE)
    assert lint("--fail-on", "error", file) == (1, [("MLP211", 1, "error")])
    write(tmp_path / "mlp.toml", 'select = ["MLP211"]\n[severity]\nmissing-owner = "warning"\n')
    assert lint("--fail-on", "error", file) == (0, [("MLP211", 1, "warning")])
    assert lint(file)[0] == 1, "--fail-on warning (the default) still fails on it"


def test_a_warning_made_an_error_fails_fail_on_error(tmp_path):
    """MLP901 (unused suppression) is a warning; re-graded as an error, it fails the run."""
    file = write(tmp_path / "p.mlp", TYPO.replace('owner = "ml@acme.example"',
                                                  'owner = "ml@acme.example"  # mlp: ignore[MLP211]'))
    write(tmp_path / "mlp.toml", 'select = ["MLP211", "MLP9"]\n')
    assert lint("--fail-on", "error", file) == (0, [("MLP901", 2, "warning")])
    write(tmp_path / "mlp.toml", 'select = ["MLP211", "MLP9"]\n[severity]\nMLP901 = "error"\n')
    assert lint("--fail-on", "error", file) == (1, [("MLP901", 2, "error")])


def test_a_warning_rule_made_an_error_fails_fail_on_error(tmp_path):
    rule = rule_named("monitor-without-on-breach")
    assert rule.severity.value == "warning"
    file = write(tmp_path / "p.mlp", """\
        pipeline watched {
          owner = "ml@acme.example"
          step deploy {
            run = "python deploy.py --out ${out.endpoint}"
            out endpoint: Endpoint
          }
          monitor drift {
            watch    = deploy.endpoint
            schedule = cron("0 * * * *")
            run      = "python psi.py --out ${out.report}"
            out report: Metrics
            require report.psi < 0.2
          }
        }
        """)
    write(tmp_path / "mlp.toml", f'select = ["{rule.code}"]\n')
    exit_code, found = lint("--fail-on", "error", file)
    assert exit_code == 0 and {(c, s) for c, _, s in found} == {(rule.code, "warning")}
    write(tmp_path / "mlp.toml", f'select = ["{rule.code}"]\n[severity]\n{rule.code} = "error"\n')
    exit_code, found = lint("--fail-on", "error", file)
    assert exit_code == 1 and {(c, s) for c, _, s in found} == {(rule.code, "error")}


def test_language_errors_cannot_be_downgraded(tmp_path):
    write(tmp_path / "mlp.toml", '[severity]\nMLP101 = "warning"\n')
    file = write(tmp_path / "p.mlp", PIPELINE.replace("= events", "= evnets"))
    assert ("MLP101", 12, "error") in lint("--fail-on", "error", file)[1]


# ---- rule options -----------------------------------------------------------------------


HIGH_RISK = """\
pipeline credit {
  owner = "risk-ml@acme.example"
  risk  = "high"

  source applications: Dataset {
    uri     = "s3://acme/applications/"
    version = "2026-11-01"
  }

  step train {
    run   = "python train.py --data ${in.data} --model ${out.model}"
    in  data:  Dataset = applications
    out model: Model
  }

  step evaluate {
    run   = "python evaluate.py --model ${in.model} --out ${out.report}"
    in  model:  Model = train.model
    out report: Metrics
  }

  gate release {
    require evaluate.report.auc >= 0.85
    require evaluate.report.max_group_fnr_gap <= 0.05
    approval { reviewers = ["acme/model-risk"] }
  }

  step deploy {
    run   = "python deploy.py --model ${in.model} --out ${out.endpoint}"
    in  model:    Model = train.model
    out endpoint: Endpoint
    after release
  }
}
"""


def test_fairness_metrics_option(tmp_path):
    rule = rule_named("high-risk-without-fairness-check")
    file = write(tmp_path / "p.mlp", HIGH_RISK)
    assert rule.code in codes(file), "`max_group_fnr_gap` is not a fairness metric by default"
    write(tmp_path / "mlp.toml", 'fairness-metrics = ["parity_gap", "max_group_*_gap"]\n')
    assert rule.code not in codes(file)


def test_fairness_metrics_patterns():
    config = parse_config({"fairness-metrics": ["max_group_*_gap"]}, "mlp.toml")
    assert config.is_fairness_metric("max_group_fnr_gap")
    assert not config.is_fairness_metric("parity_gap"), "the option replaces the defaults"
    assert LintConfig().is_fairness_metric("demographic_parity_ratio")


# ---- invalid configuration ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("file", "text", "message"),
    [
        ("mlp.toml", "select = [\n", "invalid TOML"),
        ("mlp.toml", 'selct = ["MLP2"]\n', "selct"),
        ("mlp.toml", 'ignore = "MLP201"\n', "ignore"),
        ("mlp.toml", '[severity]\nMLP201 = "fatal"\n', "severity.MLP201"),
        ("mlp.toml", 'fairness-metrics = [1, 2]\n', "fairness-metrics"),
        ("pyproject.toml", '[tool.mlp]\nignore = ["MLP2O1"]\n', "`MLP2O1` in `ignore`"),
        ("pyproject.toml", '[tool.mlp]\nselect = ["missing-ownr"]\n', "`missing-ownr` in `select`"),
        ("mlp.toml", '[severity]\nmissing-ownr = "error"\n', "`missing-ownr` in `severity`"),
    ],
)
def test_invalid_configuration_exits_2_with_a_clear_message(tmp_path, file, text, message):
    config = write(tmp_path / file, text)
    result = run("lint", write(tmp_path / "p.mlp", PIPELINE))
    assert result.exit_code == 2
    assert result.stderr.startswith(f"mlp: error: {config}")
    assert message in result.stderr and "Traceback" not in result.stderr
    assert result.stdout == ""


def test_config_option_with_an_invalid_file_exits_2(tmp_path):
    result = run("lint", "--config", write(tmp_path / "pyproject.toml", '[project]\nname = "x"\n'),
                 write(tmp_path / "p.mlp", PIPELINE))
    assert result.exit_code == 2 and "no [tool.mlp] table" in result.stderr
    assert run("lint", "--config", tmp_path / "missing.toml", tmp_path / "p.mlp").exit_code == 2


# ---- suppressions -------------------------------------------------------------------------


def with_comment(text: str, line: int, comment: str) -> str:
    lines = text.splitlines()
    lines[line - 1] += f"  # {comment}"
    return "\n".join(lines) + "\n"


def test_suppression_on_the_offending_line(tmp_path):
    found = codes(write(tmp_path / "p.mlp", with_comment(PIPELINE, PII_LINE, "mlp: ignore[MLP205]")))
    assert "MLP205" not in found and "MLP211" in found and "MLP901" not in found


def test_suppression_on_another_line_does_not_apply(tmp_path):
    found = codes(write(tmp_path / "p.mlp", with_comment(PIPELINE, PII_LINE - 1, "mlp: ignore[MLP205]")))
    assert {"MLP205", "MLP901"} <= found


def test_suppression_on_a_blocks_first_line(tmp_path):
    found = codes(write(tmp_path / "p.mlp", with_comment(PIPELINE, 10, "mlp: ignore[MLP205] -- synthetic data")))
    assert "MLP205" not in found and "MLP211" in found and "MLP901" not in found


def test_suppression_on_the_pipelines_first_line_covers_the_pipeline(tmp_path):
    found = codes(write(tmp_path / "p.mlp", with_comment(PIPELINE, 1, "mlp: ignore[MLP205, MLP211]")))
    assert not {"MLP205", "MLP211", "MLP901"} & found


def test_suppression_by_rule_name(tmp_path):
    found = codes(write(tmp_path / "p.mlp", with_comment(PIPELINE, PII_LINE, "mlp: ignore[pii-in-model]")))
    assert "MLP205" not in found and "MLP901" not in found


def test_suppression_of_a_language_warning(tmp_path):
    assert "MLP107" not in codes(write(tmp_path / "p.mlp", with_comment(TYPO, 4, "mlp: ignore[interpolation-typo]")))


def test_unused_and_unknown_suppressions(tmp_path):
    text = with_comment(PIPELINE, 2, "mlp: ignore[MLP201, deploy-withoutgate]")
    exit_code, found = lint(write(tmp_path / "p.mlp", text))
    assert ("MLP901", 2, "warning") in found, "nothing on line 2 is MLP201"
    assert ("MLP902", 2, "warning") in found, "a misspelt rule name"
    assert exit_code == 1


def test_unused_suppressions_obey_the_configuration(tmp_path):
    file = write(tmp_path / "p.mlp", with_comment(PIPELINE, 2, "mlp: ignore[MLP201]"))
    write(tmp_path / "mlp.toml", 'ignore = ["MLP901"]\n')
    assert "MLP901" not in codes(file)
    write(tmp_path / "mlp.toml", 'ignore = ["deploy-without-gate"]\n')
    assert "MLP901" not in codes(file), "a disabled rule did not run: its suppressions cannot be judged"


def test_language_errors_cannot_be_suppressed(tmp_path):
    text = with_comment(PIPELINE.replace("= events", "= evnets"), 12, "mlp: ignore[MLP101, MLP205, MLP2O5]")
    found = codes(write(tmp_path / "p.mlp", text))
    assert "MLP101" in found
    assert "MLP901" not in found, "the rules did not run on an invalid file: no suppression is judged unused"
    assert "MLP902" in found, "a code that does not exist is reported all the same"


def test_suppressions_in_imported_modules_are_not_judged_by_importers(tmp_path):
    write(tmp_path / "shared.mlp", """\
        template train_model(data: Dataset) {  # mlp: ignore[MLP205]
          run = "python train.py --data ${in.data} --model ${out.model}"
          out model: Model
        }
        """)
    file = write(tmp_path / "p.mlp", """\
        import "./shared.mlp"

        pipeline churn {
          owner = "ml@acme.example"
          source events: Dataset {
            uri     = "s3://acme/events/"
            version = "2026-11-01"
          }
          step train = shared.train_model(data = events)
        }
        """)
    assert "MLP901" not in codes(file)


# ---- exit codes ---------------------------------------------------------------------------


def test_fail_on_exit_codes(tmp_path):
    warnings_only = write(tmp_path / "warn" / "p.mlp", TYPO)
    write(tmp_path / "warn" / "mlp.toml", 'select = ["MLP1"]\n')
    errors = write(tmp_path / "err" / "p.mlp", PIPELINE)
    clean = write(tmp_path / "clean" / "p.mlp", TYPO.replace("${inp.name}", "$NAME"))
    write(tmp_path / "clean" / "mlp.toml", 'select = ["MLP1"]\n')
    assert codes(warnings_only) == {"MLP107"}
    assert lint(warnings_only)[0] == 1
    assert lint("--fail-on", "warning", warnings_only)[0] == 1
    assert lint("--fail-on", "error", warnings_only)[0] == 0
    assert lint("--fail-on", "error", errors)[0] == 1
    assert lint("--fail-on", "warning", errors)[0] == 1
    assert lint(clean) == (0, [])
    assert lint("--fail-on", "error", clean) == (0, [])
    assert run("lint", "--fail-on", "never", clean).exit_code == 2


def test_the_text_format_has_the_same_exit_code(tmp_path):
    file = write(tmp_path / "p.mlp", PIPELINE)
    result = run("lint", file)
    assert result.exit_code == 1
    assert "MLP211 [missing-owner] error" in result.stdout
    assert result.stdout.rstrip().splitlines()[-1].endswith("in 1 file")


# ---- explain and check --------------------------------------------------------------------


@pytest.mark.parametrize("name", ["MLP201", "mlp201", "deploy-without-gate"])
def test_explain_prints_the_rules_documentation(name):
    result = run("explain", name)
    assert result.exit_code == 0
    assert result.stdout.startswith("MLP201 deploy-without-gate (error)\n")
    assert "## What it does" in result.stdout and "## Use instead" in result.stdout


def test_explain_an_unknown_code_exits_2():
    result = run("explain", "NOPE")
    assert result.exit_code == 2
    assert result.stdout == "" and "unknown code `NOPE`" in result.stderr


def test_check_reports_no_rule_findings(tmp_path):
    file = write(tmp_path / "p.mlp", with_comment(PIPELINE, 2, "mlp: ignore[MLP201]"))
    assert {"MLP211", "MLP205", "MLP901"} <= codes(file)
    result = run("check", file)
    assert result.exit_code == 0
    assert "MLP2" not in result.stdout and "MLP9" not in result.stdout
    assert result.stdout.strip() == "0 errors, 0 warnings in 1 file"


def test_check_still_reports_language_warnings(tmp_path):
    result = run("check", write(tmp_path / "p.mlp", TYPO))
    assert result.exit_code == 0 and "MLP107" in result.stdout

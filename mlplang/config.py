"""Lint configuration: `[tool.mlp]` in pyproject.toml, or an `mlp.toml`
(same keys, at its top level), found by walking up from the checked file: the
nearest folder with either wins, `mlp.toml` before `pyproject.toml` in one
folder, and a pyproject.toml without `[tool.mlp]` is passed over.

    [tool.mlp]
    select = ["MLP2"]              # code prefixes or rule names; default: all
    ignore = ["MLP219", "unused-param"]
    fairness-metrics = ["parity_gap", "demographic_parity*"]
    allowed-registries = ["ghcr.io/acme"]
    red-team-markers = ["red_team", "redteam", "jailbreak"]

    [tool.mlp.severity]
    MLP219 = "error"
"""

from __future__ import annotations

import fnmatch
import sys
from collections.abc import Mapping
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from mlplang.diagnostics.model import Severity

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

DEFAULT_FAIRNESS_METRICS = (
    "parity_gap",
    "demographic_parity*",
    "equalized_odds*",
    "equal_opportunity*",
    "disparate_impact*",
)
DEFAULT_RED_TEAM_MARKERS = ("red_team", "redteam", "red-team", "jailbreak", "adversarial")


class ConfigError(Exception):
    """A configuration file that cannot be used (reported with exit code 2)."""


class LintConfig(BaseModel):
    # `defer_build`: the validator, ~20 ms to build, is made when a settings
    # table is first validated, not at import: most runs find none, and get
    # the defaults without validation (`find_config`).
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True, defer_build=True)

    select: tuple[str, ...] | None = None
    ignore: tuple[str, ...] = ()
    severity: dict[str, Severity] = Field(default_factory=dict)
    fairness_metrics: tuple[str, ...] = Field(DEFAULT_FAIRNESS_METRICS, alias="fairness-metrics")
    allowed_registries: tuple[str, ...] = Field((), alias="allowed-registries")
    red_team_markers: tuple[str, ...] = Field(DEFAULT_RED_TEAM_MARKERS, alias="red-team-markers")
    targets: dict[str, dict] = Field(default_factory=dict)
    """Backend options: the `[tool.mlp.<target>]` tables (e.g. `[tool.mlp.github]`)."""
    path: str | None = None
    """The file the settings came from (None: defaults)."""

    def is_fairness_metric(self, key: str) -> bool:
        return any(fnmatch.fnmatchcase(key, pattern) for pattern in self.fairness_metrics)

    def enabled(self, code: str, name: str) -> bool:
        def matches(selector: str) -> bool:
            return code.startswith(selector.upper()) or selector.lower() == name

        if self.select is not None and not any(matches(s) for s in self.select):
            return False
        return not any(matches(s) for s in self.ignore)

    def severity_for(self, code: str, name: str, default: Severity) -> Severity:
        for key, value in self.severity.items():
            if key.upper() == code or key.lower() == name:
                return value
        return default

    def check_names(self, known: Mapping[str, str]) -> None:
        """Raise ConfigError for a selector or severity key that names nothing
        in `known` (code -> rule name): a typo would otherwise silently
        select, ignore or re-grade nothing."""
        origin = self.path or "configuration"
        names = set(known.values())
        for key in ("select", "ignore"):
            for selector in getattr(self, key) or ():
                if not any(code.startswith(selector.upper()) for code in known) and selector.lower() not in names:
                    raise ConfigError(f"{origin}: `{selector}` in `{key}` matches no code (prefix) or rule name")
        for entry in self.severity:
            if entry.upper() not in known and entry.lower() not in names:
                raise ConfigError(f"{origin}: `{entry}` in `severity` is not a code or rule name")


def _read_table(path: Path) -> dict | None:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: cannot read: {error}") from error
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: invalid TOML: {error}") from error
    if path.name == "pyproject.toml":
        return data.get("tool", {}).get("mlp")
    return data


TARGET_TABLES = ("github", "airflow", "kubeflow")


def parse_config(table: dict, origin: str) -> LintConfig:
    settings = {k: v for k, v in table.items() if k not in TARGET_TABLES}
    targets = {k: v for k, v in table.items() if k in TARGET_TABLES}
    try:
        return LintConfig.model_validate({**settings, "targets": targets, "path": origin})
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'config'}: {e['msg']}" for e in error.errors()
        )
        raise ConfigError(f"{origin}: invalid [tool.mlp] settings: {problems}") from error


def load_config(path: Path) -> LintConfig:
    """The settings of one named file (`mlp lint --config PATH`)."""
    table = _read_table(path)
    if table is None:
        raise ConfigError(f"{path}: no [tool.mlp] table")
    return parse_config(table, str(path))


def find_config(start: Path) -> LintConfig:
    """The configuration governing `start` (a file or a directory)."""
    directory = start if start.is_dir() else start.parent
    for folder in [directory.resolve(), *directory.resolve().parents]:
        for name in ("mlp.toml", "pyproject.toml"):
            candidate = folder / name
            if candidate.is_file():
                table = _read_table(candidate)
                if table is not None:
                    return parse_config(table, str(candidate))
    return LintConfig.model_construct()  # == LintConfig(), without building the validator

"""Deterministic YAML for generated files.

Documents are built as plain data (dicts in the order they should appear)
and dumped here: keys keep their insertion order, multi-line strings become
literal block scalars (`|`), and anything that could be misread (`on`, `yes`,
`1.0`, `: `) is quoted by the YAML library, not by string building.
"""

from __future__ import annotations

import yaml

_Base = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class _Dumper(_Base):  # type: ignore[misc, valid-type]
    pass


# YAML 1.1 parsers (ruamel, used by check-jsonschema) break lines at these too,
# so a block scalar holding one would be misread: such text is double-quoted.
_OTHER_LINE_BREAKS = ("\u2028", "\u2029", "\x85")


def _represent_str(dumper: yaml.SafeDumper, value: str):
    if "\n" in value and not any(c in value for c in _OTHER_LINE_BREAKS):
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", value)


_Dumper.add_representer(str, _represent_str)


def dump(document: dict, header: list[str] | None = None) -> str:
    text = yaml.dump(
        document,
        Dumper=_Dumper,
        sort_keys=False,
        default_flow_style=False,
        allow_unicode=True,
        width=100_000,
        indent=2,
    )
    comments = "".join(f"# {line}\n" for line in (header or []))
    return comments + text

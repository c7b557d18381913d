"""Reading attribute values of the syntax tree as typed Python values.

Each reader returns the value, or None after reporting why the value does not
fit (so callers never see a half-valid value).
"""

from __future__ import annotations


from mlplang.compiler import ir
from mlplang.compiler.cron import cron_error
from mlplang.compiler.report import Reporter
from mlplang.diagnostics import codes
from mlplang.dsl import ast



def describe(value: ast.Value) -> str:
    return {
        ast.StringLit: "a string",
        ast.NumberLit: "a number",
        ast.DurationLit: "a duration",
        ast.SizeLit: "a size",
        ast.BoolLit: "a boolean",
        ast.ListLit: "a list",
        ast.MapLit: "a map",
        ast.CronLit: "a cron schedule",
        ast.Ref: "a reference",
        ast.ErrorValue: "an invalid value",
    }.get(type(value), "an expression")


def _mismatch(r: Reporter, value: ast.Value, expected: str, what: str, help: str | None = None) -> None:
    if isinstance(value, ast.ErrorValue):
        return  # already reported by the parser
    r.add(
        codes.INVALID_VALUE,
        f"`{what}` must be {expected}, found {describe(value)}",
        value.span,
        label=f"expected {expected}",
        help=help,
    )


def as_str(value: ast.Value, r: Reporter, what: str) -> str | None:
    if type(value) is ast.StringLit:
        parts = value.parts
        if len(parts) == 1 and type(parts[0]) is ast.TextPart:  # most strings: one piece of text
            return parts[0].text
    if isinstance(value, ast.StringLit):
        if value.has_interpolation:
            first = next(p for p in value.parts if isinstance(p, ast.Interpolation))
            r.add(
                codes.BAD_INTERPOLATION,
                f"interpolation is only allowed in `run`, not in `{what}`",
                first.span,
                help="pass values to a command with `${param.X}` in `run`, or `env = { NAME = param.X }`",
            )
            return None
        return value.text
    _mismatch(r, value, "a string", what)
    return None


def as_str_list(value: ast.Value, r: Reporter, what: str) -> tuple[str, ...] | None:
    if not isinstance(value, ast.ListLit):
        _mismatch(r, value, "a list of strings", what, help=f'write `{what} = ["a", "b"]`')
        return None
    items = [as_str(item, r, what) for item in value.items]
    return None if any(i is None for i in items) else tuple(items)  # type: ignore[misc]


def as_int(value: ast.Value, r: Reporter, what: str, minimum: int = 0) -> int | None:
    if isinstance(value, ast.NumberLit) and isinstance(value.value, int) and not isinstance(value.value, bool):
        if value.value < minimum:
            r.add(codes.INVALID_VALUE, f"`{what}` must be at least {minimum}", value.span)
            return None
        return value.value
    _mismatch(r, value, "a whole number", what)
    return None


def as_number(value: ast.Value, r: Reporter, what: str) -> float | int | None:
    if isinstance(value, ast.NumberLit):
        if value.value <= 0:
            r.add(codes.INVALID_VALUE, f"`{what}` must be positive", value.span)
            return None
        return value.value
    _mismatch(r, value, "a number", what)
    return None


def as_bool(value: ast.Value, r: Reporter, what: str) -> bool | None:
    if isinstance(value, ast.BoolLit):
        return value.value
    _mismatch(r, value, "`true` or `false`", what)
    return None


def as_duration(value: ast.Value, r: Reporter, what: str) -> int | None:
    if isinstance(value, ast.DurationLit):
        if value.seconds <= 0:
            r.add(codes.INVALID_VALUE, f"`{what}` must be a positive duration", value.span)
            return None
        if value.seconds != int(value.seconds):
            r.add(codes.INVALID_VALUE, f"`{what}` must be a whole number of seconds, found `{value.text}`",
                  value.span, help="write a smaller unit: `90s` rather than `1.5m`")
            return None
        return int(value.seconds)
    _mismatch(r, value, "a duration", what, help=f"write a unit: `{what} = 90s`, `30m`, `3h` or `7d`")
    return None


def as_size(value: ast.Value, r: Reporter, what: str) -> int | None:
    if isinstance(value, ast.SizeLit):
        if value.bytes <= 0:
            r.add(codes.INVALID_VALUE, f"`{what}` must be a positive size", value.span)
            return None
        return value.bytes
    _mismatch(r, value, "a size", what, help=f"write a unit: `{what} = 512Mi` or `32Gi`")
    return None


def as_cron(value: ast.Value, r: Reporter, what: str) -> ir.Cron | None:
    if not isinstance(value, ast.CronLit):
        _mismatch(r, value, 'a schedule `cron("...")`', what, help=f'write `{what} = cron("0 2 * * *")`')
        return None
    text = as_str(value.expression, r, what)
    if text is None:
        return None
    error = cron_error(text)
    if error is None:
        return ir.Cron.trusted(expression=" ".join(text.split()), span=value.span)
    r.add(
        codes.INVALID_VALUE,
        f"`{text}` is not a valid cron expression",
        value.expression.span,
        label=error,
        help='five fields: minute hour day-of-month month day-of-week; `cron("0 2 * * *")` runs daily at 02:00 UTC',
    )
    return None


def as_choice(value: ast.Value, r: Reporter, what: str, choices: tuple[str, ...]) -> str | None:
    text = as_str(value, r, what)
    if text is None:
        return None
    if text not in choices:
        listed = ", ".join(f'"{c}"' for c in choices)
        r.add(codes.INVALID_VALUE, f"`{what}` must be one of {listed}, found \"{text}\"", value.span)
        return None
    return text


def as_scalar(value: ast.Value) -> ir.Scalar | None:
    """The Python value of a literal scalar, or None."""
    if isinstance(value, ast.StringLit) and not value.has_interpolation:
        return value.text
    if isinstance(value, (ast.NumberLit, ast.BoolLit)):
        return value.value
    return None


def scalar_type(value: ir.Scalar) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    return "str"


def scalar_fits(declared: str, actual: str) -> bool:
    return declared == actual or (declared == "float" and actual == "int")

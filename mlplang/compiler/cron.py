"""Validation of five-field cron expressions.

Only the POSIX form that every target accepts (GitHub Actions `on.schedule`,
Airflow, Kubeflow recurring runs): minute hour day-of-month month
day-of-week, each field `*`, numbers, ranges `a-b`, steps `/n` and lists
`a,b`; months and weekdays may be named (JAN, MON). Macros such as `@daily`
are refused because GitHub Actions does not accept them.
"""

from __future__ import annotations

MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
DAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
# name, low, high, names (index 0 stands for `low`)
FIELDS = (
    ("minute", 0, 59, ()),
    ("hour", 0, 23, ()),
    ("day of month", 1, 31, ()),
    ("month", 1, 12, MONTHS),
    ("day of week", 0, 7, DAYS),
)


def _value(text: str, low: int, high: int, names: tuple[str, ...]) -> int | None:
    if text.upper() in names:
        return low + names.index(text.upper())
    if text.isdigit():
        number = int(text)
        return number if low <= number <= high else None
    return None


def _item_error(item: str, name: str, low: int, high: int, names: tuple[str, ...]) -> str | None:
    base, _, step = item.partition("/")
    if _ and (not step.isdigit() or int(step) == 0):
        return f"step `/{step}` of the {name} field must be a positive number"
    if base == "*":
        return None
    start, dash, end = base.partition("-")
    first = _value(start, low, high, names)
    last = _value(end, low, high, names) if dash else first
    if first is None or last is None:
        allowed = f"{low}-{high}" + (f" or {names[0]}-{names[-1]}" if names else "")
        return f"`{item}` is not valid in the {name} field (allowed: {allowed})"
    if last < first:
        return f"range `{base}` of the {name} field runs backwards"
    return None


def cron_error(expression: str) -> str | None:
    """Why `expression` is not a valid five-field cron expression, or None."""
    text = expression.strip()
    if text.startswith("@"):
        return f"`{text}` is a cron macro, which GitHub Actions does not accept; write five fields"
    fields = text.split()
    if len(fields) != 5:
        return f"found {len(fields)} fields, expected 5"
    for field, (name, low, high, names) in zip(fields, FIELDS):
        for item in field.split(","):
            error = _item_error(item, name, low, high, names)
            if error:
                return error
    return None

# std/data check_quality: column, null and range checks on a CSV or JSONL file.
#
#   python3 check_data.py DATA RULES REPORT
#
# DATA is CSV (header row first) or JSONL (one object a line; detected by a
# leading "{"). RULES is a JSON object, every key optional:
#   {"columns":  {"amount": "float", "id": "int", "city": "str"},
#    "required": ["amount", "id"],        columns that must exist
#    "not_null": ["amount"],              columns whose cells must not be empty
#    "ranges":   {"amount": [0, 10000]}}  inclusive bounds; null for no bound
# REPORT gets rows, missing_columns, null_cells, type_errors, range_errors and
# passed (1 or 0); it is written before the step fails (exit 1, the first
# problems on stderr) so a gate can read it either way.
import csv, json, os, sys

PARSERS = {"int": int, "float": float, "str": str}
MAX_EXAMPLES = 10


def fail(message):
    print(f"check_quality: {message}", file=sys.stderr)
    sys.exit(1)


def read_rows(path):
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            text = handle.read()
    except (OSError, UnicodeDecodeError) as error:
        fail(f"cannot read {path}: {error}")
    if text.lstrip().startswith("{"):
        rows, header = [], []
        for number, line in enumerate(text.splitlines(), 1):
            if line.strip():
                try:
                    row = json.loads(line)
                except ValueError as error:
                    fail(f"{path}: line {number}: not JSON: {error}")
                if not isinstance(row, dict):
                    fail(f"{path}: line {number}: not a JSON object")
                header.extend(k for k in row if k not in header)
                rows.append((number, row))
        return header, rows
    try:
        reader = csv.DictReader(text.splitlines())
        rows = [(reader.line_num, row) for row in reader]
    except csv.Error as error:
        fail(f"{path}: bad CSV: {error}")
    return list(reader.fieldnames or []), rows


def load_rules(path):
    try:
        with open(path, encoding="utf-8") as handle:
            rules = json.load(handle)
    except (OSError, ValueError) as error:
        fail(f"cannot read rules {path}: {error}")
    if not isinstance(rules, dict):
        fail(f"rules {path} must be a JSON object")
    unknown = sorted(set(rules) - {"columns", "required", "not_null", "ranges"})
    if unknown:
        fail(f"rules {path}: unknown key(s) {', '.join(unknown)}; use columns, required, not_null, ranges")
    columns = rules.get("columns", {})
    required = rules.get("required", [])
    not_null = rules.get("not_null", [])
    ranges = rules.get("ranges", {})
    if not isinstance(columns, dict) or not isinstance(ranges, dict):
        fail(f"rules {path}: 'columns' and 'ranges' must be objects")
    if not isinstance(required, list) or not isinstance(not_null, list):
        fail(f"rules {path}: 'required' and 'not_null' must be lists")
    bad_types = sorted({str(t) for t in columns.values() if t not in PARSERS})
    if bad_types:
        fail(f"rules {path}: unknown column type(s) {', '.join(bad_types)}; use int, float or str")
    for name, bounds in ranges.items():
        if (not isinstance(bounds, list) or len(bounds) != 2
                or any(b is not None and not isinstance(b, (int, float)) for b in bounds)):
            fail(f"rules {path}: range of {name!r} must be [min, max] (numbers or null)")
    return columns, required, not_null, ranges


def is_empty(cell):
    return cell is None or (isinstance(cell, str) and cell.strip() == "")


def check(header, rows, columns, required, not_null, ranges):
    counts = {"rows": len(rows), "missing_columns": 0, "null_cells": 0, "type_errors": 0, "range_errors": 0}
    problems = []

    def problem(kind, text):
        counts[kind] += 1
        if len(problems) < MAX_EXAMPLES:
            problems.append(text)

    for name in required:
        if name not in header:
            problem("missing_columns", f"missing required column {name!r}")
    for line, row in rows:
        for name in not_null:
            if name in header and is_empty(row.get(name)):
                problem("null_cells", f"line {line}: column {name!r} is empty")
        for name, kind in columns.items():
            cell = row.get(name)
            if is_empty(cell):
                continue
            try:
                PARSERS[kind](cell.strip() if isinstance(cell, str) else cell)
            except (TypeError, ValueError):
                problem("type_errors", f"line {line}: column {name!r}: {str(cell)[:40]!r} is not {kind}")
        for name, (low, high) in ranges.items():
            cell = row.get(name)
            if is_empty(cell):
                continue
            try:
                value = float(cell)
            except (TypeError, ValueError):
                problem("type_errors", f"line {line}: column {name!r}: {str(cell)[:40]!r} is not a number")
                continue
            if (low is not None and value < low) or (high is not None and value > high):
                problem("range_errors", f"line {line}: column {name!r}: {value:g} is outside [{low}, {high}]")
    failures = sum(v for k, v in counts.items() if k != "rows")
    counts["passed"] = 0 if failures else 1
    return counts, problems


def main(argv):
    if len(argv) != 3:
        fail("usage: check_data.py DATA RULES REPORT")
    data_path, rules_path, report_path = argv
    columns, required, not_null, ranges = load_rules(rules_path)
    header, rows = read_rows(data_path)
    report, problems = check(header, rows, columns, required, not_null, ranges)
    os.makedirs(os.path.dirname(os.path.abspath(report_path)), exist_ok=True)
    with open(report_path, "w", encoding="utf-8") as handle:
        json.dump(report, handle, indent=2, sort_keys=True)
        handle.write("\n")
    if not report["passed"]:
        for text in problems:
            print(f"check_quality: {data_path}: {text}", file=sys.stderr)
        fail(f"{data_path} breaks {rules_path}: {report['missing_columns']} missing column(s), "
             f"{report['null_cells']} empty cell(s), {report['type_errors']} type error(s), "
             f"{report['range_errors']} out-of-range value(s) in {report['rows']} row(s)")
    print(f"check_quality: {data_path}: {report['rows']} row(s) pass {rules_path}")


if __name__ == "__main__":
    main(sys.argv[1:])

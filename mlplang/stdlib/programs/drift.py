# std/drift: population stability index (PSI) and two-sample Kolmogorov-Smirnov
# statistic (KS) per numeric column, between a reference and a current dataset.
#
#   python3 drift.py REFERENCE CURRENT COLUMNS BINS REPORT
#
# REFERENCE and CURRENT are CSV (header row first) or JSONL (one object a line).
# COLUMNS is a comma-separated list; empty means every column both share whose
# values are all numeric. BINS equal-width bins over the reference range (the
# outer bins are open) give the PSI histograms. REPORT gets psi_COLUMN,
# ks_COLUMN, psi_max, ks_max and columns. Exit 1 with a reason on bad data.
import csv, json, math, os, sys

EPSILON = 1e-4


def fail(message):
    print(f"drift: {message}", file=sys.stderr)
    sys.exit(1)


def read_rows(path):
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            text = handle.read()
    except (OSError, UnicodeDecodeError) as error:
        fail(f"cannot read {path}: {error}")
    if text.lstrip().startswith("{"):
        rows = []
        for number, line in enumerate(text.splitlines(), 1):
            if line.strip():
                try:
                    row = json.loads(line)
                except ValueError as error:
                    fail(f"{path}: line {number}: not JSON: {error}")
                if not isinstance(row, dict):
                    fail(f"{path}: line {number}: not a JSON object")
                rows.append(row)
        return rows
    try:
        return list(csv.DictReader(text.splitlines()))
    except csv.Error as error:
        fail(f"{path}: bad CSV: {error}")


def numbers(rows, column, path):
    values = []
    for index, row in enumerate(rows, 1):
        cell = row.get(column)
        if cell is None or (isinstance(cell, str) and cell.strip() == ""):
            continue
        try:
            value = float(cell)
        except (TypeError, ValueError):
            fail(f"{path}: row {index}: column {column!r}: {str(cell)[:40]!r} is not a number")
        if math.isnan(value) or math.isinf(value):
            fail(f"{path}: row {index}: column {column!r} is not finite")
        values.append(value)
    if not values:
        fail(f"{path}: column {column!r} has no values")
    return values


def is_numeric(rows, column):
    for row in rows:
        cell = row.get(column)
        if cell is None or (isinstance(cell, str) and cell.strip() == ""):
            continue
        try:
            float(cell)
        except (TypeError, ValueError):
            return False
    return True


def histogram(values, edges):
    counts = [0] * (len(edges) + 1)
    for value in values:
        index = 0
        while index < len(edges) and value >= edges[index]:
            index += 1
        counts[index] += 1
    return counts


def psi(reference_counts, current_counts):
    # PSI = sum((c - r) * ln(c / r)) over bin shares; an empty bin counts as EPSILON.
    reference_total, current_total = sum(reference_counts), sum(current_counts)
    total = 0.0
    for r, c in zip(reference_counts, current_counts):
        r_share = max(r / reference_total, EPSILON)
        c_share = max(c / current_total, EPSILON)
        total += (c_share - r_share) * math.log(c_share / r_share)
    return total


def ks(reference, current):
    # The largest distance between the two empirical distribution functions.
    a, b = sorted(reference), sorted(current)
    i = j = 0
    distance = 0.0
    while i < len(a) and j < len(b):
        value = min(a[i], b[j])
        while i < len(a) and a[i] == value:
            i += 1
        while j < len(b) and b[j] == value:
            j += 1
        distance = max(distance, abs(i / len(a) - j / len(b)))
    return distance


def main(argv):
    if len(argv) != 5:
        fail("usage: drift.py REFERENCE CURRENT COLUMNS BINS REPORT")
    reference_path, current_path, columns_text, bins_text, report_path = argv
    try:
        bins = int(bins_text)
    except ValueError:
        fail(f"bins must be an integer, not {bins_text!r}")
    if bins < 2:
        fail(f"bins must be at least 2, not {bins}")
    reference_rows, current_rows = read_rows(reference_path), read_rows(current_path)
    if not reference_rows or not current_rows:
        fail("the reference and the current dataset must both have rows")
    columns = [c.strip() for c in columns_text.split(",") if c.strip()]
    if not columns:
        shared = [c for c in reference_rows[0] if c in current_rows[0]]
        columns = [c for c in shared if is_numeric(reference_rows, c) and is_numeric(current_rows, c)]
        if not columns:
            fail("no numeric column is shared by the reference and the current dataset")
    report = {"columns": len(columns)}
    for column in columns:
        for rows, path in ((reference_rows, reference_path), (current_rows, current_path)):
            if column not in rows[0]:
                fail(f"{path}: no column {column!r}")
        reference = numbers(reference_rows, column, reference_path)
        current = numbers(current_rows, column, current_path)
        low, high = min(reference), max(reference)
        width = (high - low) / bins
        edges = [low + width * k for k in range(1, bins)] if width > 0 else [low]
        report[f"psi_{column}"] = round(psi(histogram(reference, edges), histogram(current, edges)), 6)
        report[f"ks_{column}"] = round(ks(reference, current), 6)
    report["psi_max"] = max(report[f"psi_{c}"] for c in columns)
    report["ks_max"] = max(report[f"ks_{c}"] for c in columns)
    os.makedirs(os.path.dirname(os.path.abspath(report_path)), exist_ok=True)
    with open(report_path, "w", encoding="utf-8") as handle:
        json.dump(report, handle, indent=2, sort_keys=True)
        handle.write("\n")
    print(f"drift: {len(columns)} column(s); psi_max {report['psi_max']}, ks_max {report['ks_max']}")


if __name__ == "__main__":
    main(sys.argv[1:])

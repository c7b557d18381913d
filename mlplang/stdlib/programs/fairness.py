# std/fairness: group fairness of a binary classifier across a sensitive column.
#
#   python3 fairness.py PREDICTIONS SENSITIVE LABEL SCORE THRESHOLD REPORT
#
# Each row of the CSV or JSONL has the SENSITIVE column (any value: a group),
# a LABEL (0/1, true/false) and a SCORE (a score >= THRESHOLD predicts
# positive). REPORT gets, as fairlearn defines them:
#   demographic_parity_difference  max - min over groups of P(predicted positive)
#   equalized_odds_difference      the larger of the max - min gaps in true
#                                  positive rate and in false positive rate
# and groups, rows. Exit 1 with a reason on bad data (e.g. a single group).
import csv, json, os, sys

TRUE = {"1", "true", "yes", "1.0"}
FALSE = {"0", "false", "no", "0.0"}


def fail(message):
    print(f"fairness: {message}", file=sys.stderr)
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


def label_of(cell, index):
    text = str(cell).strip().lower()
    if text in TRUE:
        return 1
    if text in FALSE:
        return 0
    fail(f"row {index}: label {str(cell)[:40]!r} is not 0/1 or true/false")


def rate(numerator, denominator):
    return numerator / denominator if denominator else 0.0


def fairness_metrics(groups, labels, predicted):
    stats = {}
    for group, y, p in zip(groups, labels, predicted):
        s = stats.setdefault(group, {"n": 0, "selected": 0, "pos": 0, "tp": 0, "neg": 0, "fp": 0})
        s["n"] += 1
        s["selected"] += p
        if y == 1:
            s["pos"] += 1
            s["tp"] += p
        else:
            s["neg"] += 1
            s["fp"] += p
    if len(stats) < 2:
        fail(f"fairness needs at least two groups, found {len(stats)}")
    selection = [rate(s["selected"], s["n"]) for s in stats.values()]
    tpr = [rate(s["tp"], s["pos"]) for s in stats.values()]
    fpr = [rate(s["fp"], s["neg"]) for s in stats.values()]
    return {
        "demographic_parity_difference": round(max(selection) - min(selection), 6),
        "equalized_odds_difference": round(max(max(tpr) - min(tpr), max(fpr) - min(fpr)), 6),
        "groups": len(stats),
        "rows": len(groups),
    }


def main(argv):
    if len(argv) != 6:
        fail("usage: fairness.py PREDICTIONS SENSITIVE LABEL SCORE THRESHOLD REPORT")
    path, sensitive, label, score, threshold_text, report_path = argv
    try:
        threshold = float(threshold_text)
    except ValueError:
        fail(f"threshold must be a number, not {threshold_text!r}")
    rows = read_rows(path)
    if not rows:
        fail(f"{path} has no rows")
    for column in (sensitive, label, score):
        if column not in rows[0]:
            fail(f"{path}: no column {column!r} (columns: {', '.join(map(str, rows[0]))})")
    groups, labels, predicted = [], [], []
    for index, row in enumerate(rows, 1):
        group = row.get(sensitive)
        if group is None or str(group).strip() == "":
            fail(f"row {index}: sensitive column {sensitive!r} is empty")
        try:
            value = float(row.get(score))
        except (TypeError, ValueError):
            fail(f"row {index}: score {str(row.get(score))[:40]!r} is not a number")
        groups.append(str(group))
        labels.append(label_of(row.get(label), index))
        predicted.append(1 if value >= threshold else 0)
    report = fairness_metrics(groups, labels, predicted)
    os.makedirs(os.path.dirname(os.path.abspath(report_path)), exist_ok=True)
    with open(report_path, "w", encoding="utf-8") as handle:
        json.dump(report, handle, indent=2, sort_keys=True)
        handle.write("\n")
    print(f"fairness: {report['groups']} group(s); demographic parity difference "
          f"{report['demographic_parity_difference']}, equalized odds difference {report['equalized_odds_difference']}")


if __name__ == "__main__":
    main(sys.argv[1:])

# std/evaluate: binary classification metrics from a predictions CSV or JSONL.
#
#   python3 evaluate.py PREDICTIONS LABEL SCORE THRESHOLD REPORT
#
# Each row has a LABEL column (0/1, true/false) and a SCORE column (a number,
# higher means positive); a score >= THRESHOLD predicts positive. REPORT gets
# accuracy, precision, recall, f1, auc (ROC AUC, ties counted half), rows and
# positives. Exit 1 with a reason on bad data.
import csv, json, os, sys

TRUE = {"1", "true", "yes", "1.0"}
FALSE = {"0", "false", "no", "0.0"}


def fail(message):
    print(f"evaluate: {message}", file=sys.stderr)
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


def score_of(cell, index):
    try:
        return float(cell)
    except (TypeError, ValueError):
        fail(f"row {index}: score {str(cell)[:40]!r} is not a number")


def roc_auc(labels, scores):
    # The probability that a random positive scores above a random negative.
    positives = [s for s, y in zip(scores, labels) if y == 1]
    negatives = [s for s, y in zip(scores, labels) if y == 0]
    if not positives or not negatives:
        fail("ROC AUC needs both positive and negative labels")
    wins = 0.0
    for p in positives:
        for n in negatives:
            wins += 1.0 if p > n else 0.5 if p == n else 0.0
    return wins / (len(positives) * len(negatives))


def classification_metrics(labels, scores, threshold):
    predicted = [1 if s >= threshold else 0 for s in scores]
    tp = sum(1 for y, p in zip(labels, predicted) if y == 1 and p == 1)
    fp = sum(1 for y, p in zip(labels, predicted) if y == 0 and p == 1)
    fn = sum(1 for y, p in zip(labels, predicted) if y == 1 and p == 0)
    tn = len(labels) - tp - fp - fn
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "accuracy": round((tp + tn) / len(labels), 6),
        "precision": round(precision, 6),
        "recall": round(recall, 6),
        "f1": round(f1, 6),
        "auc": round(roc_auc(labels, scores), 6),
        "rows": len(labels),
        "positives": sum(labels),
    }


def main(argv):
    if len(argv) != 5:
        fail("usage: evaluate.py PREDICTIONS LABEL SCORE THRESHOLD REPORT")
    path, label, score, threshold_text, report_path = argv
    try:
        threshold = float(threshold_text)
    except ValueError:
        fail(f"threshold must be a number, not {threshold_text!r}")
    rows = read_rows(path)
    if not rows:
        fail(f"{path} has no rows")
    for column in (label, score):
        if column not in rows[0]:
            fail(f"{path}: no column {column!r} (columns: {', '.join(map(str, rows[0]))})")
    labels = [label_of(row.get(label), i) for i, row in enumerate(rows, 1)]
    scores = [score_of(row.get(score), i) for i, row in enumerate(rows, 1)]
    report = classification_metrics(labels, scores, threshold)
    os.makedirs(os.path.dirname(os.path.abspath(report_path)), exist_ok=True)
    with open(report_path, "w", encoding="utf-8") as handle:
        json.dump(report, handle, indent=2, sort_keys=True)
        handle.write("\n")
    print(f"evaluate: {len(rows)} row(s); auc {report['auc']}, f1 {report['f1']}")


if __name__ == "__main__":
    main(sys.argv[1:])

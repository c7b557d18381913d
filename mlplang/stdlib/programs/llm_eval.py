# std/llm evaluate_prompts: exact-match and keyword-faithfulness scores of a
# model's answers to a JSONL set of questions.
#
#   python3 llm_eval.py MODEL QUESTIONS COMMAND REPORT
#
# QUESTIONS has one object a line: {"question": ..., "answer": ...} and
# optionally "keywords" (a list) and "prediction". COMMAND, when not empty, is
# run by /bin/sh once per question with the question on stdin and MLP_MODEL set
# to the MODEL path; its stdout is the prediction. An empty COMMAND scores the
# rows' own "prediction" fields. REPORT gets
#   exact_match           share of predictions equal to the answer (case,
#                         punctuation and spacing ignored)
#   keyword_faithfulness  mean share of the keywords (else the answer's words
#                         of four letters or more) found in the prediction
# and rows. Exit 1 with a reason on bad data or a failing command.
import json, os, re, string, subprocess, sys

TIMEOUT_SECONDS = 120
WORD = re.compile(r"[a-z0-9]+")


def fail(message):
    print(f"evaluate_prompts: {message}", file=sys.stderr)
    sys.exit(1)


def normalize(text):
    text = text.lower().translate(str.maketrans("", "", string.punctuation))
    return " ".join(text.split())


def exact_match(prediction, answer):
    return 1.0 if normalize(prediction) == normalize(answer) else 0.0


def keyword_faithfulness(prediction, answer, keywords=None):
    if keywords is None:
        keywords = sorted({w for w in WORD.findall(answer.lower()) if len(w) >= 4})
    if not keywords:
        return 1.0
    found = set(WORD.findall(prediction.lower()))
    text = normalize(prediction)
    hits = sum(1 for k in keywords if (normalize(k) in found) or (" " in normalize(k) and normalize(k) in text))
    return hits / len(keywords)


def ask(command, model_path, question):
    environment = dict(os.environ, MLP_MODEL=model_path)
    try:
        done = subprocess.run(["/bin/sh", "-c", command], input=question, capture_output=True, text=True,
                              env=environment, timeout=TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        fail(f"the command did not answer within {TIMEOUT_SECONDS}s")
    if done.returncode != 0:
        fail(f"the command exited {done.returncode}: {done.stderr.strip()[:200]}")
    return done.stdout.strip()


def read_questions(path):
    try:
        with open(path, encoding="utf-8-sig") as handle:
            lines = handle.read().splitlines()
    except (OSError, UnicodeDecodeError) as error:
        fail(f"cannot read {path}: {error}")
    rows = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError as error:
            fail(f"{path}: line {number}: not JSON: {error}")
        if not isinstance(row, dict) or not isinstance(row.get("question"), str) \
                or not isinstance(row.get("answer"), str):
            fail(f"{path}: line {number}: needs string fields 'question' and 'answer'")
        keywords = row.get("keywords")
        if keywords is not None and (not isinstance(keywords, list) or not all(isinstance(k, str) for k in keywords)):
            fail(f"{path}: line {number}: 'keywords' must be a list of strings")
        rows.append((number, row))
    if not rows:
        fail(f"{path} has no questions")
    return rows


def main(argv):
    if len(argv) != 4:
        fail("usage: llm_eval.py MODEL QUESTIONS COMMAND REPORT")
    model_path, questions_path, command, report_path = argv
    matches = faithfulness = 0.0
    rows = read_questions(questions_path)
    for number, row in rows:
        if command.strip():
            prediction = ask(command, model_path, row["question"])
        elif isinstance(row.get("prediction"), str):
            prediction = row["prediction"]
        else:
            fail(f"{questions_path}: line {number}: no 'prediction' and no command to ask")
        matches += exact_match(prediction, row["answer"])
        faithfulness += keyword_faithfulness(prediction, row["answer"], row.get("keywords"))
    report = {
        "exact_match": round(matches / len(rows), 6),
        "keyword_faithfulness": round(faithfulness / len(rows), 6),
        "rows": len(rows),
    }
    os.makedirs(os.path.dirname(os.path.abspath(report_path)), exist_ok=True)
    with open(report_path, "w", encoding="utf-8") as handle:
        json.dump(report, handle, indent=2, sort_keys=True)
        handle.write("\n")
    print(f"evaluate_prompts: {len(rows)} question(s); exact match {report['exact_match']}, "
          f"keyword faithfulness {report['keyword_faithfulness']}")


if __name__ == "__main__":
    main(sys.argv[1:])

# std/registry: record a model version, MLflow style.
#
#   python3 registry.py MODEL METRICS NAME MODEL_URI RECORD
#
# Writes RECORD, an MLmodel-style registration record (JSON, so also YAML):
# the registered model name, the model URI the version is served from, the
# sha256 and size of MODEL, the metrics of METRICS (a flat JSON object), and
# the MLflow version when one was created. Only when the environment variable
# MLFLOW_TRACKING_URI is set does it call that MLflow tracking server over
# HTTP (REST API 2.0: registered-models/create, then model-versions/create);
# without it no network is used, so the step runs anywhere. Exit 1 with a
# reason on bad input or a failed MLflow call.
import hashlib, json, os, re, sys, urllib.error, urllib.request

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")


def fail(message):
    print(f"register: {message}", file=sys.stderr)
    sys.exit(1)


def mlflow_call(base, endpoint, payload):
    request = urllib.request.Request(
        base.rstrip("/") + "/api/2.0/mlflow/" + endpoint,
        data=json.dumps(payload).encode("utf-8"),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    token = os.environ.get("MLFLOW_TRACKING_TOKEN")
    if token:
        request.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read().decode("utf-8") or "{}")
    except urllib.error.HTTPError as error:
        body = error.read().decode("utf-8", "replace")
        if endpoint == "registered-models/create" and "RESOURCE_ALREADY_EXISTS" in body:
            return {}
        fail(f"MLflow {endpoint} failed: HTTP {error.code}: {body[:200]}")
    except (urllib.error.URLError, OSError, ValueError) as error:
        fail(f"MLflow {endpoint} failed: {error}")


def build_record(model_path, metrics, name, model_uri):
    digest = hashlib.sha256()
    size = 0
    try:
        with open(model_path, "rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
                size += len(chunk)
    except OSError as error:
        fail(f"cannot read model {model_path}: {error}")
    return {
        "name": name,
        "model_uri": model_uri,
        "model_uuid": digest.hexdigest()[:32],
        "sha256": digest.hexdigest(),
        "size_bytes": size,
        "flavors": {"python_function": {"loader_module": "mlflow.pyfunc.model"}},
        "metrics": metrics,
        "mlflow_version": None,
    }


def main(argv):
    if len(argv) != 5:
        fail("usage: registry.py MODEL METRICS NAME MODEL_URI RECORD")
    model_path, metrics_path, name, model_uri, record_path = argv
    if not NAME.match(name):
        fail(f"model name {name!r} must be letters, digits, '_', '.' or '-' (at most 128)")
    if not model_uri.strip():
        fail("model URI is empty")
    try:
        with open(metrics_path, encoding="utf-8") as handle:
            metrics = json.load(handle)
    except (OSError, ValueError) as error:
        fail(f"cannot read metrics {metrics_path}: {error}")
    if not isinstance(metrics, dict):
        fail(f"metrics {metrics_path} must be a JSON object")
    record = build_record(model_path, metrics, name, model_uri)
    tracking = os.environ.get("MLFLOW_TRACKING_URI", "").strip()
    if tracking:
        if not tracking.startswith(("http://", "https://")):
            fail(f"MLFLOW_TRACKING_URI must be an http(s) URL, not {tracking!r}")
        mlflow_call(tracking, "registered-models/create", {"name": name})
        version = mlflow_call(tracking, "model-versions/create", {
            "name": name, "source": model_uri,
            "tags": [{"key": "sha256", "value": record["sha256"]}],
        })
        record["mlflow_version"] = str(version.get("model_version", {}).get("version", "")) or None
    os.makedirs(os.path.dirname(os.path.abspath(record_path)), exist_ok=True)
    with open(record_path, "w", encoding="utf-8") as handle:
        json.dump(record, handle, indent=2, sort_keys=True)
        handle.write("\n")
    where = f"MLflow version {record['mlflow_version']}" if tracking else "no MLFLOW_TRACKING_URI: record only"
    print(f"register: {name} from {model_uri} ({where})")


if __name__ == "__main__":
    main(sys.argv[1:])

# std/deploy: a KServe InferenceService manifest for a registered model.
#
#   python3 deploy.py MODEL RECORD NAME NAMESPACE MODEL_FORMAT ENDPOINT
#
# RECORD is the registration record std/registry wrote for MODEL (its model_uri
# is the storageUri served; its sha256 must be MODEL's, so the manifest serves
# the model the pipeline evaluated). ENDPOINT gets an InferenceService (serving.kserve.io/v1beta1)
# YAML document; applying it (kubectl apply -f) is left to the platform, so the
# step needs no cluster access. Every string is written as a JSON string, which
# is a valid YAML double-quoted scalar, so no value can change the document's
# structure. Exit 1 with a reason on a bad name or record.
import hashlib, json, os, re, sys

DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")


def fail(message):
    print(f"deploy: {message}", file=sys.stderr)
    sys.exit(1)


def manifest(record, name, namespace, model_format):
    q = json.dumps
    lines = [
        "apiVersion: serving.kserve.io/v1beta1",
        "kind: InferenceService",
        "metadata:",
        f"  name: {q(name)}",
        f"  namespace: {q(namespace)}",
        "  annotations:",
        f"    mlplang.dev/registered-model: {q(record['name'])}",
        f"    mlplang.dev/model-sha256: {q(record.get('sha256', ''))}",
        "spec:",
        "  predictor:",
        "    model:",
        "      modelFormat:",
        f"        name: {q(model_format)}",
        f"      storageUri: {q(record['model_uri'])}",
    ]
    return "\n".join(lines) + "\n"


def main(argv):
    if len(argv) != 6:
        fail("usage: deploy.py MODEL RECORD NAME NAMESPACE MODEL_FORMAT ENDPOINT")
    model_path, record_path, name, namespace, model_format, endpoint_path = argv
    for what, value in (("name", name), ("namespace", namespace)):
        if not DNS_LABEL.match(value):
            fail(f"{what} {value!r} is not a DNS label (lower-case letters, digits, '-', at most 63)")
    if not model_format.strip():
        fail("model format is empty (e.g. sklearn, xgboost, onnx)")
    try:
        with open(record_path, encoding="utf-8") as handle:
            record = json.load(handle)
    except (OSError, ValueError) as error:
        fail(f"cannot read registration record {record_path}: {error}")
    if not isinstance(record, dict) or not record.get("model_uri") or not record.get("name"):
        fail(f"{record_path} is not a registration record (no name or model_uri)")
    if record.get("sha256"):
        try:
            with open(model_path, "rb") as handle:
                digest = hashlib.sha256(handle.read()).hexdigest()
        except OSError as error:
            fail(f"cannot read model {model_path}: {error}")
        if digest != record["sha256"]:
            fail(f"model {model_path} is not the registered one (sha256 {digest[:12]}, record {record['sha256'][:12]})")
    os.makedirs(os.path.dirname(os.path.abspath(endpoint_path)), exist_ok=True)
    with open(endpoint_path, "w", encoding="utf-8") as handle:
        handle.write(manifest(record, name, namespace, model_format))
    print(f"deploy: InferenceService {namespace}/{name} serves {record['model_uri']}")


if __name__ == "__main__":
    main(sys.argv[1:])

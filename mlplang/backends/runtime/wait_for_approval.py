"""Wait for a human approval of a gate, in a Kubeflow task (standard library only).

Kubeflow Pipelines has no approval step, so the run waits here: the task polls
the Kubernetes API for a ConfigMap named `mlp-approval-<run id>-<task>` in the
task's namespace (<task> is the approval task's name, `<gate>-approval`). A
reviewer approves with

    kubectl create configmap mlp-approval-<run id>-<task> -n <namespace> \
        --from-literal=approved=true --from-literal=reviewer=<name>

(`approved=false` rejects: the task fails, so nothing after the gate runs).
Who may create it is Kubernetes RBAC's decision; the reviewers listed in the
`.mlp` file are printed for the people watching the run.

Input: MLP_APPROVAL (JSON: gate, key - the task's name -, pipeline,
reviewers, timeout in seconds or null, description), MLP_RUN_ID. The pod's service account token and namespace
are read from their standard paths; MLP_K8S_API overrides the API address
(tests use a local stub) and MLP_POLL_SECONDS the polling interval.
Exit 0: approved; 1: rejected or timed out; 2: cannot ask the API.
"""

import json
import os
import ssl
import sys
import time
import urllib.error
import urllib.request

ACCOUNT = "/var/run/secrets/kubernetes.io/serviceaccount"


def read(path, default=None):
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read().strip()
    except OSError:
        return default


def config_map_name(run_id, key):
    name = "mlp-approval-%s-%s" % (run_id, key)
    return name.lower()[:253]


def fetch(api, namespace, name, token, context):
    url = "%s/api/v1/namespaces/%s/configmaps/%s" % (api, namespace, name)
    request = urllib.request.Request(url, headers={"Authorization": "Bearer " + token} if token else {})
    try:
        with urllib.request.urlopen(request, timeout=30, context=context) as response:
            return json.load(response)
    except urllib.error.HTTPError as error:
        if error.code == 404:
            return None
        raise


def main():
    approval = json.loads(os.environ["MLP_APPROVAL"])
    run_id = os.environ["MLP_RUN_ID"]
    namespace = read(ACCOUNT + "/namespace", "default")
    token = read(ACCOUNT + "/token", "")
    api = os.environ.get("MLP_K8S_API")
    context = None
    if api is None:
        host = os.environ.get("KUBERNETES_SERVICE_HOST")
        port = os.environ.get("KUBERNETES_SERVICE_PORT", "443")
        if not host:
            print("mlp approval: not running in Kubernetes (no KUBERNETES_SERVICE_HOST)", file=sys.stderr)
            return 2
        api = "https://%s:%s" % (host, port)
        context = ssl.create_default_context(cafile=ACCOUNT + "/ca.crt")
    name = config_map_name(run_id, approval["key"])
    poll = float(os.environ.get("MLP_POLL_SECONDS", "30"))
    deadline = time.monotonic() + approval["timeout"] if approval.get("timeout") else None
    if approval.get("description"):
        print(approval["description"])
    print("gate %s of pipeline %s waits for approval%s" % (
        approval["gate"], approval["pipeline"],
        " by: " + ", ".join(approval["reviewers"]) if approval.get("reviewers") else ""))
    print("approve:  kubectl create configmap %s -n %s --from-literal=approved=true --from-literal=reviewer=NAME"
          % (name, namespace))
    print("reject:   kubectl create configmap %s -n %s --from-literal=approved=false --from-literal=reviewer=NAME"
          % (name, namespace))
    sys.stdout.flush()
    while True:
        try:
            found = fetch(api, namespace, name, token, context)
        except (OSError, ValueError) as error:
            print("mlp approval: cannot read ConfigMap %s: %s" % (name, error), file=sys.stderr)
            return 2
        if found is not None:
            data = found.get("data") or {}
            reviewer = data.get("reviewer", "someone")
            verdict = data.get("approved", "").strip().lower()
            if verdict == "true":
                print("approved by %s" % reviewer)
                return 0
            if verdict == "false":
                print("rejected by %s" % reviewer, file=sys.stderr)
                return 1
            print("mlp approval: ConfigMap %s has approved=%r; expected true or false" % (name, verdict),
                  file=sys.stderr)
        if deadline is not None and time.monotonic() >= deadline:
            print("not approved within %d seconds" % approval["timeout"], file=sys.stderr)
            return 1
        time.sleep(poll if deadline is None else max(0.0, min(poll, deadline - time.monotonic())))


if __name__ == "__main__":
    sys.exit(main())

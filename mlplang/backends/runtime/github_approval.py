"""Verify a gate's approval in its GitHub Actions job (standard library only).

GitHub holds a job bound to an environment with required reviewers until one of
them approves it. An environment without them (never configured, renamed, or
created by the first run) lets the job run at once, and an administrator may be
allowed to bypass the rule. So the approval job, bound to the gate's environment,
asks the GitHub API before anything after the gate may run:

1. the environment requires reviewers, and, when the gate lists `reviewers`,
   every reviewer the environment accepts is one of them (a user by login, a
   team as `org/slug`): nobody else could have approved;
2. this run recorded an approval of the environment: who approved is printed;
3. with a `timeout`, the approval came at most that many seconds after the
   gate's checks passed (a job's own timeout does not count the wait).

Input: MLP_APPROVAL (JSON: gate, reviewers, timeout in seconds or null),
MLP_CHECKS_PASSED_AT (epoch seconds, with a timeout), GH_TOKEN (the job's
token, `actions: read`), and the runner's GITHUB_API_URL, GITHUB_REPOSITORY and
GITHUB_RUN_ID.
Exit 0: approved as the gate requires; 1: not; 2: cannot ask the API.
"""

import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

HELP = "\"Approvals\" in mlplang's docs/backends/github.md"


class ApiError(Exception):
    pass


def get(api, path, token):
    request = urllib.request.Request(api.rstrip("/") + path, headers={
        "Accept": "application/vnd.github+json",
        "Authorization": "Bearer " + token,
        "X-GitHub-Api-Version": "2022-11-28",
    })
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.load(response)
    except urllib.error.HTTPError as error:
        raise ApiError("GET %s: HTTP %d %s" % (path, error.code, error.reason)) from error
    except (OSError, ValueError) as error:
        raise ApiError("GET %s: %s" % (path, error)) from error


def reviewer_name(entry, owner):
    """A required reviewer as the gate names it: a user's login, a team's `org/slug`."""
    reviewer = entry.get("reviewer") or {}
    if entry.get("type") == "Team":
        parts = urllib.parse.urlparse(reviewer.get("html_url") or "").path.strip("/").split("/")
        org = parts[1] if len(parts) >= 4 and parts[0] == "orgs" else owner
        return "%s/%s" % (org, reviewer.get("slug", "?"))
    return reviewer.get("login", "?")


def problems(environment, approvals, gate, reviewers, owner):
    """What keeps the approval from counting (empty: it counts), and who approved."""
    found = []
    rules = [r for r in environment.get("protection_rules") or [] if r.get("type") == "required_reviewers"]
    accepted = [reviewer_name(e, owner) for r in rules for e in r.get("reviewers") or []]
    if not accepted:
        found.append("environment `%s` has no required reviewers, so nobody had to approve this run: add %s as "
                     "required reviewers in the repository's settings (see %s)"
                     % (gate, ", ".join(reviewers) or "the gate's reviewers", HELP))
    elif reviewers:
        allowed = {r.lower() for r in reviewers}
        others = [a for a in accepted if a.lower() not in allowed]
        if others:
            found.append("environment `%s` also accepts approvals from %s, who %s not among the gate's reviewers "
                         "(%s)" % (gate, ", ".join(others), "is" if len(others) == 1 else "are",
                                   ", ".join(reviewers)))
    approvers = [
        (a.get("user") or {}).get("login", "?")
        for a in approvals
        if a.get("state") == "approved" and any((e or {}).get("name") == gate for e in a.get("environments") or [])
    ]
    if accepted and not approvers:
        found.append("this run recorded no approval of environment `%s` (was the protection rule bypassed?)" % gate)
    return found, approvers


def main():
    approval = json.loads(os.environ["MLP_APPROVAL"])
    gate, reviewers, timeout = approval["gate"], approval.get("reviewers") or [], approval.get("timeout")
    if timeout:
        waited = int(time.time()) - int(os.environ["MLP_CHECKS_PASSED_AT"])
        if waited > timeout:
            print("approved %d s after the checks passed, later than the timeout (%d s)" % (waited, timeout),
                  file=sys.stderr)
            return 1
    api = os.environ.get("GITHUB_API_URL", "https://api.github.com")
    repository = os.environ["GITHUB_REPOSITORY"]
    token = os.environ.get("GH_TOKEN", "")
    try:
        environment = get(api, "/repos/%s/environments/%s" % (repository, urllib.parse.quote(gate, safe="")), token)
        approvals = get(api, "/repos/%s/actions/runs/%s/approvals" % (repository, os.environ["GITHUB_RUN_ID"]),
                        token)
    except ApiError as error:
        print("mlp approval: cannot ask the GitHub API: %s" % error, file=sys.stderr)
        return 2
    found, approvers = problems(environment, approvals, gate, reviewers, repository.split("/")[0])
    for problem in found:
        print("gate %s: %s" % (gate, problem), file=sys.stderr)
    if found:
        return 1
    print("gate %s approved by: %s" % (gate, ", ".join(approvers)))
    print("the gate's reviewers: %s" % (", ".join(reviewers) or "the environment's required reviewers"))
    return 0


if __name__ == "__main__":
    sys.exit(main())

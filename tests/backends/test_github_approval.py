"""runtime/github_approval.py, the program a gate's approval job runs: against a stand-in for
the GitHub API, it passes only a run approved through an environment that requires the
gate's reviewers and no one else, within the timeout."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest
from github_support import GitHubApiStub, approval, environment, team, user

from mlplang.backends.runtime import program_source

REPOSITORY = "acme/fraud"
RUN_ID = "4242"
ENVIRONMENT_PATH = f"/repos/{REPOSITORY}/environments/release"
APPROVALS_PATH = f"/repos/{REPOSITORY}/actions/runs/{RUN_ID}/approvals"


def run(stub: GitHubApiStub | None, reviewers: list[str], timeout: int | None = None,
        passed_at: int | None = None, gate: str = "release") -> subprocess.CompletedProcess:
    env = {
        "PATH": os.environ["PATH"], "LANG": "C.UTF-8",
        "MLP_APPROVAL": json.dumps({"gate": gate, "reviewers": reviewers, "timeout": timeout}),
        "GITHUB_API_URL": stub.url if stub else "http://127.0.0.1:9",  # port 9: nothing listens
        "GITHUB_REPOSITORY": REPOSITORY, "GITHUB_RUN_ID": RUN_ID, "GH_TOKEN": "the-job-token",
    }
    if passed_at is not None:
        env["MLP_CHECKS_PASSED_AT"] = str(passed_at)
    return subprocess.run([sys.executable, "-c", program_source("github_approval")], env=env,
                          capture_output=True, text=True, timeout=60)


def test_an_approval_by_the_gates_reviewers_passes():
    responses = {ENVIRONMENT_PATH: environment("release", team("acme", "risk-officers"), user("ada")),
                 APPROVALS_PATH: [approval("staging", "bob"), approval("release", "ada")]}
    with GitHubApiStub(responses) as stub:
        done = run(stub, ["acme/risk-officers", "Ada"])
    assert done.returncode == 0, done.stderr
    assert "gate release approved by: ada\n" in done.stdout
    assert "the gate's reviewers: acme/risk-officers, Ada" in done.stdout
    assert {path for path, _ in stub.requests} == {ENVIRONMENT_PATH, APPROVALS_PATH}
    assert all(auth == "Bearer the-job-token" for _, auth in stub.requests)


def test_an_environment_without_required_reviewers_fails():
    """What GitHub creates for an environment a workflow names before anyone configured it."""
    with GitHubApiStub({ENVIRONMENT_PATH: environment("release"), APPROVALS_PATH: []}) as stub:
        done = run(stub, ["acme/risk-officers"])
    assert done.returncode == 1
    assert "environment `release` has no required reviewers" in done.stderr
    assert "add acme/risk-officers as required reviewers" in done.stderr


def test_a_reviewer_the_gate_does_not_list_fails():
    responses = {ENVIRONMENT_PATH: environment("release", team("acme", "risk-officers"), user("mallory"),
                                               team("other-org", "admins")),
                 APPROVALS_PATH: [approval("release", "mallory")]}
    with GitHubApiStub(responses) as stub:
        done = run(stub, ["acme/risk-officers"])
    assert done.returncode == 1
    assert "also accepts approvals from mallory, other-org/admins, who are not among" in done.stderr


def test_without_listed_reviewers_any_required_reviewer_counts():
    responses = {ENVIRONMENT_PATH: environment("release", user("mallory")),
                 APPROVALS_PATH: [approval("release", "mallory")]}
    with GitHubApiStub(responses) as stub:
        done = run(stub, [])
    assert done.returncode == 0, done.stderr
    assert "the gate's reviewers: the environment's required reviewers" in done.stdout


@pytest.mark.parametrize("approvals", [[], [approval("release", "ada", state="rejected")],
                                       [approval("staging", "ada")]])
def test_a_run_without_a_recorded_approval_fails(approvals):
    """An administrator's bypass runs the job without an approval in the run's history."""
    responses = {ENVIRONMENT_PATH: environment("release", user("ada")), APPROVALS_PATH: approvals}
    with GitHubApiStub(responses) as stub:
        done = run(stub, ["ada"])
    assert done.returncode == 1
    assert "this run recorded no approval of environment `release`" in done.stderr


def test_an_approval_later_than_the_timeout_fails_before_asking():
    with GitHubApiStub({}) as stub:
        done = run(stub, ["ada"], timeout=3600, passed_at=int(time.time()) - 7200)
        assert done.returncode == 1
        assert "later than the timeout (3600 s)" in done.stderr
        assert stub.requests == []
        responses = {ENVIRONMENT_PATH: environment("release", user("ada")), APPROVALS_PATH: [approval("release", "ada")]}
        stub.responses.update(responses)
        assert run(stub, ["ada"], timeout=3600, passed_at=int(time.time()) - 60).returncode == 0


def test_an_api_it_cannot_ask_is_exit_2():
    with GitHubApiStub({APPROVALS_PATH: []}) as stub:  # the environment is 404
        done = run(stub, ["ada"])
    assert done.returncode == 2
    assert "HTTP 404" in done.stderr
    done = run(None, ["ada"])
    assert done.returncode == 2 and "cannot ask the GitHub API" in done.stderr


def test_the_gate_name_is_quoted_in_the_path():
    gate = "release candidate/1"  # not a valid gate name, but the path must not break on any text
    path = f"/repos/{REPOSITORY}/environments/release%20candidate%2F1"
    responses = {path: environment(gate, user("ada")), APPROVALS_PATH: [approval(gate, "ada")]}
    with GitHubApiStub(responses) as stub:
        done = run(stub, ["ada"], gate=gate)
    assert done.returncode == 0, done.stderr

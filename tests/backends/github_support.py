"""A stand-in for the GitHub REST API, for the programs the workflows run (runtime/github_approval.py).

Serves `GET` of the exact paths in `responses` as JSON (404 for others) and
records each request's path and Authorization header, on 127.0.0.1; a
program reaches it through GITHUB_API_URL, as on a GitHub Enterprise runner.
"""

from __future__ import annotations

from http_stub import JsonStub


class GitHubApiStub(JsonStub):
    def __init__(self, responses: dict[str, object] | None = None) -> None:
        super().__init__()
        self.responses: dict[str, object] = dict(responses or {})

    def answer(self, path: str) -> tuple[int, object]:
        found = self.responses.get(path)
        return (200, found) if found is not None else (404, {"message": "Not Found"})


def environment(name: str, *reviewers: dict) -> dict:
    """A `GET /repos/{o}/{r}/environments/{name}` answer (trimmed to what the program reads)."""
    rules = [{"id": 1, "node_id": "GA_1", "type": "wait_timer", "wait_timer": 0}]
    if reviewers:
        rules.append({"id": 2, "node_id": "GA_2", "type": "required_reviewers", "prevent_self_review": True,
                      "reviewers": list(reviewers)})
    return {"id": 7, "name": name, "can_admins_bypass": True, "protection_rules": rules}


def team(org: str, slug: str) -> dict:
    return {"type": "Team", "reviewer": {"id": 3, "slug": slug, "name": slug,
                                          "html_url": f"https://github.com/orgs/{org}/teams/{slug}"}}


def user(login: str) -> dict:
    return {"type": "User", "reviewer": {"id": 4, "login": login}}


def approval(environment_name: str, login: str, state: str = "approved") -> dict:
    """One entry of `GET /repos/{o}/{r}/actions/runs/{id}/approvals`."""
    return {"environments": [{"id": 7, "name": environment_name}], "state": state, "user": {"login": login},
            "comment": "looks good"}

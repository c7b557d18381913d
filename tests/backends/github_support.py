"""A stand-in for the GitHub REST API, for the programs the workflows run (runtime/github_approval.py).

Serves `GET` of the exact paths in `responses` as JSON (404 for others) and
records each request's path and Authorization header, on 127.0.0.1; a
program reaches it through GITHUB_API_URL, as on a GitHub Enterprise runner.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class GitHubApiStub:
    def __init__(self, responses: dict[str, object] | None = None) -> None:
        self.responses: dict[str, object] = dict(responses or {})
        self.requests: list[tuple[str, str | None]] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                owner.requests.append((self.path, self.headers.get("Authorization")))
                found = owner.responses.get(self.path)
                body = json.dumps(found if found is not None else {"message": "Not Found"}).encode()
                self.send_response(200 if found is not None else 404)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> GitHubApiStub:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


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

"""Finding credentials written literally in text (MLP212).

Two kinds of evidence, tried in this order, the first to claim a stretch of
text winning:
- *shapes* that are credentials wherever they appear: a private key block,
  AWS access key ids, GitHub and Slack tokens, a Slack webhook URL;
- *context*: a value assigned to a credential-like name (`password=...`,
  `"api_key": "..."`, `aws_secret_access_key ...`, `DB_PASSWORD = "..."` in
  `env`), the password of a URI (`postgres://user:pass@host`), a bearer token.
  A value is not literal when it is a shell or template variable (`$PASS`,
  `${PASS}`, `$(cmd)`, `{{ x }}`, `{x}`), a placeholder (`<token>`, `***`,
  `xxx`), a path to a file holding the secret, or code that computes it
  (`api_key=args.api_key`, `token=read_token()`). In running text a value
  must also look like a secret (a digit, mixed case or a symbol), since such
  names are often followed by an option word (`--token=auto`); a value bound
  to a credential-like `env` or param name needs no such look.

Precision matters more than recall here: a finding is an error, so every
heuristic that could flag ordinary shell or Python text errs towards silence.
Every pattern is linear in the text (no nested or unbounded back-tracking),
so even a megabyte-long command is scanned in a fraction of a second.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

_KEYWORD = r"(?:password|passwd|secret|token|api[_-]?key|apikey|access[_-]?key|secret[_-]?key|private[_-]?key)"
SECRET_NAME = re.compile(rf"[\w-]*?{_KEYWORD}", re.IGNORECASE)
"""A name whose value is a credential: `DB_PASSWORD`, `api-key`, `slack_token`."""

_PRIVATE_KEY_BEGIN = re.compile(r"-----BEGIN[ A-Z0-9]{0,40}PRIVATE KEY(?: BLOCK)?-----")
_PRIVATE_KEY_END = re.compile(r"-----END[ A-Z0-9]{0,40}PRIVATE KEY(?: BLOCK)?-----")
_AWS_ACCESS_KEY = re.compile(r"(?<![A-Za-z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Za-z0-9])")
_AWS_SECRET_VALUE = r"[A-Za-z0-9/+]{40}"
_AWS_SECRET = re.compile(
    rf"(?i:aws_?secret_?(?:access_?)?key)[\"']?(?:[ \t]*[=:][ \t]*|[ \t]+)[\"']?(?P<value>{_AWS_SECRET_VALUE})(?![A-Za-z0-9/+=])"
)
_AWS_SECRET_NAME = re.compile(r"aws_?secret", re.IGNORECASE)
_GITHUB = re.compile(r"(?<![A-Za-z0-9_])(?:gh[pousr]_[A-Za-z0-9]{36,251}|github_pat_[A-Za-z0-9_]{82})(?![A-Za-z0-9_])")
_SLACK = re.compile(r"(?<![A-Za-z0-9])xox[baprs]-[A-Za-z0-9-]{10,}")
_SLACK_WEBHOOK = re.compile(r"hooks\.slack\.com/services/(?P<value>T[A-Za-z0-9_]+/B[A-Za-z0-9_]+/[A-Za-z0-9_]+)")
_URI_PASSWORD = re.compile(
    r"(?<![A-Za-z0-9+.-])[A-Za-z][A-Za-z0-9+.-]{0,30}://[^\s/@:'\"]{1,256}:(?P<value>[^\s/@'\"]{0,256})@")
_BEARER = re.compile(r"(?i:\bbearer)\s+(?P<value>(?=[A-Za-z._~+/-]*[0-9])[A-Za-z0-9._~+/-]{8,}=*)")
# The keyword and what follows; the key's start is found by scanning back from it
# (a leading `[\w-]*?` in the pattern would make the search quadratic), and the
# look-ahead on first letters lets the search skip most positions quickly.
_KEYED = re.compile(rf"(?=[pstaPSTA]){_KEYWORD}[\"']?[ \t]*(?P<sep>[=:])[ \t]*(?P<quote>[\"']?)", re.IGNORECASE)

MAX_VALUE = 512
"""Longer values are not looked at: no credential is that long (private keys aside)."""
_UNQUOTED_VALUE = re.compile(rf"[^\s\"'`&;,|(){{}}\[\]<>$]{{0,{MAX_VALUE}}}")
_DOTTED_NAME = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+")
_NOT_LITERAL_START = ("$", "<", "{", "%")
_PATH_START = ("/", "./", "../", "~/", "file:")
_NOT_SECRETS = frozenset({
    "true", "false", "yes", "no", "none", "null", "nil", "on", "off", "redacted", "placeholder",
    "str", "bytes", "int", "bool", "optional", "any",  # Python annotations: `def f(token: str)`
})


@dataclass(frozen=True)
class Credential:
    kind: str
    """What was found, for messages: "AWS access key id", "password", ..."""
    value: str
    start: int
    """Offsets of `value` in the scanned text."""
    end: int
    shown: str
    """What a message may show: a masked value, never the whole secret."""
    key: str | None = None
    """The name the value is assigned to, when that is the evidence (`--db-password`)."""


def mask(value: str) -> str:
    """At most the first 4 characters, and at most a quarter of the value, then `…`."""
    return value[: min(4, len(value) // 4)] + "…"


def _credential(kind: str, text: str, start: int, end: int) -> Credential:
    value = text[start:end]
    return Credential(kind, value, start, end, mask(value))


def _is_placeholder(value: str) -> bool:
    stripped = value.strip()
    if not stripped:
        return True
    if stripped.startswith(_NOT_LITERAL_START) or stripped.startswith(_PATH_START):
        return True
    if set(stripped) <= set("*xX.#?-_"):  # ***, xxxx, ..., ????
        return True
    if stripped.lower() in _NOT_SECRETS:
        return True
    return stripped.isdigit() and len(stripped) <= 4  # max_token=512, secret=1


# ---- detectors: each yields credentials in one text ------------------------------------


def _private_keys(text: str) -> Iterator[Credential]:
    """A key block from its BEGIN line to its END line (or the BEGIN line alone)."""
    ends = [m.end() for m in _PRIVATE_KEY_END.finditer(text)]
    for match in _PRIVATE_KEY_BEGIN.finditer(text):
        index = bisect.bisect_left(ends, match.end())
        end = ends[index] if index < len(ends) else match.end()
        yield Credential("private key", text[match.start():end], match.start(), end, match.group(0))


def _shapes(pattern: re.Pattern, kind: str) -> Callable[[str], Iterator[Credential]]:
    def detect(text: str) -> Iterator[Credential]:
        for match in pattern.finditer(text):
            group = "value" if "value" in pattern.groupindex else 0
            if not _is_placeholder(match.group(group)):
                yield _credential(kind, text, match.start(group), match.end(group))

    return detect


def _keyed(text: str) -> Iterator[Credential]:
    resume = 0  # a value is not searched again for `key=value` pairs
    for match in _KEYED.finditer(text):
        key_start = match.start()
        while key_start > 0 and (text[key_start - 1].isalnum() or text[key_start - 1] in "_-"):
            key_start -= 1
        if key_start < resume or (key_start > 0 and text[key_start - 1] in "./"):
            continue  # inside a value already seen, or a path or host name (`/secret:1.0`)
        key = text[key_start:match.end("sep")].rstrip("=: \t\"'")
        start = match.end()
        quote = match.group("quote")
        if quote:
            close = text.find(quote, start, start + MAX_VALUE + 1)
            line_end = text.find("\n", start, close)
            if close == -1 or line_end != -1:
                continue
            end = close
        else:
            if match.group("sep") == ":" and text.startswith("//", start):
                continue  # `scheme://`, not `key: value`
            if text.startswith(_NOT_LITERAL_START, start):
                continue
            end = _UNQUOTED_VALUE.match(text, start).end()
            if _is_code(text, start, end, key):
                continue
        resume = end
        value = text[start:end]
        if _is_placeholder(value) or any(c.isspace() for c in value) or not _looks_random(value):
            continue
        yield Credential(_keyed_kind(key), value, start, end, mask(value), key)


def _looks_random(value: str) -> bool:
    """`hunter2`, `Tr0ub4dor`, `s3cr3t!` but not `auto`, `env` or `prompt`: in running
    text a credential-like name is often followed by an option word."""
    return (any(c.isdigit() for c in value) or (any(c.isupper() for c in value) and any(c.islower() for c in value))
            or any(not c.isalnum() and c not in "-_." for c in value))


def _is_code(text: str, start: int, end: int, key: str) -> bool:
    """`token=args.token`, `password=read()`, `f(api_key=api_key)`: a value computed, not written."""
    value = text[start:end]
    following = text[end:end + 1]
    if following in ("(", "[", ")", ",", "}"):
        return True
    if _DOTTED_NAME.fullmatch(value):
        return True
    return value.isidentifier() and _normal(key).endswith(_normal(value))


def _normal(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def _keyed_kind(key: str) -> str:
    """`DB_PASSWORD` -> "password", `x-api-key` -> "API key", `slack_token` -> "token"."""
    word = re.search(rf"{_KEYWORD}$", key, re.IGNORECASE).group(0).lower()
    word = re.sub(r"[_-]", " ", word)
    return {"passwd": "password", "apikey": "API key", "api key": "API key"}.get(word, word)


_DETECTORS: tuple[Callable[[str], Iterator[Credential]], ...] = (
    _private_keys,
    _shapes(_AWS_ACCESS_KEY, "AWS access key id"),
    _shapes(_AWS_SECRET, "AWS secret access key"),
    _shapes(_GITHUB, "GitHub token"),
    _shapes(_SLACK, "Slack token"),
    _shapes(_SLACK_WEBHOOK, "Slack webhook URL"),
    _shapes(_URI_PASSWORD, "URI password"),
    _shapes(_BEARER, "bearer token"),
    _keyed,
)


# Text that every detector needs somewhere, lower-cased (a superset: a test
# checks that no detector finds anything in a text holding none of it). Most
# texts - commands, descriptions - hold none, and a few substring searches rule
# out all nine detectors: this rule was the slowest of all (~50 µs per step),
# and one case-insensitive regular expression of alternatives costs as much.
_EVIDENCE = (
    "key", "secret", "token", "passw",  # _KEYWORD: password, api key, access key, private key, ...
    "-----begin", "akia", "asia", "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_", "xox",
    "hooks.slack.com", "://", "bearer",
)


def _may_hold_credentials(text: str) -> bool:
    if not text.isascii():
        return True  # case-insensitive patterns also match `ſ` for `s`, `K` (Kelvin) for `k`, ...
    lowered = text.lower()
    return any(evidence in lowered for evidence in _EVIDENCE)


def _detect(text: str) -> list[Credential]:
    """What the detectors find, in order, the first to claim a stretch winning."""
    found: list[Credential] = []
    starts: list[int] = []  # of `found`, which never overlap, kept sorted
    for detect in _DETECTORS:
        for credential in detect(text):
            index = bisect.bisect_left(starts, credential.end)
            if index and found[index - 1].end > credential.start:
                continue  # overlaps what an earlier, more specific detector found
            starts.insert(index, credential.start)
            found.insert(index, credential)
    return found


def find_credentials(text: str, key: str | None = None) -> list[Credential]:
    """Credentials in `text`, in order. `key` is the name the whole text is bound
    to, if any (an `env` variable, a param): `DB_PASSWORD = "hunter2"` is a
    literal password although `hunter2` on its own is not recognisable."""
    found = _detect(text) if _may_hold_credentials(text) else []
    if not found and key is not None and SECRET_NAME.fullmatch(key):
        value = text.strip()
        if value and not _is_placeholder(value) and not any(c.isspace() for c in value):
            start = text.index(value)
            kind = ("AWS secret access key" if _AWS_SECRET_NAME.search(key) and re.fullmatch(_AWS_SECRET_VALUE, value)
                    else _keyed_kind(key))
            found.append(Credential(kind, value, start, start + len(value), mask(value), key))
    return found

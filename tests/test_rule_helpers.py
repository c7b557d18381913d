"""The helpers behind the image and credential rules, tested on their own:
the image-reference parser (MLP208, MLP210), the credential detector (MLP212)
and the narrowing of a span to characters inside a string literal."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlplang.compiler.credentials import find_credentials, mask
from mlplang.compiler.images import ImageReference, InvalidImage, allowed_by, normalise_prefix, parse_image
from mlplang.compiler.rules._support import span_in_string
from mlplang.source import SourceFile

DIGEST = "sha256:16b32dfcf5b369daf2fb9ce83791ef2b1f5960ff2a89d31102df91fa5868d07c"


# ---- image references ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "registry", "repository", "tag", "digest", "name"),
    [
        ("python", None, "python", None, None, "docker.io/library/python"),
        ("python:3.12-slim", None, "python", "3.12-slim", None, "docker.io/library/python"),
        ("acme/etl:1.0", None, "acme/etl", "1.0", None, "docker.io/acme/etl"),
        ("ghcr.io/acme/etl:1.0", "ghcr.io", "acme/etl", "1.0", None, "ghcr.io/acme/etl"),
        (f"ghcr.io/acme/etl:1.0@{DIGEST}", "ghcr.io", "acme/etl", "1.0", DIGEST, "ghcr.io/acme/etl"),
        (f"ghcr.io/acme/etl@{DIGEST}", "ghcr.io", "acme/etl", None, DIGEST, "ghcr.io/acme/etl"),
        # A `:` before the last `/` is a port, not a tag.
        ("localhost:5000/team/etl", "localhost:5000", "team/etl", None, None, "localhost:5000/team/etl"),
        ("localhost:5000/team/etl:2.0", "localhost:5000", "team/etl", "2.0", None, "localhost:5000/team/etl"),
        (f"registry.acme.example:8443/ml/etl@{DIGEST}", "registry.acme.example:8443", "ml/etl", None, DIGEST,
         "registry.acme.example:8443/ml/etl"),
        ("localhost/etl", "localhost", "etl", None, None, "localhost/etl"),
        ("[::1]:5000/etl:1", "[::1]:5000", "etl", "1", None, "[::1]:5000/etl"),
        # Docker's rule: with no `/`, `localhost:5000` is the Hub image `localhost` tagged `5000`.
        ("localhost:5000", None, "localhost", "5000", None, "docker.io/library/localhost"),
        # Docker Hub's aliases and host case normalise.
        ("index.docker.io/library/python:3", "index.docker.io", "library/python", "3", None,
         "docker.io/library/python"),
        ("GHCR.IO/acme/etl", "GHCR.IO", "acme/etl", None, None, "ghcr.io/acme/etl"),
        ("ghcr.io/a__b/c-d.e---f:v1_2.3-rc", "ghcr.io", "a__b/c-d.e---f", "v1_2.3-rc", None, "ghcr.io/a__b/c-d.e---f"),
    ],
)
def test_parse_image(text, registry, repository, tag, digest, name):
    parsed = parse_image(text)
    assert isinstance(parsed, ImageReference), parsed
    assert (parsed.registry, parsed.repository, parsed.tag, parsed.digest, parsed.name) == (
        registry, repository, tag, digest, name)


def test_offsets_point_at_the_tag_and_the_digest():
    text = f"localhost:5000/etl:2.0@{DIGEST}"
    parsed = parse_image(text)
    assert text[parsed.tag_start:parsed.digest_start] == ":2.0"
    assert text[parsed.digest_start + 1:] == DIGEST


@pytest.mark.parametrize(
    ("digest", "pinned"),
    [
        (DIGEST, True),
        (DIGEST.upper().replace("SHA256", "sha256"), False),  # upper-case hex
        ("sha256:16b32dfc", False),  # too short
        ("sha512:" + "a" * 128, False),  # another algorithm
        ("sha256:" + "g" * 64, False),  # not hex
    ],
)
def test_only_a_full_lower_case_sha256_digest_pins(digest, pinned):
    parsed = parse_image(f"ghcr.io/acme/etl:1.0@{digest}")
    assert isinstance(parsed, ImageReference)
    assert parsed.pinned is pinned


@pytest.mark.parametrize(
    ("text", "bad"),
    [
        ("", ""),
        ("python 3.12", " "),
        ("python@", "@"),
        (f"python@{DIGEST}@{DIGEST}", "@"),
        ("python:", ":"),
        ("python:-rc1", ":-rc1"),
        ("ghcr.io/acme/Trainer:1.0", "Trainer"),
        ("ghcr.io//etl", ""),
        ("bad_host!/etl", "bad_host!"),
    ],
)
def test_invalid_references_say_where(text, bad):
    parsed = parse_image(text)
    assert isinstance(parsed, InvalidImage), parsed
    assert text[parsed.start:parsed.end] == bad
    assert parsed.reason


@pytest.mark.parametrize(
    ("image", "prefixes", "allowed"),
    [
        ("ghcr.io/acme/etl:1", ["ghcr.io/acme"], True),
        ("ghcr.io/acme/team/etl:1", ["ghcr.io/acme"], True),
        ("ghcr.io/acme", ["ghcr.io/acme"], True),
        ("ghcr.io/acmeevil/etl:1", ["ghcr.io/acme"], False),  # segment boundary
        ("ghcr.io/acme/etl:1", ["ghcr.io/acme/"], True),  # trailing slash
        ("ghcr.io/acme/etl:1", ["GHCR.io/acme"], True),  # host case
        ("ghcr.io/acme/etl:1", ["ghcr.io"], True),
        ("ghcr.io.evil.example/acme/etl", ["ghcr.io"], False),
        ("python:3.12", ["docker.io/library"], True),
        ("python:3.12", ["index.docker.io"], True),
        ("python:3.12", ["docker.io/acme"], False),
        ("acme/etl:1", ["docker.io/acme"], True),
        ("localhost:5000/etl", ["localhost:5000"], True),
        ("localhost:5001/etl", ["localhost:5000"], False),
        ("localhost:5000/etl", ["localhost"], False),  # a port is part of the host
    ],
)
def test_allowed_registries_match_whole_segments(image, prefixes, allowed):
    parsed = parse_image(image)
    assert isinstance(parsed, ImageReference)
    assert (allowed_by(parsed, prefixes) is not None) is allowed


def test_normalise_prefix():
    assert normalise_prefix(" Index.Docker.IO/library/ ") == "docker.io/library"
    assert normalise_prefix("GHCR.IO/Acme") == "ghcr.io/Acme"  # paths are case-sensitive


# ---- credentials -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "kind", "value"),
    [
        ("export AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE", "AWS access key id", "AKIAIOSFODNN7EXAMPLE"),
        ("ASIAY34FZKBOKMUTVV7A is temporary", "AWS access key id", "ASIAY34FZKBOKMUTVV7A"),
        ("aws configure set aws_secret_access_key wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
         "AWS secret access key", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
        ("git push https://ghp_0123456789abcdefghijABCDEFGHIJ012345@github.com/a/b",
         "GitHub token", "ghp_0123456789abcdefghijABCDEFGHIJ012345"),
        ("GH=github_pat_" + "A" * 22 + "_" + "b" * 59, "GitHub token", "github_pat_" + "A" * 22 + "_" + "b" * 59),
        ("SLACK=xoxb-1234567890-0987654321-abcdefABCDEF", "Slack token", "xoxb-1234567890-0987654321-abcdefABCDEF"),
        ("curl https://hooks.slack.com/services/T024BE7LD/B01ABCDEF12/a1B2c3D4e5F6", "Slack webhook URL",
         "T024BE7LD/B01ABCDEF12/a1B2c3D4e5F6"),
        ("psql postgres://etl:Sup3rS3cret@db:5432/sales", "URI password", "Sup3rS3cret"),
        ("curl -H 'Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.e30.x' api", "bearer token", "eyJhbGciOiJIUzI1NiJ9.e30.x"),
        ("etl --password=hunter2 --verbose", "password", "hunter2"),
        ("PGPASSWORD=hunter2 psql", "password", "hunter2"),
        ("mysql --passwd:'Tr0ub4dor&3'", "password", "Tr0ub4dor&3"),
        ('{"api_key": "Zx81aa0K2cQ"}', "API key", "Zx81aa0K2cQ"),
        ("X-Api-Key: abc123def", "API key", "abc123def"),
        ("https://api.acme.example/v1?token=abcdef123&page=2", "token", "abcdef123"),
        ("kubectl create secret generic db --from-literal=password=hunter2", "password", "hunter2"),
        ("client_secret=MySecretValue", "secret", "MySecretValue"),
    ],
)
def test_finds_credentials(text, kind, value):
    found = find_credentials(text)
    assert [(c.kind, c.value) for c in found] == [(kind, value)]
    (credential,) = found
    assert text[credential.start:credential.end] == value


def test_private_key_block_is_found_whole_and_shown_by_its_header():
    text = "cat > key.pem <<'K'\n-----BEGIN RSA PRIVATE KEY-----\nMIIEow\nIBAAK\n-----END RSA PRIVATE KEY-----\nK\n"
    (credential,) = find_credentials(text)
    assert credential.kind == "private key"
    assert credential.value.startswith("-----BEGIN RSA PRIVATE KEY-----")
    assert credential.value.endswith("-----END RSA PRIVATE KEY-----")
    assert credential.shown == "-----BEGIN RSA PRIVATE KEY-----"
    assert "MIIEow" not in credential.shown


@pytest.mark.parametrize(
    "text",
    [
        'etl --password="$DB_PASSWORD"',
        "etl --password=${DB_PASSWORD} --token=$(cat /run/secrets/token)",
        "git clone https://x-access-token:${GITHUB_TOKEN}@github.com/acme/repo.git",
        "curl -H \"Authorization: Bearer $API_TOKEN\" https://api.acme.example",
        "password=<your-password> token=*** api_key=xxxx secret=",
        "etl --token-file=/run/secrets/token --password=./pw.txt",
        "client = Client(api_key=args.api_key, token=read_token(), secret=os.environ['S'])",
        "Client(api_key=API_KEY_V2) and login(token=tok2, retries=3)",
        "def fetch(token: str, password: Optional[str] = None): return api.get(token=token)",
        "llm --max-token=512 --use-token=auto --secret=none",
        "docker run ghcr.io/acme/secret:1.0 https://vault.acme.example/token:abc",
        "The release needs a token: see the runbook",
        "Bearer authentication with rotating tokens",
        "AKIAIOSFODNN7EXAMPLEX is too long to be a key id",
        "ssh://git@github.com:22/acme/repo.git and http://localhost:8080/path",
        "AWS_SECRET_ACCESS_KEY=${AWS_SECRET_ACCESS_KEY}",
    ],
)
def test_ignores_what_is_not_a_literal_credential(text):
    assert find_credentials(text) == []


@pytest.mark.parametrize(
    ("key", "value", "kind"),
    [
        ("DB_PASSWORD", "hunter", "password"),  # no digit needed: the name is the evidence
        ("slack-token", "abc", "token"),
        ("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "AWS secret access key"),
        ("WANDB_API_KEY", "0123abcd", "API key"),
    ],
)
def test_a_credential_name_makes_the_whole_value_a_credential(key, value, kind):
    (credential,) = find_credentials(value, key=key)
    assert (credential.kind, credential.value, credential.key) == (kind, value, key)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("DB_PASSWORD", ""),
        ("DB_PASSWORD", "<set me>"),
        ("TOKEN_FILE", "abc123"),  # the name does not end with a credential word
        ("API_TOKEN", "/run/secrets/token"),
        ("REGION", "eu-west-1"),
    ],
)
def test_a_credential_name_with_a_harmless_value(key, value):
    assert find_credentials(value, key=key) == []


def test_the_most_specific_evidence_wins():
    text = "GITHUB_TOKEN=ghp_0123456789abcdefghijABCDEFGHIJ012345"
    assert [c.kind for c in find_credentials(text)] == ["GitHub token"]
    assert [c.kind for c in find_credentials(text[13:], key="GITHUB_TOKEN")] == ["GitHub token"]


def test_several_credentials_come_in_order():
    text = "a --password=hunter2 b AKIAIOSFODNN7EXAMPLE c postgres://u:S3cret@db"
    assert [c.kind for c in find_credentials(text)] == ["password", "AWS access key id", "URI password"]


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("AKIAIOSFODNN7EXAMPLE", "AKIA…"),
        ("ghp_0123456789abcdefghijABCDEFGHIJ012345", "ghp_…"),
        ("hunter2", "h…"),
        ("abc", "…"),
    ],
)
def test_mask_shows_at_most_four_characters_and_a_quarter(value, shown):
    assert mask(value) == shown


_PIECES = [*"aAkKIS0129=:/@._-$'\" \n", "password", "token", "AKIA", "ghp_", "://", "Bearer "]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=80).map("".join))
def test_findings_are_ordered_disjoint_slices_that_are_never_shown_whole(text):
    found = find_credentials(text)
    for credential in found:
        assert text[credential.start:credential.end] == credential.value
        assert credential.value not in credential.shown or credential.kind == "private key"
    for first, second in zip(found, found[1:]):
        assert first.end <= second.start


@pytest.mark.parametrize(
    "text",
    [
        "password=" * 20_000,
        'password="' * 20_000,
        "abc.def+ghi-" * 20_000,
        "-----BEGIN RSA PRIVATE KEY-----\n" * 5_000,
        "aws_secret_access_key" + " " * 50_000,
        "x_" * 50_000 + "token=abc123",
        "echo 0123456789abcdef\n" * 20_000,
    ],
    ids=["keys", "quoted-keys", "schemes", "key-headers", "spaces", "long-name", "command"],
)
def test_detection_is_linear(text):
    started = time.perf_counter()
    find_credentials(text)
    assert time.perf_counter() - started < 2.0


# ---- spans inside string literals ----------------------------------------------------------


def _literal_span(source: str, literal: str):
    file = SourceFile.from_text(source, "t.mlp")
    start = source.index(literal)
    return file, file.span(start, start + len(literal))


def test_span_in_a_plain_string_points_at_the_characters():
    file, span = _literal_span('x = "etl --password=hunter2"\n', '"etl --password=hunter2"')
    inner = span_in_string(span, "etl --password=hunter2", 15, 22)
    assert file.text[inner.start:inner.end] == "hunter2"
    assert (inner.line, inner.column) == file.position(inner.start)
    assert (inner.end_line, inner.end_column) == file.position(inner.end)


@pytest.mark.parametrize(
    ("source", "literal", "value"),
    [
        ('x = "a \\"b\\" --password=hunter2"\n', '"a \\"b\\" --password=hunter2"', 'a "b" --password=hunter2'),
        ('x = """--password=hunter2"""\n', '"""--password=hunter2"""', "--password=hunter2"),
        ('x = """\n  --password=hunter2\n"""\n', '"""\n  --password=hunter2\n"""', "--password=hunter2\n"),
    ],
    ids=["escapes", "triple-quoted", "multi-line"],
)
def test_span_in_a_string_that_does_not_map_one_to_one_is_the_whole_string(source, literal, value):
    _, span = _literal_span(source, literal)
    assert span_in_string(span, value, 11, 18) == span


# The quick test that rules out most texts before the nine detectors run must
# never rule out a text in which a detector finds something.
_FRAGMENTS = st.sampled_from([
    "password", "PassWd", "secret", "SECRET_KEY", "token", "api-key", "ApiKey", "access_key", "private key",
    "-----BEGIN RSA PRIVATE KEY-----", "-----END RSA PRIVATE KEY-----", "AKIA", "ASIA", "aws_secret_access_key",
    "ghp_", "gho_", "github_pat_", "xoxb-", "hooks.slack.com/services/T1/B2/c3", "postgres://u:", "@db",
    "Bearer ", "=", ": ", "'", '"', " ", "\n", "hunter2", "Tr0ub4dor&3", "0123456789ABCDEFGHIJ",
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJ0123456789", "ſecret", "to\u212aen", "İ", "\u00e9",
])


@settings(max_examples=2000, deadline=None)
@given(st.lists(st.one_of(_FRAGMENTS, st.text(max_size=6)), max_size=12).map("".join))
def test_the_quick_rule_out_never_hides_a_credential(text):
    from mlplang.compiler.credentials import _detect, _may_hold_credentials

    assert _may_hold_credentials(text) or _detect(text) == []


@pytest.mark.parametrize("text", ["python train.py --data ${in.data} --epochs 3", "echo done", ""])
def test_ordinary_commands_are_ruled_out_quickly(text):
    from mlplang.compiler.credentials import _may_hold_credentials

    assert not _may_hold_credentials(text)


@pytest.mark.parametrize("text", [
    # One per piece of evidence the quick test looks for, holding no other piece.
    "xoxb-1234567890-abcdefABCDEF", "AKIAIOSFODNN7EXAMPLE", "ASIAY34FZKBOKMUTVV7A",
    "ghp_0123456789abcdefghijABCDEFGHIJ012345", "gho_0123456789abcdefghijABCDEFGHIJ012345",
    "ghu_0123456789abcdefghijABCDEFGHIJ012345", "ghs_0123456789abcdefghijABCDEFGHIJ012345",
    "ghr_0123456789abcdefghijABCDEFGHIJ012345", "github_pat_" + "A" * 22 + "_" + "b" * 59,
    "curl hooks.slack.com/services/T024BE7LD/B01ABCDEF12/a1B2c3D4e5F6", "psql postgres://etl:Sup3rS3cret@db",
    "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.e30.x", "mysql --passwd:'Tr0ub4dor&3'", "?token=abcdef123",
    "client_secret=MySecretValue", "X-Api-Key: abc123def", "-----BEGIN RSA PRIVATE KEY-----",
])
def test_each_piece_of_evidence_is_looked_for(text):
    from mlplang.compiler.credentials import _detect, _may_hold_credentials

    assert _detect(text) and _may_hold_credentials(text)

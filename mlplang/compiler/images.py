"""Container image references (`ghcr.io/acme/train:1.2@sha256:...`), parsed the
way Docker's `distribution/reference` package does.

The subtle parts, which a naive `split(":")` gets wrong:
- a `:` is a tag separator only after the last `/`: in `localhost:5000/team/x`
  it introduces a port, and the image has no tag;
- the first path segment is a registry host only if it contains `.` or `:`, is
  `localhost`, or has an upper-case letter; otherwise the image lives on Docker
  Hub, and a one-segment name is an official image: `python:3.12` is
  `docker.io/library/python`;
- `@` starts the digest, which a runtime prefers to the tag when both are given.

Used by the image rules (MLP208, MLP210); backends can use it too.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

DOCKER_HUB = "docker.io"
# Hosts Docker treats as Docker Hub itself.
HUB_ALIASES = frozenset({"docker.io", "index.docker.io", "registry-1.docker.io"})

PINNED_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
"""The only digest form accepted as a pin: the one every registry and runtime computes."""

_TAG = re.compile(r"[\w][\w.-]{0,127}", re.ASCII)
_PATH_COMPONENT = re.compile(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*")
_HOST_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
_HOST = re.compile(rf"(?:{_HOST_LABEL}(?:\.{_HOST_LABEL})*|\[[0-9A-Fa-f:.]+\])(?::[0-9]+)?")


@dataclass(frozen=True)
class ImageReference:
    """A well-formed reference. Offsets index into `text`."""

    text: str
    registry: str | None
    """The registry host as written (with its port), or None: Docker Hub implied."""
    repository: str
    """The path after the registry, as written (`acme/train`, `python`)."""
    tag: str | None = None
    digest: str | None = None
    """Everything after `@`, as written; see `PINNED_DIGEST` for what counts as a pin."""
    tag_start: int | None = None
    """Offset of the `:` that starts the tag."""
    digest_start: int | None = None
    """Offset of the `@` that starts the digest."""

    @property
    def domain(self) -> str:
        """The registry, normalised: lower case, Docker Hub's aliases as `docker.io`."""
        if self.registry is None:
            return DOCKER_HUB
        host = self.registry.lower()
        return DOCKER_HUB if host in HUB_ALIASES else host

    @property
    def path(self) -> str:
        """The repository path; official Docker Hub images get their `library/` prefix."""
        if self.domain == DOCKER_HUB and "/" not in self.repository:
            return f"library/{self.repository}"
        return self.repository

    @property
    def name(self) -> str:
        """The fully qualified name, without tag or digest: `docker.io/library/python`."""
        return f"{self.domain}/{self.path}"

    @property
    def pinned(self) -> bool:
        """Whether the digest is a well-formed sha256 pin."""
        return self.digest is not None and PINNED_DIGEST.fullmatch(self.digest) is not None


@dataclass(frozen=True)
class InvalidImage:
    """A string that is not an image reference; `start:end` is the offending part."""

    text: str
    reason: str
    start: int
    end: int


_WHITESPACE = re.compile(r"\s")


@functools.lru_cache(maxsize=1024)
def parse_image(text: str) -> ImageReference | InvalidImage:
    """Parse `[registry/]repository[:tag][@digest]`.

    Remembered (both results are frozen): most steps of a pipeline share an
    image, and the rules and backends parse the reference of every step."""
    if not text:
        return InvalidImage(text, "the reference is empty", 0, 0)
    space = _WHITESPACE.search(text)  # `\s` is `str.isspace`, without a Python loop per character
    if space is not None:
        return InvalidImage(text, "it contains whitespace", space.start(), space.start() + 1)
    name, at, digest = text.partition("@")
    digest_start = len(name) if at else None
    if at and not digest:
        return InvalidImage(text, "`@` is not followed by a digest", len(name), len(text))
    if "@" in digest:
        second = len(name) + 1 + digest.index("@")
        return InvalidImage(text, "it has more than one `@`", second, second + 1)
    tag = tag_start = None
    colon = name.rfind(":")
    if colon > name.rfind("/"):
        tag, tag_start, name = name[colon + 1:], colon, name[:colon]
        if not _TAG.fullmatch(tag):
            what = "`:` is not followed by a tag" if not tag else f"`{tag}` is not a valid tag"
            return InvalidImage(text, what, colon, colon + 1 + len(tag))
    registry, repository = _split_registry(name)
    offset = 0
    if registry is not None:
        if not _HOST.fullmatch(registry):
            return InvalidImage(text, f"`{registry}` is not a valid registry host", 0, len(registry))
        offset = len(registry) + 1
    if not repository:
        return InvalidImage(text, "the repository name is missing", offset, offset)
    for component in repository.split("/"):
        if not _PATH_COMPONENT.fullmatch(component):
            reason = (f"`{component}` is not a valid repository name component "
                      "(lower-case letters and digits, separated by `.`, `_`, `__` or `-`)"
                      if component else "the repository name has an empty component")
            return InvalidImage(text, reason, offset, offset + len(component))
        offset += len(component) + 1
    return ImageReference(text=text, registry=registry, repository=repository, tag=tag,
                          digest=digest if at else None, tag_start=tag_start, digest_start=digest_start)


def _split_registry(name: str) -> tuple[str | None, str]:
    """Docker's rule (`splitDockerDomain`) for whether the first segment is a host."""
    first, slash, rest = name.partition("/")
    if slash and ("." in first or ":" in first or first == "localhost" or first != first.lower()):
        return first, rest
    return None, name


def normalise_prefix(prefix: str) -> str:
    """A configured registry prefix (`ghcr.io/acme`, `docker.io`, `index.docker.io/library/`)
    in the form `ImageReference.name` uses: host lower-cased, Hub aliases as `docker.io`,
    no trailing `/`."""
    host, slash, rest = prefix.strip().rstrip("/").partition("/")
    host = host.lower()
    if host in HUB_ALIASES:
        host = DOCKER_HUB
    return f"{host}{slash}{rest}"


def allowed_by(reference: ImageReference, prefixes: tuple[str, ...] | list[str]) -> str | None:
    """The first prefix that allows the image, matching whole path segments:
    `ghcr.io/acme` allows `ghcr.io/acme/x` and `ghcr.io/acme`, not `ghcr.io/acmeevil/x`."""
    name = reference.name
    for prefix in prefixes:
        wanted = normalise_prefix(prefix)
        if wanted and (name == wanted or name.startswith(wanted + "/")):
            return prefix
    return None

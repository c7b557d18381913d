from __future__ import annotations

import re
from collections.abc import Iterator

from mlplang.compiler import ir
from mlplang.compiler.images import PINNED_DIGEST, ImageReference, InvalidImage, parse_image
from mlplang.compiler.rules.base import Rule, RuleContext, Violation
from mlplang.compiler.rules._support import is_within_string, span_in_string, task_images
from mlplang.diagnostics.model import Severity

_INSPECT = "`docker buildx imagetools inspect {ref}` prints the digest a tag points to"


class ImageNotPinned(Rule):
    """
    ## What it does
    Checks that every container image (of a step, a monitor, or the template
    a step comes from) is pinned by a `sha256` digest:

    - no tag and no digest, or the `latest` tag without a digest: an error;
    - a tag without a digest (`trainer:3.1.0`): a warning;
    - a digest that is not `sha256:` followed by 64 lower-case hex digits: an
      error;
    - a string that is not an image reference at all: an error.

    ## Why it matters
    A tag is a movable label: whoever can push to the repository can point
    `3.1.0`, and certainly `latest`, at different contents. A retrain or a
    replayed run then silently runs other code, with other library versions,
    and the model can no longer be reproduced or audited. A digest names the
    exact image contents; a runtime given both uses the digest, so the tag
    stays as documentation.

    ## Example
    ```mlp
    step train {
      image = "ghcr.io/acme/trainer:latest"
      run   = "python train.py"
    }
    ```

    ## Use instead
    ```mlp
    step train {
      image = "ghcr.io/acme/trainer:3.1.0@sha256:16b32dfcf5b369daf2fb9ce83791ef2b1f5960ff2a89d31102df91fa5868d07c"
      run   = "python train.py"
    }
    ```
    """

    code = "MLP208"
    name = "image-not-pinned"
    severity = Severity.ERROR
    summary = "A container image not pinned by a `sha256` digest."

    def check(self, ctx: RuleContext) -> Iterator[Violation]:
        for owner, image in task_images(ctx.pipeline):
            violation = self._check_image(owner, image)
            if violation is not None:
                yield violation

    def _check_image(self, owner: str, image: ir.Image) -> Violation | None:
        text = image.reference
        parsed = parse_image(text)
        whose = f"of {owner}"
        if isinstance(parsed, InvalidImage):
            return Violation(
                span=span_in_string(image.span, text, parsed.start, max(parsed.end, parsed.start + 1)),
                message=f"image `{text}` {whose} is not a valid image reference: {parsed.reason}",
                label="invalid image reference",
                help="write `[registry/]repository:tag@sha256:<digest>`, e.g. "
                     "`ghcr.io/acme/trainer:3.1.0@sha256:...`",
            )
        if parsed.digest is not None:
            return self._check_digest(parsed, image, whose)
        name = text[: parsed.tag_start] if parsed.tag_start is not None else text
        if parsed.tag is None:
            return Violation(
                span=image.span,
                message=f"image `{text}` {whose} has no tag and no digest: it means `{name}:latest`, "
                        "whatever that points to at run time",
                label="not pinned",
                help=f"pin it by digest: `{name}:<tag>@sha256:<digest>`; " + _INSPECT.format(ref=f"{name}:<tag>"),
            )
        if parsed.tag == "latest":
            return Violation(
                span=span_in_string(image.span, text, parsed.tag_start, len(text)),
                message=f"image `{text}` {whose} uses the moving `latest` tag and no digest",
                label="`latest` changes with every push",
                help=f"pin a released version by digest: `{name}:<version>@sha256:<digest>`; "
                     + _INSPECT.format(ref=f"{name}:<version>"),
            )
        return Violation(
            span=image.span,
            message=f"image `{text}` {whose} is pinned by tag only; a tag can be moved to other contents",
            label="tag without digest",
            help=f"append the digest the tag points to: `{text}@sha256:<digest>`; " + _INSPECT.format(ref=text),
            severity=Severity.WARNING,
        )

    def _check_digest(self, parsed: ImageReference, image: ir.Image, whose: str) -> Violation | None:
        digest = parsed.digest or ""
        if PINNED_DIGEST.fullmatch(digest):
            return None
        text = image.reference
        span = span_in_string(image.span, text, parsed.digest_start + 1, len(text))
        # Upper-case hex is the same digest, but registries and runtimes reject it:
        # the one fix the rule can make without asking the registry.
        upper_case = PINNED_DIGEST.fullmatch(digest.lower()) is not None
        shown = digest if len(digest) <= 24 else digest[:19] + "…"
        return Violation(
            span=span,
            message=f"image `{text[: parsed.digest_start]}` {whose} has a malformed digest `{shown}`",
            label=_digest_problem(digest),
            help="write the digest in lower case" if upper_case else
            "copy the full digest from the registry; " + _INSPECT.format(ref=text[: parsed.digest_start]),
            fix=digest.lower() if upper_case and is_within_string(image.span, span) else None,
        )


def _digest_problem(digest: str) -> str:
    algorithm, colon, hex_digits = digest.partition(":")
    if not colon or algorithm != "sha256":
        return "expected `sha256:` and 64 lower-case hex digits"
    if not re.fullmatch(r"[0-9a-fA-F]*", hex_digits):
        return "not hexadecimal: expected 64 lower-case hex digits"
    if len(hex_digits) != 64:
        return f"{len(hex_digits)} hex digits, expected 64"
    return "upper-case hex digits: registries expect lower case"

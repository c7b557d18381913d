from __future__ import annotations

from collections.abc import Iterator

from mlplang.compiler.images import ImageReference, allowed_by, parse_image
from mlplang.compiler.rules.base import Rule, RuleContext, Violation
from mlplang.compiler.rules._support import span_in_string, task_images
from mlplang.diagnostics.model import Severity


class ImageRegistryNotAllowed(Rule):
    """
    ## What it does
    When `allowed-registries` is configured, flags every image (of a step, a
    monitor, or a step's template) that does not come from one of the listed
    registry prefixes. Prefixes match whole path segments: `ghcr.io/acme`
    allows `ghcr.io/acme/trainer` but not `ghcr.io/acmeevil/trainer`. Docker
    Hub short names are expanded first: `python:3.12` is
    `docker.io/library/python`. Without the setting the rule does nothing.

    ```toml
    [tool.mlp]
    allowed-registries = ["ghcr.io/acme", "docker.io/library"]
    ```

    ## Why it matters
    Images run with the pipeline's data and credentials. An organisation
    that mirrors and scans images in its own registry wants to know when a
    pipeline pulls from anywhere else: a typo-squatted Docker Hub name, a
    personal namespace, a registry without vulnerability scanning.

    ## Example
    ```mlp
    step train {
      image = "docker.io/someone/trainer:1.0@sha256:16b32dfcf5b369daf2fb9ce83791ef2b1f5960ff2a89d31102df91fa5868d07c"
      run   = "python train.py"
    }
    ```

    ## Use instead
    ```mlp
    step train {
      image = "ghcr.io/acme/trainer:1.0@sha256:16b32dfcf5b369daf2fb9ce83791ef2b1f5960ff2a89d31102df91fa5868d07c"
      run   = "python train.py"
    }
    ```
    """

    code = "MLP210"
    name = "image-registry-not-allowed"
    severity = Severity.ERROR
    summary = "An image from a registry not listed in `allowed-registries`."

    def check(self, ctx: RuleContext) -> Iterator[Violation]:
        allowed = ctx.config.allowed_registries
        if not allowed:
            return
        listed = ", ".join(f"`{prefix}`" for prefix in allowed)
        for owner, image in task_images(ctx.pipeline):
            parsed = parse_image(image.reference)
            if not isinstance(parsed, ImageReference):
                continue  # MLP208 reports it
            if allowed_by(parsed, allowed) is not None:
                continue
            text = image.reference
            end = next(i for i in (parsed.tag_start, parsed.digest_start, len(text)) if i is not None)
            shown = f"`{text[:end]}`" if text[:end] == parsed.name else f"`{text[:end]}` (`{parsed.name}`)"
            yield Violation(
                span=span_in_string(image.span, text, 0, end),
                message=f"image {shown} of {owner} is not from an allowed registry",
                label="under no allowed prefix",
                help=f"allowed: {listed}; use a mirror of the image there, or add its registry to "
                     "`allowed-registries`",
            )

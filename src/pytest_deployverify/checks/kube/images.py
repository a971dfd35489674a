"""Container image references: ``registry/repo:tag@sha256:...`` split into parts, and compared.

The same image is written many ways (``nginx:1.27``, ``docker.io/library/nginx:1.27``,
``docker-pullable://nginx@sha256:...`` in a container status), so comparisons go through
``ImageRef.canonical_name``, which applies the Docker Hub defaults the container runtimes apply.
"""

from __future__ import annotations

from dataclasses import dataclass

_DOCKER_HUB = "docker.io"
_RUNTIME_PREFIXES = ("docker-pullable://", "docker://", "containerd://", "cri-o://")


@dataclass(frozen=True)
class ImageRef:
    """One parsed image reference; ``tag`` and ``digest`` are empty when absent."""

    registry: str
    repository: str
    tag: str
    digest: str

    @property
    def canonical_name(self) -> str:
        """``docker.io/library/nginx``: registry and repository with the Docker Hub defaults."""
        registry = self.registry or _DOCKER_HUB
        repository = self.repository
        if registry == _DOCKER_HUB and "/" not in repository:
            repository = f"library/{repository}"
        return f"{registry}/{repository}"

    @property
    def pinned(self) -> bool:
        """A tag other than ``latest``, or a digest: the reference cannot silently move."""
        return bool(self.digest) or (bool(self.tag) and self.tag != "latest")


def parse_image(reference: str) -> ImageRef:
    """Split an image reference; tolerant of runtime prefixes found in ``containerStatuses``."""
    text = reference.strip()
    for prefix in _RUNTIME_PREFIXES:
        if text.startswith(prefix):
            text = text[len(prefix) :]
    text, _, digest = text.partition("@")
    registry = ""
    first, sep, rest = text.partition("/")
    # The first path component is a registry only when it looks like a host (Docker's rule).
    if sep and ("." in first or ":" in first or first == "localhost"):
        registry, text = first, rest
    tag = ""
    slash = text.rfind("/")
    colon = text.rfind(":")
    if colon > slash:
        text, tag = text[:colon], text[colon + 1 :]
    return ImageRef(registry=registry, repository=text, tag=tag, digest=digest)


def digest_of(image_id: str) -> str:
    """The ``sha256:...`` part of an image reference or container-status ``imageID``."""
    text = image_id.strip()
    if "@" in text:
        return text.rsplit("@", 1)[1]
    for prefix in _RUNTIME_PREFIXES:
        if text.startswith(prefix):
            text = text[len(prefix) :]
    return text if text.startswith("sha256:") else ""


def same_image(a: str, b: str) -> bool:
    """Do two references name the same image? Digests decide when both carry one."""
    ra, rb = parse_image(a), parse_image(b)
    if ra.canonical_name != rb.canonical_name:
        return False
    if ra.digest and rb.digest:
        return ra.digest == rb.digest
    return (ra.tag or "latest") == (rb.tag or "latest")

"""Profile expectations for the kube checks (filled in with the checks)."""

from __future__ import annotations

import dataclasses

model = dataclasses.dataclass(frozen=True, kw_only=True)


@model
class KubeExpectations:
    """``[kubernetes.expect]``."""

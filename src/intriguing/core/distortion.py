"""The paper's distortion, and the two perturbations measured by it besides the attack's:
Table 4's amplification of an adversarial perturbation, and Gaussian noise (the baselines of
Tables 2 and 4)."""

from __future__ import annotations

import math

import torch
from torch import Tensor


def distortion(x: Tensor, x_adv: Tensor) -> Tensor:
    """Paper's distortion sqrt(sum((x_adv - x)^2) / n) per example, n = elements per example."""
    difference = (x_adv - x).flatten(1)
    return difference.pow(2).mean(dim=1).sqrt()


def amplify(
    x: Tensor, x_adv: Tensor, stddev: float | None = None, *, factor: float | None = None
) -> tuple[Tensor, Tensor]:
    """Table 4's x + s (x' - x) / |x' - x|_2, in one of its two readings (give exactly one).

    ``stddev``: s makes every example's distortion exactly ``stddev``. The paper writes s = 0.1
    and labels the rows "amplified to stddev=0.1", so s is a distortion: s = stddev * sqrt(n).
    ``factor``: s = factor * |x' - x|_2, every perturbation scaled by ``factor`` relative to its
    own size, the paper's "magnifies the distortion on average ... from stddev 0.06 to 0.1" read
    as a ratio (0.1 / 0.06) rather than as a target distortion.

    The result is clipped to [0, 1] because a valid image must stay in the box; clipping can
    only shrink the perturbation, so the distortion actually reached (second return value,
    measured after clipping) is at most ``stddev`` (at most ``factor`` times the example's own
    distortion). Examples with x_adv == x have no direction to amplify and are returned
    unchanged (distortion 0).
    """
    if (stddev is None) == (factor is None):
        raise ValueError("amplify needs exactly one of stddev and factor")
    difference = (x_adv - x).flatten(1)
    if factor is not None:
        step = difference * factor
    else:
        norm = difference.norm(dim=1, keepdim=True)
        scale = stddev * math.sqrt(difference.shape[1])
        step = torch.where(
            norm > 0, difference * (scale / norm.clamp_min(torch.finfo(x.dtype).tiny)), 0
        )
    amplified = (x.flatten(1) + step).clamp(0, 1).view_as(x)
    return amplified, distortion(x, amplified)


def gaussian_noise(x: Tensor, stddev: float, seed: int, clip: bool = True) -> tuple[Tensor, Tensor]:
    """x + N(0, stddev²) per pixel, clipped to [0, 1] unless `clip` is false; also the
    distortion actually reached. The draw depends on the seed only, not on `clip`."""
    generator = torch.Generator().manual_seed(seed)
    noise = torch.randn(x.shape, generator=generator, dtype=x.dtype) * stddev
    noisy = x + noise.to(x.device)
    if clip:
        noisy = noisy.clamp(0, 1)
    return noisy, distortion(x, noisy)

"""Adversarial training with a pool of adversarial examples (Szegedy et al. 2013, Section 4.2).

The paper trained a sigmoid 100-100-10 network "by keeping a pool of adversarial examples a
random subset of which is continuously replaced by newly generated adversarial examples and
which is mixed into the original training set all the time", and adds that "adversarial examples
are generated for each layer output and are used to train all the layers above". This module
implements that recipe for the feed-forward models of :mod:`intriguing.core.models`:

* **Levels.** Level 0 is the input; level k >= 1 is the output of hidden layer k. A model splits
  at level k into ``below`` (input -> level k) and ``above`` (level k -> logits), with
  ``above(below(x)) == model(x)``. Sigmoid outputs lie in [0, 1], so ``above`` is a model with an
  input in a box and :func:`intriguing.core.attack.minimal_adversarial` applies to it
  unchanged: the
  same minimal-distortion criterion as on the input (the distortion is then measured over the
  layer's units).
* **Pool.** Per level, ``size`` entries, each a training image (its index) and the adversarial
  perturbation ``delta`` of its level-k representation toward a wrong label: a random one, or
  the runner-up (the wrong class with the highest logit, a one-pass stand-in for the closest
  target, whose adversarials are about 30% smaller). The first refresh fills the pool; every
  later refresh replaces a random ``replace_fraction`` of each level's entries by adversarials
  of freshly drawn training images, attacked on the current model. The search over c of each
  refresh starts at the median c that succeeded in the level's previous refresh, so cheap
  attack settings (few c steps) still land near the minimum (within 2-6% of the distortion the
  pipeline's standard settings find). ``distortion_scale`` multiplies the stored perturbations
  (1: the adversarial examples as found; below 1: points part of the way to them) and
  ``max_distortion`` (None: no cap) shrinks those whose distortion (RMS over the level's
  units) exceeds it: as a model grows robust its minimal adversarials grow, and the largest
  ones stop resembling their label.
* **Mixing.** Every minibatch of ``batch_size`` clean images gets ``mix_ratio / (1 - mix_ratio)``
  times as many pool entries drawn uniformly (with replacement) from the pool, labelled with
  their image's true label. An entry of level k is fed to ``above`` as
  ``clip(below(x) + delta, 0, 1)`` with ``below(x)`` recomputed by the current weights and
  detached: the lower layers keep training, so the perturbation is re-applied to the image's
  current representation, and only the layers above level k learn from it. Level-0 entries are
  exactly the stored adversarial images and train every layer.
* **Optimiser.** Mini-batch Adam whose learning rate decays exponentially from ``adam_lr`` to
  ``final_lr`` over the run, on mean cross-entropy plus the paper's weight decay
  (:func:`intriguing.core.models.weight_decay_penalty`), each step followed by the model's
  max-norm cap if it has one. With no pool the same loop trains the baselines (weight decay
  only, dropout).

Everything random (initialisation, minibatch order, the pool's images, targets, replaced slots
and draws) follows from one seed, so a run is reproducible on a given device.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from intriguing.core.attack import minimal_adversarial
from intriguing.core.models import (
    NUM_CLASSES,
    Classifier,
    ModelSpec,
    constrain_norms,
    weight_decay_penalty,
)
from intriguing.core.optimize import MiniBatch, run_minibatch_epochs
from intriguing.plan.choices import POOL_RANGES, POOL_TARGET_POLICIES
from intriguing.plan.specs import INPUT_LEVEL, pool_level_error


@dataclass(frozen=True)
class PoolOptions:
    """How the pool of adversarial examples is kept (see the module docstring).

    levels: perturbed layer outputs (0 = the input, k = hidden layer k); size: entries kept per
    level; replace_fraction: share of each level's entries replaced per refresh;
    mix_ratio: share of every training minibatch drawn from the pool;
    refreshes_per_epoch: refreshes per pass over the clean data; warmup_epochs: clean epochs
    before the first refresh fills the pool; attack: options of
    :func:`intriguing.core.attack.minimal_adversarial` used to make the pool's adversarials;
    target_policy: `random` or `runner_up`; distortion_scale: factor on the stored perturbations;
    max_distortion: cap on their distortion (None: none).
    """

    levels: tuple[int, ...]
    size: int
    replace_fraction: float
    mix_ratio: float
    refreshes_per_epoch: int
    warmup_epochs: int
    attack: dict[str, Any] = field(default_factory=dict)
    target_policy: str = "random"
    distortion_scale: float = 1.0
    max_distortion: float | None = None

    def __post_init__(self) -> None:
        if not self.levels or len(set(self.levels)) != len(self.levels):
            raise ValueError(f"pool levels must be distinct and non-empty, got {self.levels}")
        for setting, allowed in POOL_RANGES.items():
            allowed.check(setting, getattr(self, "size" if setting == "pool_size" else setting))
        if self.target_policy not in POOL_TARGET_POLICIES:
            raise ValueError(
                f"unknown pool target policy {self.target_policy!r}; "
                f"allowed: {list(POOL_TARGET_POLICIES)}"
            )


@dataclass(frozen=True)
class AdvTrainOptions:
    """The training loop's settings; ``pool`` None trains without adversarial examples."""

    epochs: int
    adam_lr: float
    final_lr: float
    batch_size: int
    decay_reading: str
    seed: int = 0
    pool: PoolOptions | None = None
    log_every: int = 100


@dataclass
class AdvTrainResult:
    """What a run did: steps, time (attacks apart), the per-epoch curve, each refresh's stats."""

    steps: int = 0
    final_loss: float = math.nan
    wall_seconds: float = 0.0
    attack_wall_seconds: float = 0.0
    curve: list[dict[str, float]] = field(default_factory=list)
    refreshes: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """What the run's checkpoint and metrics record: everything but its wall times, which
        go to the job's log (so that a rerun gives the same bytes)."""
        timings = ("wall_seconds", "attack_wall_seconds")
        return {key: value for key, value in asdict(self).items() if key not in timings}


def hidden_layer_kinds(model: Classifier) -> list[tuple[str, str]]:
    """(weight layer, activation) module names of the model's hidden layers, as
    ModelSpec.hidden_layer_kinds names them from the spec."""
    layers = list(model.layers)
    return [
        (type(layer).__name__, type(layers[layers.index(layer) + 1]).__name__)
        for layer in model.weight_layers[:-1]
    ]


def split_at_level(model: Classifier, level: int) -> tuple[nn.Sequential, nn.Sequential]:
    """(below, above) with above(below(x)) == model(x); below's output is the level's output.

    Level 0 is the input (below is the identity); level k >= 1 is the output of the k-th hidden
    layer, which must be a sigmoid (outputs in [0, 1], the box the attack needs).
    """
    layers = list(model.layers)
    hidden = model.weight_layers[:-1]
    error = pool_level_error(hidden_layer_kinds(model), level)
    if error:
        raise ValueError(error)
    if level == INPUT_LEVEL:
        return nn.Sequential(), model.layers
    boundary = layers.index(hidden[level - 1]) + 2
    return nn.Sequential(*layers[:boundary]), nn.Sequential(*layers[boundary:])


def random_wrong_labels(labels: Tensor, generator: torch.Generator) -> Tensor:
    """Uniform over the other classes, from `generator` (the pool's own random stream)."""
    offsets = torch.randint(1, NUM_CLASSES, labels.shape, generator=generator)
    return (labels + offsets.to(labels.device)) % NUM_CLASSES


def runner_up_labels(logits: Tensor, labels: Tensor) -> Tensor:
    """The wrong class with the highest logit: a one-pass stand-in for the closest target."""
    wrong = logits.scatter(1, labels[:, None], -math.inf)
    return wrong.argmax(dim=1)


@dataclass
class _LevelPool:
    """One level's entries: the originals' training indices and their perturbations."""

    index: Tensor
    delta: Tensor
    c_hint: float


class AdversarialPool:
    """Adversarial examples of the training images, per perturbed level (module docstring)."""

    def __init__(
        self, options: PoolOptions, x: Tensor, y: Tensor, generator: torch.Generator
    ) -> None:
        self.options, self.x, self.y, self.generator = options, x, y, generator
        self.levels: dict[int, _LevelPool] = {}
        self._splits: dict[int, tuple[Classifier, nn.Sequential, nn.Sequential]] = {}

    def split(self, model: Classifier, level: int) -> tuple[nn.Sequential, nn.Sequential]:
        """`split_at_level(model, level)`, made once per model and level (the halves share the
        model's modules, so they follow its training)."""
        cached = self._splits.get(level)
        if cached is None or cached[0] is not model:
            cached = (model, *split_at_level(model, level))
            self._splits[level] = cached
        return cached[1], cached[2]

    def __len__(self) -> int:
        return sum(len(entries.index) for entries in self.levels.values())

    def refresh(self, model: Classifier) -> dict[str, Any]:
        """Fill the pool (first call) or replace `replace_fraction` of each level's entries."""
        was_training = model.training
        model.eval()
        stats: dict[str, Any] = {"levels": {}}
        for level in self.options.levels:
            stats["levels"][str(level)] = self._refresh_level(model, level)
        model.train(was_training)
        return stats

    def _refresh_level(self, model: Classifier, level: int) -> dict[str, Any]:
        size = self.options.size
        current = self.levels.get(level)
        count = size if current is None else max(1, round(self.options.replace_fraction * size))
        originals = torch.randperm(len(self.x), generator=self.generator)[:count].to(self.x.device)
        labels = self.y[originals]
        below, above = self.split(model, level)
        with torch.no_grad():
            clean = below(self.x[originals])
            targets = (
                runner_up_labels(above(clean), labels)
                if self.options.target_policy == "runner_up"
                else random_wrong_labels(labels, self.generator)
            )
        c_hint = self.options.attack.get("c_init", 1.0) if current is None else current.c_hint
        attack_options = {**self.options.attack, "c_init": c_hint}
        result = minimal_adversarial(above, clean, targets, **attack_options)
        delta = self.options.distortion_scale * (result.x_adv - clean).flatten(1)
        if self.options.max_distortion is not None:
            # The paper's distortion is the RMS of the perturbation: shrink the larger ones.
            rms = delta.pow(2).mean(dim=1, keepdim=True).sqrt()
            delta = delta * (self.options.max_distortion / rms.clamp_min(1e-12)).clamp(max=1)
        succeeded = result.success & torch.isfinite(result.c)
        if succeeded.any():
            c_hint = float(result.c[succeeded].median())
        if current is None:
            self.levels[level] = _LevelPool(originals, delta, c_hint)
        else:
            slots = torch.randperm(size, generator=self.generator)[:count].to(self.x.device)
            current.index[slots] = originals
            current.delta[slots] = delta
            current.c_hint = c_hint
        distortion = result.distortion[result.success]
        return {
            "attacked": count,
            "success_rate": float(result.success.float().mean()),
            "mean_distortion": float(distortion.mean()) if len(distortion) else math.nan,
            "c_hint": c_hint,
        }

    def draw(self, count: int) -> dict[int, tuple[Tensor, Tensor]]:
        """`count` entries drawn uniformly with replacement: level -> (indices, deltas)."""
        levels = list(self.levels)
        sizes = torch.tensor([len(self.levels[level].index) for level in levels])
        picks = torch.randint(int(sizes.sum()), (count,), generator=self.generator)
        owner = torch.bucketize(picks, sizes.cumsum(0), right=True)
        offset = picks - (sizes.cumsum(0) - sizes)[owner]
        drawn = {}
        for position, level in enumerate(levels):
            rows = offset[owner == position].to(self.x.device)
            if len(rows):
                entries = self.levels[level]
                drawn[level] = (entries.index[rows], entries.delta[rows])
        return drawn

    def cross_entropy_sum(self, model: Classifier, count: int) -> Tensor:
        """Summed cross-entropy of `count` drawn entries, each through the layers above it."""
        total = torch.zeros((), device=self.x.device)
        for level, (index, delta) in self.draw(count).items():
            below, above = self.split(model, level)
            with torch.no_grad():
                clean = below(self.x[index])
            perturbed = (clean.flatten(1) + delta).clamp(0, 1).view_as(clean)
            total = total + F.cross_entropy(above(perturbed), self.y[index], reduction="sum")
        return total


def pool_draws_per_batch(batch_size: int, mix_ratio: float) -> int:
    """Pool entries added to a minibatch of `batch_size` clean images: mix_ratio of the total."""
    return round(batch_size * mix_ratio / (1 - mix_ratio))


def refresh_steps(batches: int, refreshes_per_epoch: int) -> set[int]:
    """Batch positions within an epoch before which the pool is refreshed (evenly spaced)."""
    return {batches * k // refreshes_per_epoch for k in range(refreshes_per_epoch)}


def train_with_pool(
    model: Classifier,
    spec: ModelSpec,
    x: Tensor,
    y: Tensor,
    options: AdvTrainOptions,
    monitor: Callable[[Classifier], dict[str, float]] | None = None,
) -> AdvTrainResult:
    """Train `model` in place on (x, y) (on the model's device), mixing in the pool if any.

    `monitor(model)` (e.g. the error on a held-out validation split), called after every epoch
    in eval mode, adds its values to that epoch's row of the training curve.
    """
    if options.pool is not None:
        for level in options.pool.levels:
            split_at_level(model, level)  # a bad level fails before any training
    result = AdvTrainResult()
    started = time.perf_counter()
    order_generator = torch.Generator().manual_seed(options.seed)
    pool = (
        None
        if options.pool is None
        else AdversarialPool(
            options.pool, x, y, torch.Generator().manual_seed(options.seed + 1_000_003)
        )
    )
    batches = math.ceil(len(x) / options.batch_size)
    total_steps = options.epochs * batches
    optimizer = torch.optim.Adam(model.parameters(), lr=options.adam_lr)
    decay = (options.final_lr / options.adam_lr) ** (1 / max(1, total_steps))
    scheduler = torch.optim.lr_scheduler.ExponentialLR(optimizer, decay)
    refresh_positions = (
        set() if options.pool is None else refresh_steps(batches, options.pool.refreshes_per_epoch)
    )

    def batch_loss(batch: MiniBatch) -> tuple[Tensor, int]:
        warm = pool is not None and batch.epoch >= options.pool.warmup_epochs
        if warm and batch.position in refresh_positions:
            attack_started = time.perf_counter()
            stats = pool.refresh(model)
            result.attack_wall_seconds += time.perf_counter() - attack_started
            result.refreshes.append({"epoch": batch.epoch, "step": batch.steps_done, **stats})
        summed = F.cross_entropy(model(x[batch.index]), y[batch.index], reduction="sum")
        examples = len(batch.index)
        if pool is not None and len(pool):
            draws = pool_draws_per_batch(len(batch.index), options.pool.mix_ratio)
            summed = summed + pool.cross_entropy_sum(model, draws)
            examples += draws
        penalty = weight_decay_penalty(model, spec.weight_decay, options.decay_reading)
        return summed / examples + penalty, examples

    def end_epoch(epoch: int, mean: float) -> bool:
        row = {"epoch": epoch + 1, "loss": mean, "lr": scheduler.get_last_lr()[0]}
        if monitor is not None:
            model.eval()
            row.update(monitor(model))
            model.train()
        result.curve.append(row)
        return False

    def after_step() -> None:
        constrain_norms(model, spec.max_norm)
        scheduler.step()

    model.train()
    result.steps = run_minibatch_epochs(
        optimizer,
        model,
        len(x),
        options.batch_size,
        options.epochs,
        order_generator,
        batch_loss,
        end_epoch,
        device=x.device,
        model_name=spec.name,
        phase="adversarial training",
        log_every=options.log_every,
        after_step=after_step,
    )
    model.eval()
    result.final_loss = result.curve[-1]["loss"] if result.curve else math.nan
    result.wall_seconds = time.perf_counter() - started
    return result

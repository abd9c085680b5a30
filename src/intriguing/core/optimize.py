"""Training: the paper's full-batch L-BFGS, optionally warm-started by mini-batch Adam.

The objective is mean cross-entropy plus the paper's per-layer weight decay
(``models.weight_decay_penalty``, in the reading ``decay_reading``). L-BFGS (torch.optim.LBFGS,
strong-Wolfe line search) runs on the whole training set at once, as the paper's "L-BFGS until
convergence", and stops at the first of: the gradient's largest entry at most
``tolerance_grad``; a loss change or a parameter step smaller than ``tolerance_change`` in one
iteration; the objective falling by less than the fraction ``tolerance_relative`` over the last
``tolerance_window`` iterations (our reading of "until convergence", in the ledger of readings);
the iteration budget (``lbfgs_iterations``, or ``polish_iterations`` after an Adam warm start)
or twice as many function evaluations. A model trained by Adam alone, and the autoencoder's
unsupervised phase, stop when an epoch's mean loss falls by less than ``tolerance_relative``
of the previous epoch's, or at their epoch budget. Every stop reason is recorded in the
model's provenance: "converged (...)" or "iteration budget".

The autoencoder model (AE400-10) is trained as the paper describes: first a sparse autoencoder,
without labels, then its encoder is frozen ("not fine-tuned") and the softmax on top is trained
on the encoder's features (computed once, so L-BFGS on the top layer is cheap).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace

import torch
from torch import nn

from intriguing.common.progress import Progress
from intriguing.core.evaluation import PREDICTION_BATCH
from intriguing.core.models import (
    Classifier,
    ModelSpec,
    constrain_norms,
    weight_decay_penalty,
)
from intriguing.plan.choices import DECODERS, OPTIMIZERS


class NonFiniteError(FloatingPointError):
    """The loss or a gradient became NaN or inf; the message names the model and the step."""


@dataclass(frozen=True)
class TrainOptions:
    adam_epochs: int
    lbfgs_iterations: int
    polish_iterations: int = 0
    adam_lr: float = 1e-3
    batch_size: int = 128
    lbfgs_history: int = 20
    tolerance_grad: float = 1e-6
    tolerance_change: float = 1e-10
    tolerance_relative: float = 0.0
    tolerance_window: int = 25
    decay_reading: str = "mean_output"
    seed: int = 0
    log_every: int = 50
    pretrain_epochs: int = 0
    pretrain_lr: float = 1e-3


@dataclass
class TrainResult:
    pretrain_steps: int = 0
    pretrain_epochs_run: int = 0
    pretrain_stop_reason: str = "no autoencoder phase"
    pretrain_loss: float = math.nan
    adam_steps: int = 0
    lbfgs_iterations: int = 0
    lbfgs_evaluations: int = 0
    final_loss: float = math.nan
    adam_epochs_run: int = 0
    stop_reason: str = "no training"
    loss_history: list[float] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


def objective(
    model: Classifier, spec: ModelSpec, x: torch.Tensor, y: torch.Tensor, decay_reading: str
) -> torch.Tensor:
    """Mean cross-entropy plus the paper's weight decay, in the given reading."""
    logits = model(x)
    penalty = weight_decay_penalty(model, spec.weight_decay, decay_reading)
    return nn.functional.cross_entropy(logits, y) + penalty


def check_finite(
    model_name: str,
    phase: str,
    step: int,
    loss: float,
    module: nn.Module,
    gradients: bool = True,
) -> None:
    """Raise NonFiniteError, naming the model, the phase and the step, if `loss` is NaN or inf
    or (with `gradients`) a gradient of `module`'s parameters is."""
    if not math.isfinite(loss):
        raise NonFiniteError(f"model {model_name}: non-finite loss {loss} at {phase} step {step}")
    if not gradients:
        return
    for name, parameter in module.named_parameters():
        if parameter.grad is not None and not torch.isfinite(parameter.grad).all():
            raise NonFiniteError(
                f"model {model_name}: non-finite gradient in {name} at {phase} step {step}"
            )


def check_minibatch_step(
    model_name: str, phase: str, step: int, loss: float, module: nn.Module, log_every: int
) -> None:
    """The mini-batch loops' non-finite policy: the loss every step, the gradients every
    `log_every` steps. A non-finite gradient makes the next step's loss non-finite, so it is
    still caught, one step later; checking every gradient of every step cost a fifth of a
    baseline's training time."""
    check_finite(model_name, phase, step, loss, module, gradients=step % max(1, log_every) == 0)


@dataclass(frozen=True)
class MiniBatch:
    """One step's batch: the examples' indices, its epoch and position there (from 0), and the
    steps done before it."""

    index: torch.Tensor
    epoch: int
    position: int
    steps_done: int


def run_minibatch_epochs(
    optimizer: torch.optim.Optimizer,
    checked: nn.Module,
    count: int,
    batch_size: int,
    epochs: int,
    generator: torch.Generator,
    batch_loss: Callable[[MiniBatch], tuple[torch.Tensor, int]],
    end_epoch: Callable[[int, float], bool],
    *,
    device: torch.device,
    model_name: str,
    phase: str,
    log_every: int,
    after_step: Callable[[], None] | None = None,
) -> int:
    """Run up to `epochs` passes over `count` examples in batches of `batch_size`, each pass in
    the order of a fresh ``torch.randperm`` from `generator`; return the steps run.

    Each step: ``loss, weight = batch_loss(batch)`` (the forward pass, and whatever must happen
    before it), zero the gradients, backward, the non-finite check (:func:`check_minibatch_step`
    on `checked`'s parameters), the optimizer's step, then `after_step` (a max-norm
    constraint, a learning-rate schedule). After each pass, `end_epoch(epoch, mean)` gets the
    pass's mean loss, each batch's loss counting `weight` times (1: the mean of the batch means;
    the batch's examples: the mean per example), and returns True to stop early.
    """
    batches = math.ceil(count / batch_size)
    progress = Progress(epochs * batches, f"{model_name} {phase}", log_every)
    steps = 0
    for epoch in range(epochs):
        order = torch.randperm(count, generator=generator).to(device)
        total, weights = 0.0, 0
        for position, start in enumerate(range(0, count, batch_size)):
            batch = MiniBatch(order[start : start + batch_size], epoch, position, steps)
            loss, weight = batch_loss(batch)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            steps += 1
            value = loss.item()  # one host sync per step
            check_minibatch_step(model_name, phase, steps, value, checked, log_every)
            optimizer.step()
            if after_step is not None:
                after_step()
            total += value * weight
            weights += weight
            progress.update(loss=value)
        if end_epoch(epoch, total / weights):
            break
    progress.close()
    return steps


def train(
    model: Classifier,
    spec: ModelSpec,
    x: torch.Tensor,
    y: torch.Tensor,
    options: TrainOptions,
) -> TrainResult:
    """Train `model` in place on (x, y), already on the model's device, as `spec` says."""
    if spec.optimizer not in OPTIMIZERS:
        raise ValueError(
            f"model {spec.name}: unknown optimizer {spec.optimizer!r}; allowed: {OPTIMIZERS}"
        )
    if spec.max_norm is not None and spec.optimizer != "adam":
        raise ValueError(
            f"model {spec.name}: max_norm constrains mini-batch steps; it needs optimizer "
            f"'adam', not {spec.optimizer!r}"
        )
    _check_autoencoder_options(spec)
    result = TrainResult()
    if spec.arch == "autoencoder":
        encoder = model.weight_layers[0]
        _pretrain_autoencoder(encoder, spec, x, options, result)
        if spec.top_tolerance_relative is not None:
            options = replace(options, tolerance_relative=spec.top_tolerance_relative)
        encoder.requires_grad_(False)
        feature_layers = model.layers[: list(model.layers).index(encoder) + 2]  # up to the code
        with torch.no_grad():
            x = torch.cat([feature_layers(batch) for batch in x.split(PREDICTION_BATCH)])
        model = Classifier(model.layers[len(feature_layers) :])
    model.train()
    if spec.optimizer in ("adam", "adam_lbfgs"):
        # a warm start runs its whole budget; Adam alone stops when its loss levels off
        _train_adam(model, spec, x, y, options, result, until_plateau=spec.optimizer == "adam")
    if spec.optimizer == "lbfgs":
        _train_lbfgs(model, spec, x, y, options.lbfgs_iterations, options, result)
    elif spec.optimizer == "adam_lbfgs":
        _train_lbfgs(model, spec, x, y, options.polish_iterations, options, result)
    model.eval()
    with torch.no_grad():
        result.final_loss = objective(model, spec, x, y, options.decay_reading).item()
    return result


def _check_autoencoder_options(spec: ModelSpec) -> None:
    """Refuse the autoencoder's own options on another architecture, or an unknown decoder."""
    if spec.arch != "autoencoder":
        defaults = ModelSpec(spec.name, "autoencoder", (), "all", "lbfgs")
        for option in ("decoder", "pretrain_min_epochs", "top_tolerance_relative"):
            if getattr(spec, option) != getattr(defaults, option):
                raise ValueError(
                    f"model {spec.name}: {option} is an option of the autoencoder, not of "
                    f"arch {spec.arch!r}"
                )
    if spec.decoder not in DECODERS:
        raise ValueError(
            f"model {spec.name}: unknown decoder {spec.decoder!r}; allowed: {DECODERS}"
        )


def levelled_off(previous: float | None, current: float, tolerance: float) -> bool:
    """Did the objective fall by less than the fraction `tolerance` since `previous`?"""
    return previous is not None and tolerance > 0 and previous - current < tolerance * abs(current)


def _pretrain_autoencoder(
    encoder: nn.Linear, spec: ModelSpec, x: torch.Tensor, options: TrainOptions, result
) -> None:
    """Sparse autoencoder (sigmoid code; sigmoid reconstruction, or linear with ``decoder:
    linear``) by mini-batch Adam, until its epoch loss levels off (``tolerance_relative``,
    checked from epoch ``pretrain_min_epochs`` on) or ``pretrain_epochs`` have run.

    Loss per image: ½‖x̂ − x‖² + β·KL(ρ ‖ ρ̂) + (λ/2)·(‖W_enc‖² + ‖W_dec‖²), with ρ̂ the mean
    activation of each hidden unit over the batch (ρ = sparsity_target, β = sparsity_weight,
    λ = autoencoder_decay): the classic sparse-autoencoder objective.
    """
    decoder = nn.Linear(encoder.out_features, encoder.in_features).to(x.device)
    autoencoder = nn.ModuleDict({"encoder": encoder, "decoder": decoder})
    optimizer = torch.optim.Adam(autoencoder.parameters(), lr=options.pretrain_lr)
    flat = x.flatten(1)
    rho = spec.sparsity_target

    def batch_loss(batch: MiniBatch) -> tuple[torch.Tensor, int]:
        images = flat[batch.index]
        code = torch.sigmoid(encoder(images))
        reconstruction = decoder(code)
        if spec.decoder == "sigmoid":
            reconstruction = torch.sigmoid(reconstruction)
        rho_hat = code.mean(dim=0).clamp(1e-6, 1 - 1e-6)
        sparsity = (
            rho * torch.log(rho / rho_hat) + (1 - rho) * torch.log((1 - rho) / (1 - rho_hat))
        ).sum()
        decay = encoder.weight.pow(2).sum() + decoder.weight.pow(2).sum()
        loss = (
            0.5 * (reconstruction - images).pow(2).sum(dim=1).mean()
            + spec.sparsity_weight * sparsity
            + 0.5 * spec.autoencoder_decay * decay
        )
        return loss, 1

    previous = None
    result.pretrain_stop_reason = "iteration budget"

    def end_epoch(epoch: int, mean: float) -> bool:
        nonlocal previous
        result.pretrain_epochs_run += 1
        result.pretrain_loss = mean
        may_stop = result.pretrain_epochs_run >= spec.pretrain_min_epochs
        if may_stop and levelled_off(previous, mean, options.tolerance_relative):
            result.pretrain_stop_reason = "converged (relative change)"
            return True
        previous = mean
        return False

    result.pretrain_steps += run_minibatch_epochs(
        optimizer,
        autoencoder,
        len(flat),
        options.batch_size,
        options.pretrain_epochs,
        torch.Generator().manual_seed(options.seed),
        batch_loss,
        end_epoch,
        device=x.device,
        model_name=spec.name,
        phase="autoencoder",
        log_every=options.log_every,
    )


def _train_adam(
    model, spec, x, y, options: TrainOptions, result: TrainResult, until_plateau: bool
) -> None:
    """Mini-batch Adam for `adam_epochs`; with `until_plateau`, stop early once an epoch's mean
    loss falls by less than ``tolerance_relative`` of the previous epoch's."""
    optimizer = torch.optim.Adam(model.parameters(), lr=options.adam_lr)

    def batch_loss(batch: MiniBatch) -> tuple[torch.Tensor, int]:
        images, labels = x[batch.index], y[batch.index]
        return objective(model, spec, images, labels, options.decay_reading), 1

    previous = None
    result.stop_reason = "iteration budget"

    def end_epoch(epoch: int, mean: float) -> bool:
        nonlocal previous
        result.adam_epochs_run += 1
        result.loss_history.append(mean)
        if until_plateau and levelled_off(previous, mean, options.tolerance_relative):
            result.stop_reason = "converged (relative change)"
            return True
        previous = mean
        return False

    result.adam_steps += run_minibatch_epochs(
        optimizer,
        model,
        len(x),
        options.batch_size,
        options.adam_epochs,
        torch.Generator().manual_seed(options.seed),
        batch_loss,
        end_epoch,
        device=x.device,
        model_name=spec.name,
        phase="adam",
        log_every=options.log_every,
        after_step=lambda: constrain_norms(model, spec.max_norm),
    )


def _train_lbfgs(
    model, spec, x, y, iterations: int, options: TrainOptions, result: TrainResult
) -> None:
    """Full-batch L-BFGS in chunks of ``tolerance_window`` iterations (the optimizer's state,
    its curvature pairs included, carries over), checking the relative change after each."""
    if iterations == 0:
        return
    window = max(1, options.tolerance_window)
    optimizer = torch.optim.LBFGS(
        model.parameters(),
        lr=1.0,
        max_iter=window,
        history_size=options.lbfgs_history,
        line_search_fn="strong_wolfe",
        tolerance_grad=options.tolerance_grad,
        tolerance_change=options.tolerance_change,
    )
    state = optimizer.state[next(model.parameters())]
    progress = Progress(iterations, f"{spec.name} lbfgs", options.log_every)
    evaluations = 0
    latest = math.nan

    def closure() -> torch.Tensor:
        nonlocal evaluations, latest
        optimizer.zero_grad(set_to_none=True)
        loss = objective(model, spec, x, y, options.decay_reading)
        loss.backward()
        evaluations += 1
        latest = loss.item()
        check_finite(spec.name, "lbfgs evaluation", evaluations, latest, model)
        iteration = state.get("n_iter", 0)
        if iteration > progress.count:
            result.loss_history.append(latest)
        progress.advance_to(min(iteration, iterations), loss=latest)
        return loss

    previous = None
    result.stop_reason = "iteration budget"
    while True:
        done = state.get("n_iter", 0)
        if done >= iterations or evaluations >= 2 * iterations:
            break
        chunk = min(window, iterations - done)
        optimizer.param_groups[0]["max_iter"] = chunk
        optimizer.param_groups[0]["max_eval"] = 2 * chunk
        optimizer.step(closure)
        if state.get("n_iter", 0) - done < chunk:  # torch's own tolerances ended the chunk
            result.stop_reason = "converged (tolerance)"
            break
        if levelled_off(previous, latest, options.tolerance_relative):
            result.stop_reason = "converged (relative change)"
            break
        previous = latest
    progress.close()
    result.lbfgs_iterations = state.get("n_iter", 0)
    result.lbfgs_evaluations = evaluations

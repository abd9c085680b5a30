"""Benchmark: our batched L-BFGS attack against the classic scipy formulation and foolbox 3.

Four targeted minimum-distortion attacks on the same models (the pipeline's trained softmax1 and
n100, read from models/*.pt), the same MNIST test images (the first --n) and the same random
targets (intriguing.core.attack.choose_targets, seed --seed):

* ours: intriguing.core.attack.minimal_adversarial with its default options
  (params.yaml's), with the
  paper's cross-entropy loss (temperature 1), and again at temperature 0.1 (the loss
  0.1 * CE(logits / 0.1), close to Carlini and Wagner's margin, whose minimiser sits on the
  decision boundary instead of past it).
* scipy one-problem: the classic formulation of cleverhans' and advertorch's LBFGS attacks. The
  batch's objectives (c |r|^2 + cross-entropy, as ours) are summed into one scipy
  ``fmin_l_bfgs_b`` problem with one L-BFGS state, one line search and one stopping test; c is
  bisected per example between solves with our schedule (bracketing, then log-bisection, warm
  starts, early stop on a tight bracket), history size, iteration budget and tolerances. Only
  examples whose c search is still open are re-solved. scipy's per-call set-up (an
  element-by-element Python conversion of the bounds) is timed separately and reported.
* foolbox C&W: foolbox 3's L2CarliniWagnerAttack (Adam on tanh-space variables, margin loss,
  binary search on the loss weight), targeted through ``TargetedMisclassification``.
* foolbox DDN: foolbox 3's DDNAttack (decoupled direction and norm), targeted likewise.

Foolbox is a benchmark-only dependency: ``uv run --group bench python benchmarks/...``. Its
settings are options (--cw-binary-steps, --cw-steps, --ddn-steps); --sweep N runs each peer at
several settings on the first N images first, to show which settings have converged.

Reported per model and method: mean and median distortion (the paper's sqrt(sum((x'-x)^2)/784))
of the successful examples, success rate, wall and CPU seconds, and model evaluations per
example: every method calls the model through a counter of the examples it sees with gradients
(forward + input-gradient backward) and without (forward only). From the counts: the achieved
model FLOP/s, against torch.mm FLOP/s measured on this machine: the best of 512^3, 1024^3 and
2048^3 products (the peak) and the attack's own largest product (batch x 784 x the first
layer's width). The
speed goal (issue 4): at a mean distortion no worse than 1.01x the best peer's, at least 5x
faster than the scipy baseline and than foolbox's C&W.

Writes the tables, the settings, the machine, its load average (``os.getloadavg()``) and the
thread count to benchmarks/results/attacks.md (--output). On a CPU busy with other work,
multi-threaded torch ops stall; ``--threads 1`` gives steadier numbers there.

Usage: uv run --group bench python benchmarks/bench_attacks.py [--n 1000] [--threads 2]
       [--models softmax1 n100] [--sweep 200]
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
import yaml
from machine import cpu_name, load_line, mnist_source
from scipy.optimize import fmin_l_bfgs_b
from torch import Tensor, nn

from intriguing.common.files import write_text
from intriguing.core import mnist
from intriguing.core.attack import choose_targets, minimal_adversarial
from intriguing.core.distortion import distortion
from intriguing.core.models import ModelSpec, load_checkpoint
from intriguing.report.format import markdown_table

REPO = Path(__file__).resolve().parents[1]
GOAL_DISTORTION_RATIO = 1.01
GOAL_SPEEDUP = 5.0
OURS, SCIPY, CW, DDN = "ours (batched L-BFGS)", "scipy one-problem", "foolbox C&W", "foolbox DDN"
#: Our attack's loss temperatures: the paper's cross-entropy, and one near the margin.
OURS_TEMPERATURES = {OURS: 1.0, "ours, temperature 0.1": 0.1}
PEAK_SIZES = (512, 1024, 2048)  # square torch.mm products; the fastest gives the peak
SWEEP_CW = [(5, 1000), (9, 1000), (9, 4000)]  # (binary_search_steps, steps)
SWEEP_DDN = [100, 300, 1000, 3000]


@dataclass(frozen=True)
class Schedule:
    """Our attack's settings, shared by the scipy baseline."""

    c_init: float
    c_factor: float
    c_steps: int
    c_tolerance: float
    max_iterations: int
    history: int
    tolerance: float
    gradient_tolerance: float


@dataclass
class Outcome:
    """What one attack run produced."""

    distortion: Tensor
    success: Tensor
    seconds: float  # wall clock
    cpu_seconds: float  # this process, all threads
    gradient_rows: int  # examples evaluated with forward + input-gradient backward
    forward_rows: int  # examples evaluated by a forward pass only
    setup_seconds: float = 0.0  # part of `seconds` spent in scipy's per-call set-up
    useful_rows: int | None = None  # ours: AttackResult.evaluations summed (see attack_ours)


# An attack run's distortions, successes, and (wall, CPU) seconds to leave out of its time.
Attempt = tuple[Tensor, Tensor, tuple[float, float]]


class CountingModel(nn.Module):
    """The model, counting the examples it evaluates with and without autograd."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model
        self.gradient_rows = self.forward_rows = 0

    def forward(self, x: Tensor) -> Tensor:
        if torch.is_grad_enabled() and x.requires_grad:
            self.gradient_rows += x.shape[0]
        else:
            self.forward_rows += x.shape[0]
        return self.model(x)


def load_model(name: str, models_dir: Path) -> nn.Module:
    """A trained model of the pipeline (params.yaml's registry entry), frozen, in eval mode."""
    path = models_dir / f"{name}.pt"
    if not path.is_file():
        raise SystemExit(f"{path} not found: train it first (uv run snakemake {path})")
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    model, _ = load_checkpoint(str(path), ModelSpec.from_params(name, params["models"][name]))
    return model.requires_grad_(False)


def forward_flops(model: nn.Module) -> int:
    """Matmul FLOPs of one example's forward pass (2 in out per Linear layer)."""
    layers = [m for m in model.modules() if isinstance(m, nn.Linear | nn.Conv2d)]
    if any(isinstance(m, nn.Conv2d) for m in layers):
        raise ValueError("FLOP counting covers fully connected models only")
    return sum(2 * m.in_features * m.out_features for m in layers)


def measured_matmul_flops(m: int, k: int, n: int, repeats: int = 20) -> float:
    """Best-of-``repeats`` float32 FLOP/s of an (m x k) @ (k x n) torch.mm on this machine."""
    a, b = torch.randn(m, k), torch.randn(k, n)
    torch.mm(a, b)
    best = math.inf
    for _ in range(max(repeats, 2_000_000_000 // (2 * m * k * n))):
        start = time.perf_counter()
        torch.mm(a, b)
        best = min(best, time.perf_counter() - start)
    return 2 * m * k * n / best


def timed(run: Callable[[CountingModel], Attempt], model: nn.Module) -> Outcome:
    """Run an attack on a counting wrapper of the model; wall and CPU time, counts."""
    counting = CountingModel(model)
    start, cpu_start = time.perf_counter(), time.process_time()
    distortions, success, excluded = run(counting)
    seconds = time.perf_counter() - start - excluded[0]
    cpu_seconds = time.process_time() - cpu_start - excluded[1]
    return Outcome(
        distortions, success, seconds, cpu_seconds, counting.gradient_rows, counting.forward_rows
    )


def attack_ours(
    model: nn.Module, x: Tensor, target: Tensor, batch_size: int, temperature: float
) -> Outcome:
    """This project's attack (per-example c, L-BFGS state, line search and stopping).

    AttackResult.evaluations counts each example's own evaluations; the model also evaluates
    finished examples that wait in the batch until enough have finished to compact it
    (intriguing.core.search.COMPACTION_FRACTION), so the counted rows can be more:
    ``useful_rows`` keeps the former.
    """

    def run(counting: CountingModel) -> Attempt:
        result = minimal_adversarial(
            counting, x, target, batch_size=batch_size, temperature=temperature
        )
        useful["rows"] = int(result.evaluations.sum())
        return result.distortion, result.success, (0.0, 0.0)

    useful = {}
    outcome = timed(run, model)
    outcome.useful_rows = useful["rows"]
    return outcome


def attack_foolbox(model: nn.Module, x: Tensor, target: Tensor, attack) -> Outcome:
    """A foolbox 3 minimisation attack toward ``target`` (success checked on clipped images)."""
    foolbox = foolbox_module()

    def run(counting: CountingModel) -> Attempt:
        wrapped = foolbox.PyTorchModel(counting.eval(), bounds=(0, 1))
        criterion = foolbox.criteria.TargetedMisclassification(target)
        _, clipped, success = attack(wrapped, x, criterion, epsilons=None)
        return distortion(x, clipped), success, (0.0, 0.0)

    return timed(run, model)


def foolbox_module():
    """foolbox, or a clear exit when the bench dependency group is not installed."""
    try:
        import foolbox
    except ImportError:
        raise SystemExit(
            "foolbox is not installed: run with `uv run --group bench python ...`"
        ) from None
    return foolbox


def carlini_wagner(binary_search_steps: int, steps: int):
    """foolbox's L2 C&W with these settings, the rest at foolbox's defaults."""
    attacks = foolbox_module().attacks
    return attacks.L2CarliniWagnerAttack(binary_search_steps=binary_search_steps, steps=steps)


def decoupled_direction_norm(steps: int):
    """foolbox's DDN with this many steps, the rest at foolbox's defaults."""
    return foolbox_module().attacks.DDNAttack(steps=steps)


def scipy_setup_seconds(bounds: np.ndarray) -> float:
    """Seconds fmin_l_bfgs_b spends before optimising a problem with these bounds.

    scipy converts the bounds element by element in Python on every call, which for whole
    MNIST batches is a large share of the classic attack's time. Measured on a problem that is
    optimal at its start (zero gradient), so it stops after one evaluation.
    """
    gradient = np.zeros(len(bounds))
    start = time.perf_counter()
    fmin_l_bfgs_b(lambda z: (0.0, gradient), np.full(len(bounds), 0.5), bounds=bounds, maxiter=1)
    return time.perf_counter() - start


class SummedObjective:
    """The batch's summed objective for scipy, tracking the best adversarial point seen."""

    def __init__(self, model: nn.Module, input_shape: tuple[int, ...], best: dict[str, Tensor]):
        self.model, self.input_shape, self.best = model, input_shape, best

    def select(self, index: Tensor, x0: Tensor, target: Tensor, c: Tensor) -> None:
        """Set the examples (rows of the caller's batch) of the next solve."""
        self.index, self.x0, self.target, self.c = index, x0, target, c

    def __call__(self, z: np.ndarray) -> tuple[float, np.ndarray]:
        size = len(self.index)
        point = torch.from_numpy(z).view(size, -1).float().requires_grad_(True)
        logits = self.model(point.view(size, *self.input_shape))
        cross_entropy = F.cross_entropy(logits, self.target, reduction="none")
        (gradient,) = torch.autograd.grad(cross_entropy.sum(), point)
        with torch.no_grad():
            distance_sq = (point - self.x0).pow(2).sum(dim=1)
            best_distance_sq = self.best["distance_sq"]
            better = (logits.argmax(dim=1) == self.target) & (
                distance_sq < best_distance_sq[self.index]
            )
            self.best["x"][self.index[better]] = point[better]
            best_distance_sq[self.index[better]] = distance_sq[better]
            total = (self.c * distance_sq + cross_entropy).sum()
            gradient = gradient + 2 * self.c[:, None] * (point - self.x0)
        return float(total), gradient.double().numpy().ravel()


def attack_scipy(model: nn.Module, x: Tensor, target: Tensor, schedule: Schedule) -> Outcome:
    """Classic formulation: one fmin_l_bfgs_b over the flattened batch per c step.

    The summed objective's gradient is the per-example gradients side by side; scipy keeps one
    history, one line search and one stopping test for all of them. Between solves each
    example's c moves by the same bracketing/bisection as the batched attack, and each solve
    warm-starts from the previous solution. The least-distortion adversarial point among all
    evaluated points is kept, as in the batched attack. Before each solve, scipy's per-call
    set-up is timed on a trivial problem of the same size and reported as ``setup_seconds``;
    that measuring run is left out of ``seconds`` and ``cpu_seconds``, which still include the
    real calls' own set-up.
    """
    setup = {"seconds": 0.0}

    def run(counting: CountingModel) -> Attempt:
        count = x.shape[0]
        x0 = x.reshape(count, -1)
        c = torch.full((count,), schedule.c_init)
        c_success = torch.zeros(count)
        c_failure = torch.full((count,), math.inf)
        solves = torch.zeros(count, dtype=torch.long)
        current = x0.double().numpy().copy()
        best = {"x": x0.clone(), "distance_sq": torch.full((count,), math.inf)}
        objective = SummedObjective(counting, tuple(x.shape[1:]), best)
        with torch.no_grad():
            solved = counting(x).argmax(dim=1) == target
        best["distance_sq"][solved] = 0
        searching = ~solved
        excluded = [0.0, 0.0]  # wall and CPU seconds of the set-up measurements
        while searching.any():
            index = searching.nonzero().squeeze(1)
            size = len(index)
            objective.select(index, x0[index], target[index], c[index])
            bounds = np.tile([0.0, 1.0], (size * x0.shape[1], 1))
            measuring, cpu_measuring = time.perf_counter(), time.process_time()
            setup["seconds"] += scipy_setup_seconds(bounds)
            excluded[0] += time.perf_counter() - measuring
            excluded[1] += time.process_time() - cpu_measuring
            solution, _, _ = fmin_l_bfgs_b(
                objective,
                current[index.numpy()].ravel(),
                bounds=bounds,
                m=schedule.history,
                factr=schedule.tolerance / np.finfo(float).eps,
                pgtol=schedule.gradient_tolerance,
                maxiter=schedule.max_iterations,
            )
            solution = solution.reshape(size, -1)
            current[index.numpy()] = solution
            with torch.no_grad():
                logits = counting(torch.from_numpy(solution).float().view(size, *x.shape[1:]))
            reached = logits.argmax(dim=1) == target[index]
            c_success[index] = torch.where(reached, c[index], c_success[index])
            c_failure[index] = torch.where(~reached, c[index], c_failure[index])
            solves[index] += 1
            low, high = c_success[index], c_failure[index]
            c[index] = torch.where(
                torch.isinf(high),
                low * schedule.c_factor,
                torch.where(low > 0, (low * high).sqrt(), high / schedule.c_factor),
            )
            tight = (low > 0) & (high <= low * (1 + schedule.c_tolerance))
            searching[index] = ~(tight | (solves[index] >= schedule.c_steps))
        found = torch.isfinite(best["distance_sq"])
        fallback = torch.from_numpy(current).float()
        x_adv = torch.where(found[:, None], best["x"], fallback).view_as(x)
        return distortion(x, x_adv), found, tuple(excluded)

    outcome = timed(run, model)
    outcome.setup_seconds = setup["seconds"]
    return outcome


def summary_cells(outcome: Outcome, n: int) -> list[str]:
    """mean and median distortion of the successes, success rate, times, evaluations."""
    successful = outcome.distortion[outcome.success]
    return [
        f"{successful.mean():.4f}",
        f"{successful.median():.4f}",
        f"{outcome.success.float().mean():.1%}",
        f"{outcome.seconds:.1f}",
        f"{outcome.cpu_seconds:.1f}",
        f"{(outcome.gradient_rows + outcome.forward_rows) / n:.0f}",
    ]


def sweep(models: dict[str, nn.Module], x: Tensor, target: Tensor) -> str:
    """Each foolbox peer at several settings on the sweep's images: has it converged?"""
    settings = [
        (CW, f"binary_search_steps={binary}, steps={steps}", carlini_wagner(binary, steps))
        for binary, steps in SWEEP_CW
    ] + [(DDN, f"steps={steps}", decoupled_direction_norm(steps)) for steps in SWEEP_DDN]
    rows = []
    for name, model in models.items():
        for method, label, attack in settings:
            outcome = attack_foolbox(model, x, target, attack)
            rows.append([name, method, label, *summary_cells(outcome, len(x))])
            print(" | ".join(rows[-1]), flush=True)
    header = ["model", "method", "settings", "mean dist", "median dist", "success", "wall s"]
    header += ["cpu s", "evals/example"]
    return "\n\n".join(
        [
            f"## Convergence of the foolbox peers ({len(x)} images)",
            "Each peer at several settings (the rest at foolbox 3.3.4's defaults: C&W "
            "stepsize 0.01, confidence 0, initial_const 0.001, abort_early; DDN init_epsilon 1, "
            "gamma 0.05). A setting has converged when more steps no longer lower the mean "
            "distortion.",
            markdown_table(header, rows),
        ]
    )


def goal_lines(results: dict[str, dict[str, Outcome]]) -> tuple[list[str], bool]:
    """Per model and temperature of ours: distortion against the best peer's and speed-ups; the
    goal is met for a model when one of our temperatures meets it, and overall when it is for
    every model."""
    lines, met = [], True
    for name, outcomes in results.items():
        common = torch.stack([o.success for o in outcomes.values()]).all(dim=0)
        means = {method: float(o.distortion[common].mean()) for method, o in outcomes.items()}
        peers = {m: value for m, value in means.items() if m not in OURS_TEMPERATURES}
        best = min(peers, key=peers.get)
        model_met = False
        for variant in (m for m in OURS_TEMPERATURES if m in outcomes):
            ratio = means[variant] / peers[best]
            ours = outcomes[variant]
            speedups = {
                method: outcomes[method].seconds / ours.seconds
                for method in (SCIPY, CW)
                if method in outcomes
            }
            variant_met = (
                ratio <= GOAL_DISTORTION_RATIO
                and len(speedups) == 2
                and all(value >= GOAL_SPEEDUP for value in speedups.values())
            )
            model_met |= variant_met
            speed_text = "; ".join(
                f"{value:.1f}× faster than {m} in wall time "
                f"({outcomes[m].cpu_seconds / ours.cpu_seconds:.1f}× in CPU time)"
                + (
                    f", {(outcomes[m].seconds - outcomes[m].setup_seconds) / ours.seconds:.1f}× "
                    f"against it without its {outcomes[m].setup_seconds:.1f} s of per-call set-up"
                    if m == SCIPY
                    else ""
                )
                for m, value in speedups.items()
            )
            lines.append(
                f"- **{name}, {variant}**: on the {int(common.sum())} examples every method "
                f"broke, our mean distortion is {ratio:.4f}× the best peer's ({best}, "
                f"{peers[best]:.4f}); {speed_text}. Goal {'met' if variant_met else 'not met'}."
            )
        met &= model_met
    return lines, met


def machine_lines(threads: int, load_start: tuple[float, ...]) -> list[str]:
    """The machine, its load and the software, for the results file."""
    versions = ", ".join(
        f"{package} {metadata.version(package)}"
        for package in ("torch", "numpy", "scipy", "foolbox", "eagerpy")
    )
    return [
        f"- machine: {cpu_name()}, os.cpu_count() = {os.cpu_count()}; torch threads: {threads}",
        load_line(load_start),
        f"- {versions}; Python {platform.python_version()}",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=1000, help="test images to attack")
    parser.add_argument("--models", nargs="+", default=["softmax1", "n100"])
    parser.add_argument("--models-dir", type=Path, default=REPO / "models")
    parser.add_argument("--seed", type=int, default=0, help="random-target seed")
    parser.add_argument("--batch-size", type=int, default=1024, help="our attack's batch")
    parser.add_argument("--threads", type=int, help="torch threads (default: torch's choice)")
    parser.add_argument("--cw-binary-steps", type=int, default=9)
    parser.add_argument("--cw-steps", type=int, default=1000)
    parser.add_argument("--ddn-steps", type=int, default=1000)
    parser.add_argument("--sweep", type=int, default=0, help="images for the settings sweep")
    parser.add_argument("--output", type=Path, default=REPO / "benchmarks/results/attacks.md")
    args = parser.parse_args()
    load_start = os.getloadavg()
    if args.threads:
        torch.set_num_threads(args.threads)
    data = mnist.load_mnist(mnist_source(REPO, pipeline_copy_first=True))
    x = mnist.to_tensor(data.test_images[: args.n])
    labels = torch.from_numpy(data.test_labels[: args.n].astype(np.int64))
    target = choose_targets(labels, "random", seed=args.seed)
    models = {name: load_model(name, args.models_dir) for name in args.models}
    defaults = minimal_adversarial.__kwdefaults__
    schedule = Schedule(**{name: defaults[name] for name in Schedule.__dataclass_fields__})
    peers = {
        CW: carlini_wagner(args.cw_binary_steps, args.cw_steps),
        DDN: decoupled_direction_norm(args.ddn_steps),
    }
    peak_size, peak = max(
        ((size, measured_matmul_flops(size, size, size)) for size in PEAK_SIZES),
        key=lambda item: item[1],
    )
    print(f"{args.n} test images; torch threads {torch.get_num_threads()}; load {load_start}")

    sweep_text = ""
    if args.sweep:
        sweep_text = sweep(models, x[: args.sweep], target[: args.sweep])

    results: dict[str, dict[str, Outcome]] = {}
    rows, flop_rows = [], []
    for name, model in models.items():
        flops = forward_flops(model)
        first = next(m for m in model.modules() if isinstance(m, nn.Linear))
        comparable = measured_matmul_flops(args.batch_size, first.in_features, first.out_features)
        results[name] = {
            **{
                method: attack_ours(model, x, target, args.batch_size, temperature)
                for method, temperature in OURS_TEMPERATURES.items()
            },
            SCIPY: attack_scipy(model, x, target, schedule),
            **{
                method: attack_foolbox(model, x, target, attack) for method, attack in peers.items()
            },
        }
        for method, outcome in results[name].items():
            rows.append([name, method, *summary_cells(outcome, args.n)])
            print(" | ".join(rows[-1]), flush=True)
            achieved = (2 * outcome.gradient_rows + outcome.forward_rows) * flops / outcome.seconds
            flop_rows.append(
                [
                    name,
                    method,
                    f"{achieved / 1e9:.2f}",
                    f"{achieved / comparable:.1%}",
                    f"{achieved / peak:.1%}",
                ]
            )
        flop_rows.append(
            [name, f"torch.mm {args.batch_size}×{first.in_features}×{first.out_features}"]
            + [f"{comparable / 1e9:.2f}", "100%", f"{comparable / peak:.1%}"]
        )

    goal, met = goal_lines(results)
    header = ["model", "method", "mean dist", "median dist", "success", "wall s", "cpu s"]
    header += ["evals/example"]
    flop_header = ["model", "method", "model GFLOP/s", "% of comparable torch.mm", "% of peak"]
    text = "\n\n".join(
        [
            "# Attack benchmark: minimum-distortion targeted attacks on MNIST",
            f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC: `{' '.join(sys.argv)}`",
            "\n".join(machine_lines(torch.get_num_threads(), load_start)),
            f"The first {args.n} MNIST test images, random targets (seed {args.seed}, uniform "
            "over the nine wrong labels), the pipeline's trained models (models/*.pt). "
            "Distortion: the paper's sqrt(Σ(x'−x)²/784), mean and median over each method's "
            "successful examples.",
            "Settings: **ours** and **scipy one-problem**: "
            f"{', '.join(f'{k}={v}' for k, v in schedule.__dict__.items())} (ours also "
            f"batch_size={args.batch_size}); **foolbox C&W**: "
            f"binary_search_steps={args.cw_binary_steps}, steps={args.cw_steps}, the rest at "
            "foolbox's defaults (stepsize 0.01, confidence 0, initial_const 0.001, "
            f"abort_early); **foolbox DDN**: steps={args.ddn_steps}, init_epsilon 1, gamma "
            "0.05.",
            markdown_table(header, rows),
            "evals/example: model evaluations (forward + input gradient, or forward only) per "
            "attacked image.",
            f"## Speed goal: {'met' if met else 'not met'}",
            f"At a mean distortion no worse than {GOAL_DISTORTION_RATIO}× the best peer's, at "
            f"least {GOAL_SPEEDUP:g}× faster than the scipy baseline and than foolbox C&W; met for "
            "a model when one of our two temperatures meets it.",
            "\n".join(goal),
            "## Achieved model FLOP/s",
            "Model matmul FLOPs per evaluation: 2·weights for a forward pass, 4·weights for "
            "forward + input-gradient backward (the weights are frozen, so no weight "
            "gradients: the usual 6·weights training count does not apply), times the counted "
            "evaluations, over the wall time. Against float32 torch.mm measured here: "
            f"{peak / 1e9:.1f} GFLOP/s (peak: the fastest of the square products "
            f"{', '.join(f'{size}³' for size in PEAK_SIZES)}, here {peak_size}³), and the "
            "product of the attack's own shape (batch × 784 × first layer's width). The rest "
            "of each method's time goes to its optimiser (for ours: the L-BFGS history "
            "products and some fifty batch-wide tensor ops per model call), Python and, for "
            "scipy, its Fortran core.",
            markdown_table(flop_header, flop_rows),
            "Ours counts its own evaluations (AttackResult.evaluations); the model also "
            "evaluates finished examples that wait in the batch until it is compacted: "
            + "; ".join(
                f"{name}: {outcomes[OURS].useful_rows / outcomes[OURS].gradient_rows:.1%} of "
                f"the {outcomes[OURS].gradient_rows} gradient evaluations were examples' own"
                for name, outcomes in results.items()
            )
            + ".",
            sweep_text,
        ]
    )
    write_text(args.output, text.rstrip() + "\n")
    print(text)


if __name__ == "__main__":
    main()

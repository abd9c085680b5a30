"""Benchmark: batched per-example L-BFGS attack vs the classic scipy formulation.

The classic formulation (cleverhans' and advertorch's LBFGS attacks) hands the whole batch to
one scipy ``fmin_l_bfgs_b`` problem: the batch's objectives are summed and share one L-BFGS
state, one line search and one stopping test; c is bisected per example between solves. Both
methods here get the same models, images, random targets (fixed seed), the same objective
(c |r|^2 + cross-entropy), the same c schedule (bracketing then log-bisection, warm starts,
early stop on a tight bracket), the same history size, iteration budget and tolerances. The
baseline only re-solves examples whose c search is still open.

Models are trained here (softmax 784-10 and a sigmoid 100-100-10 MLP, Adam, a few epochs) on
MNIST read from the IDX gz files in $MNIST_DIR (default ../shared/mnist next to the repo).

Reported per model and method: mean/median distortion of the successful examples, success
rate, wall and CPU seconds, model evaluations per example, and the achieved model FLOP/s
(forward + input-gradient matmul FLOPs per evaluation x evaluations / wall time) against a
large float32 torch.matmul timed on this machine. scipy's per-call set-up (an element-by-element
Python conversion of the bounds) is timed separately and also reported without it. On a CPU
busy with other work, multi-threaded torch ops stall; ``--threads 1`` gives steadier numbers.

Usage: uv run python benchmarks/bench_attacks.py [--n 1000] [--threads 1]
"""

from __future__ import annotations

import argparse
import gzip
import math
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from scipy.optimize import fmin_l_bfgs_b
from torch import Tensor, nn

from intriguing.attacks import choose_targets, distortion, minimal_adversarial

REPO = Path(__file__).resolve().parents[1]
IMAGES_MAGIC, LABELS_MAGIC = 0x00000803, 0x00000801


@dataclass(frozen=True)
class Schedule:
    """Settings shared by both methods."""

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
    evaluations: int  # per-example model forward+backward passes, summed over examples
    setup_seconds: float = 0.0  # part of `seconds` spent in scipy's per-call set-up


def read_idx(path: Path, magic: int) -> np.ndarray:
    """Parse a gzipped IDX file (big-endian header: magic, then one uint32 per dimension)."""
    with gzip.open(path, "rb") as stream:
        data = stream.read()
    found = int.from_bytes(data[:4], "big")
    if found != magic:
        raise ValueError(f"{path}: magic {found:#010x}, expected {magic:#010x}")
    dimensions = [int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(magic & 0xFF)]
    offset = 4 + 4 * len(dimensions)
    return np.frombuffer(data, dtype=np.uint8, offset=offset).reshape(dimensions)


def load_mnist(directory: Path, split: str) -> tuple[Tensor, Tensor]:
    """Images (N, 1, 28, 28) in [0, 1] as float32 and labels (N,) as int64."""
    prefix = "train" if split == "train" else "t10k"
    images = read_idx(directory / f"{prefix}-images-idx3-ubyte.gz", IMAGES_MAGIC)
    labels = read_idx(directory / f"{prefix}-labels-idx1-ubyte.gz", LABELS_MAGIC)
    x = torch.from_numpy(images.astype(np.float32) / 255).unsqueeze(1)
    return x, torch.from_numpy(labels.astype(np.int64))


def make_model(name: str) -> nn.Module:
    """The paper's softmax (784-10) or sigmoid 100-100-10 network."""
    if name == "softmax":
        return nn.Sequential(nn.Flatten(), nn.Linear(784, 10))
    return nn.Sequential(
        nn.Flatten(),
        nn.Linear(784, 100),
        nn.Sigmoid(),
        nn.Linear(100, 100),
        nn.Sigmoid(),
        nn.Linear(100, 10),
    )


def train(model: nn.Module, x: Tensor, y: Tensor, epochs: int, seed: int) -> nn.Module:
    """A few epochs of Adam; the attack benchmark does not need a well-tuned model."""
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    for _ in range(epochs):
        for batch in torch.randperm(len(x), generator=generator).split(128):
            optimizer.zero_grad()
            F.cross_entropy(model(x[batch]), y[batch]).backward()
            optimizer.step()
    model.eval()
    for parameter in model.parameters():
        parameter.requires_grad_(False)
    return model


def accuracy(model: nn.Module, x: Tensor, y: Tensor) -> float:
    with torch.no_grad():
        return (model(x).argmax(dim=1) == y).float().mean().item()


def matmul_flops_per_evaluation(model: nn.Module) -> int:
    """Forward (2 in out) plus input-gradient backward (2 in out) FLOPs per example."""
    return sum(
        4 * m.in_features * m.out_features for m in model.modules() if isinstance(m, nn.Linear)
    )


def measured_matmul_flops(size: int = 2048, repeats: int = 10) -> float:
    """Best-of-``repeats`` float32 FLOP/s of one large torch.matmul on this machine."""
    a, b = torch.randn(size, size), torch.randn(size, size)
    torch.matmul(a, b)
    best = math.inf
    for _ in range(repeats):
        start = time.perf_counter()
        torch.matmul(a, b)
        best = min(best, time.perf_counter() - start)
    return 2 * size**3 / best


def attack_batched(
    model: nn.Module, x: Tensor, target: Tensor, schedule: Schedule, batch_size: int
) -> Outcome:
    """This project's attack (per-example c, L-BFGS state, line search and stopping)."""
    start, cpu_start = time.perf_counter(), time.process_time()
    result = minimal_adversarial(model, x, target, batch_size=batch_size, **schedule.__dict__)
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
    evaluations = int(result.evaluations.sum())
    return Outcome(result.distortion, result.success, seconds, cpu_seconds, evaluations)


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
        self.evaluations = 0

    def select(self, index: Tensor, x0: Tensor, target: Tensor, c: Tensor) -> None:
        """Set the examples (rows of the caller's batch) of the next solve."""
        self.index, self.x0, self.target, self.c = index, x0, target, c

    def __call__(self, z: np.ndarray) -> tuple[float, np.ndarray]:
        size = len(self.index)
        self.evaluations += size
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
    start, cpu_start = time.perf_counter(), time.process_time()
    count = x.shape[0]
    x0 = x.reshape(count, -1)
    c = torch.full((count,), schedule.c_init)
    c_success = torch.zeros(count)
    c_failure = torch.full((count,), math.inf)
    solves = torch.zeros(count, dtype=torch.long)
    current = x0.double().numpy().copy()
    best = {"x": x0.clone(), "distance_sq": torch.full((count,), math.inf)}
    objective = SummedObjective(model, tuple(x.shape[1:]), best)

    with torch.no_grad():
        solved = model(x).argmax(dim=1) == target
    objective.evaluations += count
    best["distance_sq"][solved] = 0
    searching = ~solved
    setup_seconds = excluded_seconds = excluded_cpu_seconds = 0.0

    while searching.any():
        index = searching.nonzero().squeeze(1)
        size = len(index)
        objective.select(index, x0[index], target[index], c[index])
        bounds = np.tile([0.0, 1.0], (size * x0.shape[1], 1))
        measuring, cpu_measuring = time.perf_counter(), time.process_time()
        setup_seconds += scipy_setup_seconds(bounds)
        excluded_seconds += time.perf_counter() - measuring
        excluded_cpu_seconds += time.process_time() - cpu_measuring
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
            logits = model(torch.from_numpy(solution).float().view(size, *x.shape[1:]))
        objective.evaluations += size
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
    seconds = time.perf_counter() - start - excluded_seconds
    cpu_seconds = time.process_time() - cpu_start - excluded_cpu_seconds
    return Outcome(
        distortion(x, x_adv), found, seconds, cpu_seconds, objective.evaluations, setup_seconds
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=1000, help="test images to attack")
    parser.add_argument("--epochs", type=int, default=3, help="training epochs per model")
    parser.add_argument("--seed", type=int, default=0, help="training and target seed")
    parser.add_argument("--batch-size", type=int, default=1024, help="batched attack's batch")
    parser.add_argument("--threads", type=int, help="torch threads (default: torch's choice)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    mnist = Path(os.environ.get("MNIST_DIR", REPO.parent / "shared" / "mnist"))
    train_x, train_y = load_mnist(mnist, "train")
    test_x, test_y = load_mnist(mnist, "test")
    x, labels = test_x[: args.n], test_y[: args.n]
    target = choose_targets(labels, "random", seed=args.seed)
    peak = measured_matmul_flops()
    defaults = minimal_adversarial.__kwdefaults__
    schedule = Schedule(**{name: defaults[name] for name in Schedule.__dataclass_fields__})
    print(f"{args.n} MNIST test images, random targets (seed {args.seed})")
    print(f"torch threads: {torch.get_num_threads()}, os.cpu_count(): {os.cpu_count()}")
    print(f"measured float32 matmul (2048^3): {peak / 1e9:.1f} GFLOP/s")
    print(f"shared settings: {schedule}; batched attack batch_size={args.batch_size}")

    table = []
    for name in ("softmax", "mlp-sigmoid-100-100"):
        torch.manual_seed(args.seed)
        model = train(make_model(name), train_x, train_y, args.epochs, args.seed)
        print(f"{name}: test accuracy {accuracy(model, test_x, test_y):.4f}")
        ours = attack_batched(model, x, target, schedule, args.batch_size)
        baseline = attack_scipy(model, x, target, schedule)
        table.append((name, matmul_flops_per_evaluation(model), ours, baseline))

    print()
    print(
        "| model | method | mean dist | median dist | success | wall s | cpu s "
        "| evals/example | model GFLOP/s (% of matmul) |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for name, flops_per_evaluation, *outcomes in table:
        methods = ("batched L-BFGS (ours)", "scipy one-problem")
        for method, outcome in zip(methods, outcomes, strict=True):
            successful = outcome.distortion[outcome.success]
            flops = flops_per_evaluation * outcome.evaluations / outcome.seconds
            print(
                f"| {name} | {method} | {successful.mean():.4f} | {successful.median():.4f} "
                f"| {outcome.success.float().mean():.1%} | {outcome.seconds:.1f} "
                f"| {outcome.cpu_seconds:.1f} | {outcome.evaluations / args.n:.0f} "
                f"| {flops / 1e9:.3f} ({flops / peak:.2%}) |"
            )
    print()
    for name, _, ours, baseline in table:
        both = ours.success & baseline.success
        ratio = ours.distortion[both].mean() / baseline.distortion[both].mean()
        without_setup = baseline.seconds - baseline.setup_seconds
        print(
            f"{name}: mean distortion ours / scipy = {ratio:.4f} (on the {int(both.sum())} "
            f"examples both attacks broke); speed-up {baseline.seconds / ours.seconds:.1f}x wall, "
            f"{baseline.cpu_seconds / ours.cpu_seconds:.1f}x cpu, "
            f"{without_setup / ours.seconds:.1f}x wall against scipy without its "
            f"{baseline.setup_seconds:.1f} s of per-call set-up (timed separately)"
        )
    print("Note: foolbox is not installed; foolbox C&W / DDN comparisons are not included yet.")


if __name__ == "__main__":
    main()

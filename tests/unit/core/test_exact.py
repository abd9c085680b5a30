"""Tests of the exact minimal distortion of affine classifiers (intriguing.core.exact)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.optimize import linprog, minimize
from torch import Tensor, nn

import intriguing.core.exact as exact
from intriguing.core.attack import minimal_adversarial
from intriguing.core.distortion import distortion
from intriguing.core.exact import exact_minimal_distortion, linear_map
from intriguing.core.models import build_model
from intriguing.plan.specs import ModelSpec

PIXELS = 784
CLASSES = 10


# tiny problems: on a busy 2-core machine thread hand-offs would dominate
pytestmark = pytest.mark.usefixtures("single_thread")


def random_problem(
    pixels: int, classes: int, count: int, seed: int, weight_scale: float = 1.0
) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """Random (W, b, x, target) in float64; x has many pixels exactly at 0 or 1, like digits."""
    generator = torch.Generator().manual_seed(seed)
    weight = weight_scale * torch.randn(classes, pixels, generator=generator, dtype=torch.float64)
    bias = 0.1 * torch.randn(classes, generator=generator, dtype=torch.float64)
    uniform = torch.rand(count, pixels, generator=generator, dtype=torch.float64)
    x = (1.6 * uniform - 0.6).clamp(0, 1)
    predicted = (x @ weight.T + bias).argmax(dim=1)
    target = (predicted + torch.randint(1, classes, (count,), generator=generator)) % classes
    return weight, bias, x, target


def target_margins(weight: Tensor, bias: Tensor, x: Tensor, target: Tensor) -> Tensor:
    """min_j logit_target - logit_j over j != target (>= 0: classified as target)."""
    logits = x.flatten(1) @ weight.T + bias
    gaps = logits.gather(1, target[:, None]) - logits
    return gaps.scatter(1, target[:, None], torch.inf).min(dim=1).values


def slsqp_distortion(weight: Tensor, bias: Tensor, x: Tensor, label: int) -> float:
    """The QP solved by scipy's SLSQP for one example, in the paper's units."""
    w, b, x0 = weight.numpy(), bias.numpy(), x.numpy()
    rows = w[label] - np.delete(w, label, axis=0)
    offsets = b[label] - np.delete(b, label)
    result = minimize(
        lambda r: r @ r,
        np.zeros_like(x0),
        jac=lambda r: 2 * r,
        method="SLSQP",
        bounds=list(zip(-x0, 1 - x0, strict=True)),
        constraints=[
            {"type": "ineq", "fun": lambda r: rows @ (x0 + r) + offsets, "jac": lambda r: rows}
        ],
        options={"ftol": 1e-14, "maxiter": 1000},
    )
    assert (rows @ (x0 + result.x) + offsets).min() > -1e-9
    return float(np.sqrt(result.fun / x0.size))


@pytest.mark.parametrize("classes", [3, 10])
def test_matches_scipy_slsqp(classes: int) -> None:
    weight, bias, x, target = random_problem(20, classes, 6, seed=classes)
    result = exact_minimal_distortion(weight, bias, x, target, tolerance=1e-10)
    assert result.feasible.all() and (result.distortion > 0).all()
    for example in range(len(x)):
        expected = slsqp_distortion(weight, bias, x[example], int(target[example]))
        assert result.distortion[example].item() == pytest.approx(expected, rel=1e-6)


def test_primal_point_is_feasible_and_bound_is_tight() -> None:
    weight, bias, x, target = random_problem(PIXELS, CLASSES, 32, seed=1, weight_scale=0.05)
    images = x.view(-1, 1, 28, 28)
    result = exact_minimal_distortion(weight, bias, images, target)
    assert result.x_adv.shape == images.shape and result.x_adv.dtype == torch.float64
    assert result.x_adv.min() >= 0 and result.x_adv.max() <= 1
    assert result.feasible.all()
    assert (target_margins(weight, bias, result.x_adv, target) >= -1e-9).all()
    torch.testing.assert_close(result.distortion, distortion(images, result.x_adv))
    assert (result.lower_bound <= result.distortion).all()
    assert (result.distortion <= (1 + 1e-6) * result.lower_bound).all()
    assert (result.iterations >= 1).all() and (result.iterations < 50).all()


def test_unreachable_target_is_infeasible() -> None:
    weight, bias, x, target = random_problem(20, 4, 6, seed=2)
    weight[0], bias[0] = 0.0, -10.0  # class 0 never wins: class 1 below has logit 0 > -10
    weight[1], bias[1] = 0.0, 0.0
    weight[2, :], bias[2] = 0.1, -100.0  # class 2 reaches at most 2 - 100: never above class 1
    target = torch.tensor([0, 2, 3, 0, 2, 3])
    result = exact_minimal_distortion(weight, bias, x, target)
    unreachable = target != 3
    assert torch.equal(result.feasible, ~unreachable)
    assert torch.isinf(result.distortion[unreachable]).all()
    assert torch.isinf(result.lower_bound[unreachable]).all()
    assert torch.equal(result.x_adv[unreachable], x[unreachable])
    reachable = exact_minimal_distortion(weight, bias, x[~unreachable], target[~unreachable])
    torch.testing.assert_close(result.distortion[~unreachable], reachable.distortion)


def test_reachability_matches_a_linear_programme() -> None:
    """Reachable iff max over the box of the least target margin is >= 0 (scipy's linprog)."""
    weight, bias, x, target = random_problem(20, 10, 40, seed=3)
    bias = bias * 40  # spread the classes so that many targets cannot win anywhere in the box
    result = exact_minimal_distortion(weight, bias, x, target)
    for example in range(len(x)):
        label = int(target[example])
        rows = (weight[label] - weight).numpy()
        offsets = (bias[label] - bias).numpy()
        others = np.arange(10) != label
        # maximise s subject to rows z + offsets >= s, z in [0, 1]^20: variables (z, s).
        program = linprog(
            c=np.r_[np.zeros(20), -1.0],
            A_ub=np.c_[-rows[others], np.ones(9)],
            b_ub=offsets[others],
            bounds=[(0, 1)] * 20 + [(None, None)],
        )
        assert program.status == 0
        assert bool(result.feasible[example]) == (-program.fun >= 0)
    unreachable = ~result.feasible
    assert 5 <= unreachable.sum() <= 35  # both kinds are exercised
    assert torch.isinf(result.distortion[unreachable]).all()


def test_already_target_has_zero_distortion() -> None:
    weight, bias, x, _ = random_problem(20, 10, 5, seed=4)
    target = (x @ weight.T + bias).argmax(dim=1)
    result = exact_minimal_distortion(weight, bias, x, target)
    assert result.feasible.all()
    assert torch.equal(result.distortion, torch.zeros(5, dtype=torch.float64))
    assert torch.equal(result.lower_bound, torch.zeros(5, dtype=torch.float64))
    assert torch.equal(result.x_adv, x) and torch.equal(result.iterations, torch.zeros(5).long())


def test_chunks_and_float32_inputs_give_the_same_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    weight, bias, x, target = random_problem(50, 10, 7, seed=5)
    x = x.float()
    whole = exact_minimal_distortion(weight.float(), bias.float(), x, target)
    monkeypatch.setattr(exact, "_CHUNK", 3)
    chunked = exact_minimal_distortion(weight.float(), bias.float(), x, target)
    torch.testing.assert_close(chunked.distortion, whole.distortion, rtol=1e-12, atol=0)
    assert whole.distortion.dtype == torch.float64 and whole.feasible.all()
    empty = exact_minimal_distortion(weight, bias, x[:0], target[:0])
    assert empty.distortion.shape == (0,) and empty.x_adv.shape == (0, 50)


def softmax_spec(hidden: tuple[int, ...] = (), dropout: float = 0.0) -> ModelSpec:
    decays = (1e-4,) * (len(hidden) + 1)
    return ModelSpec(
        name="m", arch="mlp", weight_decay=decays, train_set="all", optimizer="lbfgs",
        hidden=hidden, dropout=dropout,
    )  # fmt: skip


def test_linear_map_of_models() -> None:
    for spec in (softmax_spec(), softmax_spec(dropout=0.5)):
        model = build_model(spec).eval()
        mapped = linear_map(model)
        assert mapped is not None
        weight, bias = mapped
        assert weight.shape == (CLASSES, PIXELS) and bias.shape == (CLASSES,)
        images = torch.rand(3, 1, 28, 28)
        torch.testing.assert_close(images.flatten(1) @ weight.T + bias, model(images))
    assert linear_map(build_model(softmax_spec(hidden=(100,)))) is None
    assert linear_map(nn.Sequential(nn.Flatten(), nn.Linear(4, 3), nn.Linear(3, 2))) is None
    assert linear_map(nn.Sequential(nn.Flatten(), nn.Linear(4, 3), nn.ReLU())) is None
    assert linear_map(nn.Sequential(nn.Flatten(0), nn.Linear(4, 3))) is None
    weight, bias = linear_map(nn.Linear(4, 3, bias=False))  # type: ignore[misc]
    assert torch.equal(bias, torch.zeros(3))


def test_exact_is_never_above_the_attack() -> None:
    """784 pixels, 10 classes: the L-BFGS attack's points are never closer than the optimum."""
    weight, bias, x, target = random_problem(PIXELS, CLASSES, 64, seed=6, weight_scale=0.05)
    model = nn.Sequential(nn.Flatten(), nn.Linear(PIXELS, CLASSES)).double().eval()
    with torch.no_grad():
        model[1].weight.copy_(weight)
        model[1].bias.copy_(bias)
    model.requires_grad_(False)
    images = x.view(-1, 1, 28, 28)
    attack = minimal_adversarial(model, images, target)
    result = exact_minimal_distortion(*linear_map(model), images, target)  # type: ignore[misc]
    assert attack.success.all() and result.feasible.all()
    assert (result.distortion <= attack.distortion + 1e-6).all()
    assert (result.distortion > 0).all()


def test_the_adversarial_rules_certificate_compares_the_attack_with_the_exact_minimum():
    from intriguing.adversarial.step import exact_certificate

    generator = torch.Generator().manual_seed(3)
    model = nn.Sequential(nn.Flatten(), nn.Linear(PIXELS, CLASSES))
    with torch.no_grad():
        model[1].weight.copy_(0.05 * torch.randn(CLASSES, PIXELS, generator=generator))
    model.requires_grad_(False)
    images = torch.rand(16, 1, 28, 28, generator=generator)
    target = (model(images).argmax(dim=1) + 1) % CLASSES
    attack = minimal_adversarial(model, images, target)
    certificate = exact_certificate(
        linear_map(model), images, target, attack.success, attack.distortion
    )
    assert certificate["n"] == int(attack.success.sum()) and certificate["unreachable"] == 0
    assert 1 - 1e-6 <= certificate["ratio_of_means"] <= certificate["max_ratio"]
    assert certificate["attack_mean_distortion"] == pytest.approx(
        float(attack.distortion[attack.success].double().mean())
    )
    assert certificate["max_relative_gap"] <= 1e-6

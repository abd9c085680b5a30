"""Observed gains of perturbations layer by layer, against known values and the frame bounds."""

import pytest
import torch
from torch import nn

from conftest import CONV
from intriguing.core.models import ModelSpec, build_model
from intriguing.instability.gains import compare_with_bounds, layer_blocks, observed_gains
from intriguing.report.instability import instability_section
from intriguing.spectral.layers import network_frame_bounds


def orthogonal(size: int, seed: int) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    q, _ = torch.linalg.qr(torch.randn(size, size, generator=generator, dtype=torch.float64))
    return q


def scaled_orthogonal_network(scales: list[float], size: int = 6) -> nn.Sequential:
    """Flatten, then linear layers s·Q (Q orthogonal, random bias): every gain is exactly s."""
    layers: list[nn.Module] = [nn.Flatten()]
    for index, scale in enumerate(scales):
        linear = nn.Linear(size, size)
        with torch.no_grad():
            linear.weight.copy_(scale * orthogonal(size, seed=index))
            linear.bias.normal_()
        layers.append(linear)
    return nn.Sequential(*layers)


def random_pairs(
    count: int, shape: tuple[int, ...], seed: int
) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    x = torch.rand(count, *shape, generator=generator)
    x_adv = (x + 0.1 * torch.randn(count, *shape, generator=generator)).clamp(0, 1)
    return x, x_adv


def test_gains_of_scaled_orthogonal_layers_are_their_scales():
    model = scaled_orthogonal_network([2.0, 0.5, 3.0])
    x, x_adv = random_pairs(5, (2, 3), seed=0)
    gains = observed_gains(model, x, x_adv)
    assert gains.layers == ["1", "2", "3"]
    expected = torch.tensor([2.0, 0.5, 3.0], dtype=torch.float64).expand(5, 3)
    torch.testing.assert_close(gains.per_layer, expected)
    torch.testing.assert_close(gains.cumulative, expected.cumprod(dim=1))


def test_gain_along_the_top_singular_vector_reaches_the_bound():
    model = nn.Sequential(nn.Linear(4, 3))
    with torch.no_grad():
        model[0].weight.copy_(torch.randn(3, 4, generator=torch.Generator().manual_seed(1)))
    _, singular_values, right = torch.linalg.svd(model[0].weight.double())
    x = torch.full((1, 4), 0.5)
    gains = observed_gains(model, x, x + 0.01 * right[0].float())
    rows = compare_with_bounds(gains, ["0"], [singular_values[0].item()])
    assert rows[0]["gain"]["max"] == pytest.approx(singular_values[0].item(), rel=1e-6)
    assert rows[0]["looseness"] == pytest.approx(1.0, rel=1e-6)


@pytest.mark.parametrize(
    "entry",
    [
        {"arch": "mlp", "hidden": [30, 20], "activation": "sigmoid"},
        {"arch": "mlp", "hidden": [30], "activation": "relu"},
        CONV,
    ],
)
def test_observed_gains_never_exceed_the_frame_bounds(entry):
    layers = len(entry["hidden"]) + 1 + (entry["arch"] == "conv")
    spec = ModelSpec.from_params(
        "net", {"weight_decay": [0.0] * layers, "train_set": "all", "optimizer": "adam", **entry}
    )
    torch.manual_seed(0)
    model = build_model(spec).eval()
    bounds = network_frame_bounds(model, (1, 28, 28))
    x, x_adv = random_pairs(64, (1, 28, 28), seed=2)
    gains = observed_gains(model, x, x_adv, batch_size=16)
    rows = compare_with_bounds(gains, [r.name for r in bounds.rows], [r.upper for r in bounds.rows])
    assert len(rows) == layers
    for column, row in enumerate(rows):
        assert row["gain"]["n"] == 64
        assert (gains.per_layer[:, column] <= row["upper"] * (1 + 1e-6)).all()
        assert (gains.cumulative[:, column] <= row["upper_product"] * (1 + 1e-6)).all()
        assert row["looseness"] >= 1 and row["cumulative_looseness"] >= 1
    assert rows[-1]["upper_product"] == pytest.approx(bounds.lipschitz_upper_bound)


def test_blocks_end_before_the_next_weight_layer():
    blocks = layer_blocks(build_model(ModelSpec.from_params("conv", CONV)))
    assert [name for name, _ in blocks] == ["layers.0", "layers.4", "layers.7"]
    kinds = [[type(m).__name__ for m in block] for _, block in blocks]
    assert kinds == [
        ["Conv2d", "ReLU", "MaxPool2d", "Flatten"],
        ["Linear", "ReLU", "Dropout"],
        ["Linear"],
    ]


def test_bad_inputs_are_refused():
    model = scaled_orthogonal_network([1.0])
    x, x_adv = random_pairs(3, (6,), seed=0)
    with pytest.raises(ValueError, match="no perturbation"):
        observed_gains(model, x, torch.cat([x_adv[:2], x[2:]]))
    with pytest.raises(ValueError, match="shape"):
        observed_gains(model, x, x_adv[:2])
    with pytest.raises(ValueError, match="frame bounds are for layers"):
        compare_with_bounds(observed_gains(model, x, x_adv), ["layers.1"], [1.0])
    with pytest.raises(TypeError, match="nn.Sequential"):
        layer_blocks(nn.Linear(2, 2))


def test_report_section_states_the_looseness(tmp_path):
    model = scaled_orthogonal_network([2.0, 0.5])
    x, x_adv = random_pairs(4, (6,), seed=1)
    rows = compare_with_bounds(observed_gains(model, x, x_adv), ["1", "2"], [4.0, 1.0])
    result = {
        "description": "two orthogonal layers",
        "sets": [{"split": "test", "n": 5, "used": 4}],
        "n": 4,
        "mean_distortion": 0.05,
        "rows": rows,
        "lipschitz_upper_bound": 4.0,
        "network_gain_max": rows[-1]["cumulative_gain"]["max"],
        "network_looseness": rows[-1]["cumulative_looseness"],
    }
    figure = tmp_path / "figures" / "toy.png"
    text = instability_section({"toy": result}, {"toy": str(figure)}, tmp_path)
    assert rows[0]["looseness"] == pytest.approx(2.0) and rows[1]["looseness"] == pytest.approx(2.0)
    assert result["network_looseness"] == pytest.approx(4.0)
    assert "every observed gain lies below its bound" in text
    assert "by 4× (toy) to 4× (toy)" in text and "2× to 2× above" in text
    assert "| toy | two orthogonal layers | test (4 of 5) | 0.0500 | 4 | 1 | 4× |" in text
    assert "![toy: observed gains and frame bounds per layer](figures/toy.png)" in text
    assert "Not run" in instability_section({}, {}, tmp_path)

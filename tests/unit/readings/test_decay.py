"""The weight-decay readings' measurements: exact distortions per target policy, paper rows,
each reading's coefficient and the ledger's rule that picks among the readings."""

import pytest
import torch

from intriguing.core.exact import exact_minimal_distortion, linear_map
from intriguing.core.models import ModelSpec, build_model, decay_coefficient
from intriguing.readings.decay import (
    decay_summary,
    exact_distortions,
    nearest_reading,
    paper_row,
)
from intriguing.reference import paper_reference

SOFTMAX = {"arch": "mlp", "hidden": [], "weight_decay": [1e-4], "train_set": "all"}


def _softmax() -> torch.nn.Module:
    torch.manual_seed(0)
    model = build_model(ModelSpec.from_params("softmax1", {**SOFTMAX, "optimizer": "lbfgs"}))
    with torch.no_grad():
        model.weight_layers[0].weight.mul_(5)
    return model.eval()


def test_closest_policy_takes_the_nearest_reachable_wrong_label():
    model = _softmax()
    x = torch.rand(6, 1, 28, 28, generator=torch.Generator().manual_seed(1))
    labels = model(x).argmax(dim=1)
    closest = exact_distortions(model, x, labels, "closest", seed=0)
    weight, bias = linear_map(model)
    per_target = torch.stack(
        [
            exact_minimal_distortion(weight, bias, x, (labels + shift) % 10).distortion
            for shift in range(1, 10)
        ]
    )
    torch.testing.assert_close(closest, per_target.min(dim=0).values)
    random = exact_distortions(model, x, labels, "random", seed=0)
    assert (random >= closest - 1e-12).all()


def test_a_network_with_hidden_layers_is_refused():
    spec = ModelSpec.from_params(
        "n", {**SOFTMAX, "hidden": [5], "weight_decay": [1e-5, 1e-6], "optimizer": "lbfgs"}
    )
    with pytest.raises(ValueError, match="linear"):
        exact_distortions(build_model(spec), torch.rand(2, 1, 28, 28), torch.zeros(2), "next", 0)


def test_rows_carry_the_papers_numbers():
    reference = paper_reference()
    paper = paper_row("softmax2", reference, [0.1, 0.3])
    assert paper["test_error"] == reference["table1"]["softmax2"]["test_error"]
    assert paper["noise_error"] == {"0.1": 0.101, "0.3": 0.113}
    summary = decay_summary(
        [{"model": "softmax2", "reading": "mean_output"}], "mean_output", reference, [0.1, 0.3], 1.0
    )
    assert summary["default"] == "mean_output" and summary["rows"][0]["paper"] == paper


def _row(model: str, reading: str, train: float, test: float, distortion: float | None):
    """A measured row with the paper's numbers of `model` beside it."""
    return {
        "model": model,
        "reading": reading,
        "train_error": train,
        "test_error": test,
        "exact_distortion": distortion,
        "paper": paper_row(model, paper_reference(), []),
    }


def test_the_rule_picks_the_reading_nearest_the_paper_over_every_model():
    # paper: softmax1 6.7/7.4%, 0.062; softmax3 21.2/20%, 0.14
    rows = [
        _row("softmax1", "mean_output", 0.067, 0.074, 0.062),  # exact on softmax1
        _row("softmax3", "mean_output", 0.424, 0.20, 0.14),  # train error twice the paper's
        _row("softmax1", "half_mean_output", 0.0737, 0.074, 0.062),  # 10% off on one number
        _row("softmax3", "half_mean_output", 0.212, 0.20, 0.14),
    ]
    result = nearest_reading(rows, "mean_output")
    assert result["distances"] == pytest.approx({"mean_output": 1.0, "half_mean_output": 0.1})
    assert result["nearest"] == "half_mean_output"
    rows[1]["train_error"] = 0.212
    assert nearest_reading(rows, "half_mean_output")["nearest"] == "mean_output"


def test_an_exact_tie_keeps_the_reading_in_use():
    rows = [
        _row("softmax1", "mean_output", 0.067, 0.074, 0.062),
        _row("softmax1", "mean_example", 0.067, 0.074, 0.062),
    ]
    assert nearest_reading(rows, "mean_example")["nearest"] == "mean_example"
    assert nearest_reading(rows, "mean_output")["nearest"] == "mean_output"


def test_a_reading_with_a_missing_distortion_is_not_judged():
    rows = [
        _row("softmax1", "mean_output", 0.5, 0.5, 0.5),
        _row("softmax1", "mean_example", 0.067, 0.074, None),
    ]
    result = nearest_reading(rows, "mean_example")
    assert result["distances"]["mean_example"] is None and result["nearest"] == "mean_output"
    assert nearest_reading(rows[1:], "mean_example") == {
        "distances": {"mean_example": None},
        "nearest": None,
    }


def test_readings_measured_on_different_models_are_refused():
    rows = [
        _row("softmax1", "mean_output", 0.067, 0.074, 0.062),
        _row("softmax2", "mean_example", 0.1, 0.094, 0.1),
    ]
    with pytest.raises(ValueError, match="different models"):
        nearest_reading(rows, "mean_output")


def test_the_summary_applies_the_rule():
    summary = decay_summary(
        [
            {**_row("softmax1", "mean_output", 0.067, 0.074, 0.062), "paper": None},
            {**_row("softmax1", "mean_example", 0.07, 0.074, 0.05), "paper": None},
        ],
        "mean_example",
        paper_reference(),
        [0.1],
        1.0,
    )
    assert summary["nearest"] == "mean_output" and summary["distances"]["mean_output"] == 0


@pytest.mark.parametrize(
    ("reading", "coefficient"),
    [("mean_example", 1e-5), ("mean_output", 1e-4), ("half_mean_output", 5e-5)],
)
def test_each_reading_sets_its_per_weight_coefficient(reading, coefficient):
    assert decay_coefficient(1e-4, 10, reading) == pytest.approx(coefficient)
    with pytest.raises(ValueError, match="unknown weight-decay reading"):
        decay_coefficient(1e-4, 10, "half")

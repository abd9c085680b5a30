"""The weight-decay readings' measurements: exact distortions per target policy, paper rows."""

import pytest
import torch

from intriguing.adversarial.exact import exact_minimal_distortion, linear_map
from intriguing.readings.decay import decay_summary, exact_distortions, paper_row
from intriguing.reference import paper_reference
from intriguing.train.models import ModelSpec, build_model

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

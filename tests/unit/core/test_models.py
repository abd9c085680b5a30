"""Model registry specs, the paper's weight decay, checkpoints, and training."""

import math

import pytest
import torch
import yaml

from conftest import AUTOENCODER, CONV, ROOT
from intriguing.advtrain.pool import hidden_layer_kinds
from intriguing.core.models import (
    CheckpointMismatch,
    ModelSpec,
    build_model,
    constrain_norms,
    load_checkpoint,
    save_checkpoint,
    weight_decay_penalty,
)
from intriguing.core.optimize import NonFiniteError, TrainOptions, levelled_off, objective, train

N100 = {
    "arch": "mlp",
    "hidden": [100, 100],
    "weight_decay": [1e-5, 1e-5, 1e-6],
    "train_set": "all",
    "optimizer": "lbfgs",
}


def test_mlp_shapes_and_weight_layers():
    model = build_model(ModelSpec.from_params("n100", N100))
    assert model(torch.rand(5, 1, 28, 28)).shape == (5, 10)
    assert [tuple(layer.weight.shape) for layer in model.weight_layers] == [
        (100, 784),
        (100, 100),
        (10, 100),
    ]


@pytest.mark.parametrize(
    ("reading", "scale"), [("mean_example", lambda units: 1 / units), ("mean_output", None)]
)
def test_weight_decay_is_lambda_sum_of_squares_over_units(reading, scale):
    """mean_example: λΣw²/k; mean_output: λ·10/k·Σw² (the softmax output layer: exactly λΣw²)."""
    per_unit = scale or (lambda units: 10 / units)
    spec = ModelSpec.from_params("n100", N100)
    model = build_model(spec)
    expected = sum(
        lam * (layer.weight**2).sum() * per_unit(layer.weight.shape[0])
        for layer, lam in zip(model.weight_layers, spec.weight_decay, strict=True)
    )
    torch.testing.assert_close(weight_decay_penalty(model, spec.weight_decay, reading), expected)
    with torch.no_grad():
        for layer in model.weight_layers:
            layer.weight.fill_(1.0)
            layer.bias.fill_(5.0)  # biases are not decayed
    penalty = weight_decay_penalty(model, spec.weight_decay, reading).item()
    unscaled = 1e-5 * 100 * 784 * per_unit(100) + 1e-5 * 100 * 100 * per_unit(100)
    assert penalty == pytest.approx(unscaled + 1e-6 * 10 * 100 * per_unit(10))


def test_unknown_decay_reading_is_rejected():
    spec = ModelSpec.from_params("n100", N100)
    with pytest.raises(ValueError, match="unknown weight-decay reading 'per_input'"):
        weight_decay_penalty(build_model(spec), spec.weight_decay, "per_input")


def test_wrong_number_of_decay_values_is_rejected():
    with pytest.raises(ValueError, match="3 weight layers"):
        build_model(ModelSpec.from_params("bad", {**N100, "weight_decay": [1e-5]}))


def test_checkpoint_with_other_spec_is_refused(tmp_path):
    spec = ModelSpec.from_params("n100", N100)
    save_checkpoint(tmp_path / "n100.pt", build_model(spec), spec, {"seed": 0})
    model, provenance = load_checkpoint(tmp_path / "n100.pt", spec)
    assert provenance == {"seed": 0}
    changed = ModelSpec.from_params("n100", {**N100, "weight_decay": [1e-4, 1e-5, 1e-6]})
    with pytest.raises(CheckpointMismatch, match="retrain"):
        load_checkpoint(tmp_path / "n100.pt", changed)


def test_checkpoint_without_a_spec_is_refused(tmp_path):
    """A model file in an older format (a bare state dict, no spec) is not silently used."""
    spec = ModelSpec.from_params("n100", N100)
    torch.save(build_model(spec).state_dict(), tmp_path / "n100.pt")
    with pytest.raises(CheckpointMismatch, match=r"n100\.pt: built from spec None"):
        load_checkpoint(tmp_path / "n100.pt", spec)


def test_checkpoint_saved_before_a_spec_field_existed_still_loads(tmp_path):
    """A spec stored without a field added later (here input_dropout, max_norm) stands for
    that field's default, so models trained before the field existed keep loading."""
    spec = ModelSpec.from_params("n100", N100)
    save_checkpoint(tmp_path / "n100.pt", build_model(spec), spec, {"seed": 0})
    payload = torch.load(tmp_path / "n100.pt", weights_only=True)
    for field in ("input_dropout", "max_norm"):
        del payload["spec"][field]
    torch.save(payload, tmp_path / "old.pt")
    load_checkpoint(tmp_path / "old.pt", spec)
    with pytest.raises(CheckpointMismatch):
        load_checkpoint(tmp_path / "old.pt", ModelSpec.from_params("n100", {**N100, "max_norm": 3}))


def test_dropout_on_the_input_and_after_every_hidden_layer():
    spec = ModelSpec.from_params("n100", {**N100, "dropout": 0.5, "input_dropout": 0.2})
    kinds = [type(layer).__name__ for layer in build_model(spec).layers]
    assert kinds == [
        "Flatten",
        "Dropout",
        "Linear",
        "Sigmoid",
        "Dropout",
        "Linear",
        "Sigmoid",
        "Dropout",
        "Linear",
    ]
    assert spec.describe() == (
        "784 → dropout 0.2 → 100 → dropout 0.5 → 100 → dropout 0.5 → 10 softmax (sigmoid)"
    )
    plain = ModelSpec.from_params("n100", N100)
    assert plain.describe() == "784 → 100 → 100 → 10 softmax (sigmoid)"
    assert [type(layer).__name__ for layer in build_model(plain).layers] == [
        "Flatten",
        "Linear",
        "Sigmoid",
        "Linear",
        "Sigmoid",
        "Linear",
    ]


def test_max_norm_caps_every_units_incoming_weights():
    spec = ModelSpec.from_params("n100", {**N100, "optimizer": "adam", "max_norm": 0.5})
    torch.manual_seed(0)
    model = build_model(spec)
    with torch.no_grad():
        model.weight_layers[0].weight[:3] *= 100  # three units far over the cap
    small = model.weight_layers[2].weight.detach().clone() * 0.01
    with torch.no_grad():
        model.weight_layers[2].weight.copy_(small)
    constrain_norms(model, spec.max_norm)
    norms = model.weight_layers[0].weight.norm(dim=1)
    assert norms.max().item() == pytest.approx(0.5, rel=1e-5)
    assert torch.equal(model.weight_layers[2].weight, small)  # under the cap: untouched
    x, y = _toy_data()
    train(model, spec, x, y, TrainOptions(adam_epochs=2, lbfgs_iterations=0, batch_size=32))
    assert all(layer.weight.norm(dim=1).max() <= 0.5 + 1e-5 for layer in model.weight_layers)
    with pytest.raises(ValueError, match="max_norm"):
        lbfgs = ModelSpec.from_params("n100", {**N100, "max_norm": 0.5})
        train(build_model(lbfgs), lbfgs, x, y, TrainOptions(adam_epochs=0, lbfgs_iterations=1))


def _toy_data(seed: int = 0):
    """Noise images whose label is marked by one bright pixel in the first row."""
    generator = torch.Generator().manual_seed(seed)
    y = torch.randint(0, 10, (256,), generator=generator)
    x = 0.3 * torch.rand(256, 1, 28, 28, generator=generator)
    x[torch.arange(256), 0, 0, y] = 1.0
    return x, y


@pytest.mark.parametrize("optimizer", ["lbfgs", "adam", "adam_lbfgs"])
def test_training_lowers_the_loss_and_is_reproducible(optimizer):
    x, y = _toy_data()
    spec = ModelSpec.from_params(
        "toy", {**N100, "hidden": [], "weight_decay": [1e-4], "optimizer": optimizer}
    )
    options = TrainOptions(adam_epochs=3, lbfgs_iterations=15, batch_size=32, adam_lr=0.01)
    results, weights = [], []
    for _ in range(2):
        torch.manual_seed(0)
        model = build_model(spec)
        initial_loss = objective(model, spec, x, y, options.decay_reading).item()
        results.append(train(model, spec, x, y, options))
        weights.append(model.weight_layers[0].weight.detach().clone())
    assert results[0].final_loss < 0.9 * initial_loss
    assert results[0].final_loss == results[1].final_loss
    assert torch.equal(weights[0], weights[1])


@pytest.mark.parametrize(
    ("optimizer", "bad_value", "step", "options"),
    [
        ("adam", math.nan, "adam step 1", TrainOptions(adam_epochs=1, lbfgs_iterations=0)),
        (
            "lbfgs",
            math.inf,
            "lbfgs evaluation step 1",
            TrainOptions(adam_epochs=0, lbfgs_iterations=5),
        ),
    ],
)
def test_non_finite_loss_names_model_and_step(optimizer, bad_value, step, options):
    """A NaN or an infinity in the data stops training at the first step it reaches, naming the
    model, the optimizer and the step."""
    x, y = _toy_data()
    x[3, 0, 3, 3] = bad_value
    spec = ModelSpec.from_params("n100", {**N100, "optimizer": optimizer})
    with pytest.raises(NonFiniteError, match=rf"model n100: non-finite .* {step}"):
        train(build_model(spec), spec, x, y, options)


def test_conv_is_conv_pool_fc_dropout_softmax():
    model = build_model(ModelSpec.from_params("conv", CONV))
    kinds = [type(layer).__name__ for layer in model.layers]
    assert kinds == [
        "Conv2d",
        "ReLU",
        "MaxPool2d",
        "Flatten",
        "Linear",
        "ReLU",
        "Dropout",
        "Linear",
    ]
    assert model.weight_layers[1].in_features == 4 * 12 * 12
    assert model(torch.rand(3, 1, 28, 28)).shape == (3, 10)


def test_autoencoder_is_pretrained_then_frozen():
    x, y = _toy_data()
    spec = ModelSpec.from_params("ae", AUTOENCODER)
    torch.manual_seed(0)
    model = build_model(spec)
    encoder, top = model.weight_layers
    initial = encoder.weight.detach().clone()
    options = TrainOptions(adam_epochs=0, lbfgs_iterations=20, pretrain_epochs=2, batch_size=32)
    pretrained = {}

    def remember_frozen_weight(module, inputs, output):
        if not module.weight.requires_grad:
            pretrained.setdefault("weight", module.weight.detach().clone())

    encoder.register_forward_hook(remember_frozen_weight)
    result = train(model, spec, x, y, options)
    assert result.pretrain_steps == 2 * 8 and result.lbfgs_iterations > 0
    assert not torch.equal(encoder.weight, initial)  # the unsupervised phase trained it
    assert torch.equal(encoder.weight, pretrained["weight"])  # the supervised phase did not
    assert not encoder.weight.requires_grad and top.weight.requires_grad
    assert weight_decay_penalty(model, spec.weight_decay, "mean_output").item() == pytest.approx(
        1e-6 * top.weight.pow(2).sum().item()
    )


def test_spec_names_the_hidden_layers_build_model_makes():
    """params.yaml's pool levels are checked from the spec alone (no torch at planning time):
    the spec's hidden layers must be the built model's, for every registry model."""
    registry = yaml.safe_load((ROOT / "params.yaml").read_text())["models"]
    for name, entry in registry.items():
        spec = ModelSpec.from_params(name, entry)
        assert spec.hidden_layer_kinds() == hidden_layer_kinds(build_model(spec)), name


def test_levelled_off_compares_the_relative_decrease():
    assert not levelled_off(None, 1.0, 0.01)  # nothing to compare with yet
    assert levelled_off(1.005, 1.0, 0.01) and not levelled_off(1.02, 1.0, 0.01)
    assert not levelled_off(1.0, 1.0, 0.0)  # a zero tolerance never stops


def test_lbfgs_stops_on_the_relative_change_or_runs_its_budget():
    x, y = _toy_data()
    spec = ModelSpec.from_params("toy", {**N100, "hidden": [], "weight_decay": [1e-4]})
    loose = TrainOptions(
        adam_epochs=0, lbfgs_iterations=400, tolerance_relative=0.2, tolerance_window=5
    )
    result = train(build_model(spec), spec, x, y, loose)
    assert result.stop_reason == "converged (relative change)"
    assert result.lbfgs_iterations < 400 and result.lbfgs_iterations % 5 == 0
    capped = TrainOptions(adam_epochs=0, lbfgs_iterations=12, tolerance_window=5)
    result = train(build_model(spec), spec, x, y, capped)
    assert (result.stop_reason, result.lbfgs_iterations) == ("iteration budget", 12)


def test_adam_alone_and_the_autoencoder_stop_when_their_loss_levels_off():
    x, y = _toy_data()
    spec = ModelSpec.from_params(
        "toy", {**N100, "hidden": [8], "weight_decay": [1e-5, 1e-6], "optimizer": "adam"}
    )
    options = TrainOptions(
        adam_epochs=40, lbfgs_iterations=0, batch_size=64, tolerance_relative=0.3
    )
    result = train(build_model(spec), spec, x, y, options)
    assert result.stop_reason == "converged (relative change)" and result.adam_epochs_run < 40
    assert result.adam_steps == 4 * result.adam_epochs_run
    autoencoder = ModelSpec.from_params("ae", AUTOENCODER)
    options = TrainOptions(
        adam_epochs=0,
        lbfgs_iterations=5,
        pretrain_epochs=40,
        batch_size=64,
        tolerance_relative=0.3,
    )
    result = train(build_model(autoencoder), autoencoder, x, y, options)
    assert result.pretrain_stop_reason == "converged (relative change)"
    assert 1 < result.pretrain_epochs_run < 40

"""params.yaml: profile resolution, cross-key checks, and schema rejection (that they stop
Snakemake before any job: tests/workflow/test_params_checks.py)."""

import copy
import subprocess
import sys

import pytest
import yaml
from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

from conftest import ROOT
from intriguing.plan.params import (
    ParamsError,
    advtrain_run_settings,
    check_params,
    model_options,
    resolve_profile,
)

PARAMS = yaml.safe_load((ROOT / "params.yaml").read_text())


def test_profile_block_is_merged_into_sections():
    settings = resolve_profile({**PARAMS, "profile": "smoke"})
    smoke = PARAMS["profiles"]["smoke"]
    assert settings["train"]["lbfgs_iterations"] == smoke["train"]["lbfgs_iterations"]
    assert settings["data"]["train_limit"] == smoke["data"]["train_limit"]
    assert settings["train"]["adam_lr"] == PARAMS["train"]["adam_lr"]
    assert "profiles" not in settings


def test_a_budget_can_differ_per_model():
    train = {"models": ["a"], "adam_epochs": {"default": 10, "conv": 3}, "adam_lr": 0.1}
    assert model_options(train, "conv") == {"adam_epochs": 3, "adam_lr": 0.1}
    assert model_options(train, "n100") == {"adam_epochs": 10, "adam_lr": 0.1}
    params = copy.deepcopy(PARAMS)
    params["profiles"]["smoke"]["train"]["adam_epochs"] = {"default": 1, "resnet": 2}
    with pytest.raises(ParamsError, match=r"profiles\.smoke\.train\.adam_epochs\.resnet"):
        check_params(params)


def test_an_advtrain_run_reads_its_own_epochs_and_the_pool_only_with_a_pool():
    settings = resolve_profile({**PARAMS, "profile": "default"})
    epochs = PARAMS["profiles"]["default"]["advtrain"]["epochs"]
    baseline = advtrain_run_settings(settings, "n100_dropout")
    pool = advtrain_run_settings(settings, "n100_adv_input")
    assert baseline["epochs"] == epochs["n100_dropout"] != epochs["default"] == pool["epochs"]
    assert "pool" not in baseline
    assert baseline["decay_reading"] == PARAMS["train"]["decay_reading"]
    overrides = PARAMS["advtrain"].get("pool_overrides", {})
    for model in PARAMS["advtrain"]["pool_levels"]:
        expected = {**PARAMS["advtrain"]["pool"], **overrides.get(model, {})}
        assert advtrain_run_settings(settings, model)["pool"] == expected
    params = copy.deepcopy(PARAMS)
    params["advtrain"]["pool_overrides"] = {"n100_wd": {"mix_ratio": 0.1}}
    with pytest.raises(ParamsError, match=r"advtrain\.pool_overrides\.n100_wd: not a pool"):
        check_params(params)
    params = copy.deepcopy(PARAMS)
    params["profiles"]["default"]["advtrain"]["epochs"] = {"default": 5, "n300_wd": 2}
    with pytest.raises(ParamsError, match=r"profiles\.default\.advtrain\.epochs\.n300_wd"):
        check_params(params)


def test_a_key_set_twice_is_rejected():
    params = copy.deepcopy(PARAMS)
    params["train"]["lbfgs_iterations"] = 3
    with pytest.raises(ParamsError, match=r"profiles\.\w+\.train\.lbfgs_iterations"):
        resolve_profile(params)


def test_unknown_model_in_train_models_names_key_and_allowed_values():
    params = copy.deepcopy(PARAMS)
    params["train"]["models"] = ["softmax1", "resnet50"]
    with pytest.raises(
        ParamsError, match=r"train\.models\[1\]: unknown model 'resnet50'.*softmax1"
    ):
        check_params(params)


def test_attacked_model_must_be_trained():
    params = copy.deepcopy(PARAMS)
    params["train"]["models"], params["train"]["replicated_models"] = ["softmax1"], []
    with pytest.raises(
        ParamsError, match=r"adversarial\.table2_models\[1\]: model 'softmax2' is not"
    ):
        check_params(params)


def test_a_replicated_model_must_be_trained():
    params = copy.deepcopy(PARAMS)
    params["train"]["replicated_models"] = ["n100", "n100_wd"]
    with pytest.raises(ParamsError, match=r"train\.replicated_models\[1\]: model 'n100_wd' is not"):
        check_params(params)


def test_a_model_may_not_be_named_like_a_replicate():
    params = copy.deepcopy(PARAMS)
    params["models"]["n100_rep2"] = params["models"]["n100"]
    with pytest.raises(ParamsError, match=r"models\.n100_rep2: .*replicate 2 of model 'n100'"):
        check_params(params)


def test_the_replicate_keys_are_no_training_option():
    train = {"models": ["a"], "replicated_models": ["a"], "replicates": 3, "adam_lr": 0.1}
    assert model_options(train, "a") == {"adam_lr": 0.1}


def spectral_models(params, train, spectral):
    params["train"]["models"], params["spectral"]["mnist_models"] = train, spectral
    for key in ("table2_models", "table4_models"):
        params["adversarial"][key] = [m for m in params["adversarial"][key] if m in train]


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (
            lambda p: spectral_models(p, p["train"]["models"], ["conv", "lenet5"]),
            r"spectral\.mnist_models\[1\]: unknown model 'lenet5'; allowed .*softmax1",
        ),
        (
            lambda p: spectral_models(p, ["softmax1"], ["softmax1", "conv"]),
            r"spectral\.mnist_models\[1\]: model 'conv' is not in train\.models",
        ),
        (
            lambda p: p["models"].update(alexnet_original=p["models"]["softmax1"]),
            r"models\.alexnet_original: the name is taken",
        ),
    ],
    ids=["unknown spectral model", "spectral model not trained", "AlexNet name taken"],
)
def test_spectral_cross_key_checks(mutate, expected):
    params = copy.deepcopy(PARAMS)
    mutate(params)
    with pytest.raises(ParamsError, match=expected):
        check_params(params)


def test_weight_decay_length_must_match_layers():
    params = copy.deepcopy(PARAMS)
    params["models"]["softmax1"]["weight_decay"] = [1e-4, 1e-4]
    with pytest.raises(ParamsError, match=r"models\.softmax1\.weight_decay: 2 values for 1"):
        check_params(params)


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda p: p.update(learning_rate=0.1), "'learning_rate' was unexpected"),
        (lambda p: p["train"].update(batch_size="big"), "['train']['batch_size']"),
        (lambda p: p["profiles"]["smoke"]["data"].update(train_limit=-5), "['train_limit']"),
        (
            lambda p: p["models"]["softmax1"].update(arch="resnet"),
            "'resnet' is not one of ['mlp', 'autoencoder', 'conv']",
        ),
        (lambda p: p["models"]["n100"].update(hidden=[100, "x"]), "['hidden'][1]"),
        (lambda p: p["models"]["n100"].update(hidden=[100, 0]), "0 is less than the minimum of 1"),
        (lambda p: p.update(profile="huge"), "'huge' is not one of ['smoke', 'default', 'full']"),
        (lambda p: p["train"].update(models=["nope"]), "train.models[0]: unknown model 'nope'"),
        (
            lambda p: p["adversarial"].update(table4_models=["m9"]),
            "adversarial.table4_models[0]: unknown model 'm9'",
        ),
        (
            lambda p: p["spectral"].update(mnist_models=["nope"]),
            "spectral.mnist_models[0]: unknown model 'nope'",
        ),
        (
            lambda p: p["profiles"]["smoke"]["spectral"].update(alexnet_input_size=32),
            "['alexnet_input_size']",
        ),
        (lambda p: p["transfer"].update(table2_noise=[0.1, -0.3]), "['table2_noise'][1]"),
        (
            lambda p: p["transfer"].update(figure7_models=["m1"]),
            "transfer.figure7_models[0]: model 'm1' is not in adversarial.table2_models",
        ),
        (
            lambda p: p["profiles"]["full"]["adversarial"].update(test_samples=-1),
            "{'type': 'integer', 'minimum': 1}, {'type': 'null'}]}\n\n"
            "On instance['profiles']['full']['adversarial']['test_samples']",
        ),
        (
            lambda p: p["models"]["m1"].update(activation="swish"),
            "'swish' is not one of ['sigmoid', 'relu', 'tanh']",
        ),
        (lambda p: p.update(device="tpu"), "'tpu' is not one of ['auto', 'cpu', 'cuda']"),
        (lambda p: p.update(deterministic="yes"), "On instance['deterministic']"),
        (
            lambda p: p["adversarial"]["attack"].update(batch_size={"cpu": 1024, "gpu": 8}),
            "On instance['adversarial']['attack']['batch_size']",
        ),
    ],
    ids=[
        "unknown key",
        "wrong type",
        "negative size",
        "unknown arch",
        "malformed layer list",
        "empty layer",
        "unknown profile",
        "unknown model",
        "unknown attacked model",
        "unknown spectral model",
        "AlexNet input too small",
        "negative noise level",
        "Figure 7 model without a training-set adversarial set",
        "negative attack sample size",
        "unknown activation",
        "unknown device",
        "determinism not a boolean",
        "attack batch for an unknown device",
    ],
)
def test_bad_params_are_rejected_naming_the_key(mutate, expected):
    """What the Snakefile runs at start: the JSON schema, then the cross-key checks."""
    params = copy.deepcopy(PARAMS)
    mutate(params)
    with pytest.raises((WorkflowError, ParamsError)) as error:
        validate(params, str(ROOT / "workflow" / "schemas" / "params.schema.yaml"))
        check_params(params)
    assert expected in str(error.value)


def test_planning_the_workflow_does_not_import_torch():
    """The modules the Snakefile imports (params checks, job names) stay torch-free, so a
    Snakemake invocation (each DVC stage, cluster job and dry run) does not pay its import."""
    code = (
        "import sys, intriguing.plan.params, intriguing.plan.specs, intriguing.plan.machine, "
        "intriguing.core.mnist; "
        "assert 'torch' not in sys.modules, 'torch imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)

"""params.yaml: profile resolution and the checks a JSON schema cannot express.

params.yaml is both Snakemake's configfile and DVC's params file. Every key lives in exactly
one place: the settings shared by all profiles at the top level, and the scale settings
(subset sizes, epochs, iterations) under ``profiles.<name>``, mirroring the top-level sections.
``resolve_profile`` merges the selected profile's block into the sections, so code reads one
flat view (``settings["train"]["lbfgs_iterations"]``) whatever the profile.
"""

from __future__ import annotations

import copy
from typing import Any

from intriguing.plan.specs import ALEXNETS, ModelSpec, pool_level_error, split_replicate


class ParamsError(ValueError):
    """params.yaml is well-formed YAML but says something impossible; the message names the key."""


def resolve_profile(config: dict[str, Any]) -> dict[str, Any]:
    """Return the settings of the selected profile: top-level sections plus its scale block."""
    profile = config["profile"]
    profiles = config["profiles"]
    if profile not in profiles:
        raise ParamsError(f"profile: unknown profile {profile!r}; allowed: {sorted(profiles)}")
    settings = copy.deepcopy({key: value for key, value in config.items() if key != "profiles"})
    for section, scale in profiles[profile].items():
        target = settings.setdefault(section, {})
        for key, value in scale.items():
            if key in target:
                raise ParamsError(
                    f"profiles.{profile}.{section}.{key}: also set at {section}.{key}; "
                    "a key lives either at the top level or in the profiles, not both"
                )
            target[key] = value
    return settings


def _check_names(key: str, names: list[str], registry: dict[str, Any]) -> None:
    """Reject a model the list at `key` names that the registry lacks, naming the choices."""
    for position, name in enumerate(names):
        if name not in registry:
            raise ParamsError(
                f"{key}[{position}]: unknown model {name!r}; "
                f"allowed (the registry under `models`): {sorted(registry)}"
            )


def _lookup(config: dict[str, Any], key: str) -> Any:
    section, field = key.split(".")
    return config[section][field]


def check_params(config: dict[str, Any]) -> None:
    """Cross-key checks run at start, after schema validation, before any job."""
    registry = config["models"]
    for name, entry in registry.items():
        expected = ModelSpec.from_params(name, entry).decayed_layer_count
        got = len(entry["weight_decay"])
        if got != expected:
            raise ParamsError(
                f"models.{name}.weight_decay: {got} values for {expected} weight layers "
                f"(one λ per layer with connection weights)"
            )
    for key in (
        "train.models",
        "train.replicated_models",
        "adversarial.table2_models",
        "adversarial.table4_models",
        "transfer.figure7_models",
        "spectral.mnist_models",
        "units.models",
        "readings.decay_models",
    ):
        _check_names(key, _lookup(config, key), registry)
    trained = ("train.models", "the pipeline attacks and analyses only the models it trains")
    for key, (within, why) in {
        "adversarial.table2_models": trained,
        "adversarial.table4_models": trained,
        "spectral.mnist_models": trained,
        "units.models": trained,
        "transfer.figure7_models": (
            "adversarial.table2_models",
            "Figure 7 shows training-set adversarial sets",
        ),
        "train.replicated_models": (
            "train.models",
            "only a trained model can be trained from further seeds",
        ),
    }.items():
        allowed = _lookup(config, within)
        for position, name in enumerate(_lookup(config, key)):
            if name not in allowed:
                raise ParamsError(
                    f"{key}[{position}]: model {name!r} is not in {within} ({why}); add it "
                    f"there or pick one of {allowed}"
                )
    for name in registry:
        model, replicate = split_replicate(name)
        if replicate:
            raise ParamsError(
                f"models.{name}: the name is that of replicate {replicate} of model {model!r} "
                "(train.replicated_models); rename it"
            )
    for name in ALEXNETS:
        if name in registry:
            raise ParamsError(
                f"models.{name}: the name is taken by the spectral analysis's AlexNet; rename it"
            )
    _check_advtrain(config["advtrain"], registry)
    for position, name in enumerate(config["readings"]["decay_models"]):
        spec = ModelSpec.from_params(name, registry[name])
        if spec.arch != "mlp" or spec.hidden:
            raise ParamsError(
                f"readings.decay_models[{position}]: model {name!r} is no softmax model (one "
                "Linear layer); its exact minimal distortion is what the rule measures"
            )
    for profile, block in config["profiles"].items():
        budgets = {
            (section, key): value
            for section in ("train", "advtrain")
            for key, value in block.get(section, {}).items()
            if key != "seeds"
        }
        for (section, key), value in budgets.items():
            for name in value if isinstance(value, dict) else ():
                if name != "default" and name not in registry:
                    raise ParamsError(
                        f"profiles.{profile}.{section}.{key}.{name}: unknown model; allowed: "
                        f"'default' and the registry's models {sorted(registry)}"
                    )
        for section in block:
            if section not in config:
                raise ParamsError(
                    f"profiles.{profile}.{section}: no such section; "
                    f"allowed: {sorted(k for k in config if isinstance(config[k], dict))}"
                )
    check_units_params(config)
    resolve_profile(config)


def check_units_params(config: dict[str, Any]) -> None:
    """The `units` section (its models are checked with the other lists): feature models
    trained and other than the model they judge, and a torchvision model name when the
    ImageFolder variant is on."""
    registry, trained, units = config["models"], config["train"]["models"], config["units"]
    for name, other in units["feature_models"].items():
        key = f"units.feature_models.{name}"
        if name not in units["models"]:
            raise ParamsError(f"{key}: {name!r} is not in units.models {units['models']}")
        if other not in trained:
            raise ParamsError(f"{key}: {other!r} is not a trained model; allowed: {trained}")
        if other == name:
            raise ParamsError(f"{key}: coherence must be judged outside φ, by another model")
    if "imagefolder" in registry:
        raise ParamsError("models.imagefolder: the name is taken by the units ImageFolder variant")
    if units["imagefolder"]["root"] is not None:
        try:
            check_torchvision_classifier(units["imagefolder"]["model"])
        except ValueError as error:
            raise ParamsError(str(error)) from error


def _check_advtrain(advtrain: dict[str, Any], registry: dict[str, Any]) -> None:
    """Adversarial training: known models trained by Adam, pools on levels they have."""
    _check_names("advtrain.models", advtrain["models"], registry)
    for position, name in enumerate(advtrain["models"]):
        if registry[name]["optimizer"] != "adam":
            raise ParamsError(
                f"advtrain.models[{position}]: model {name!r} has optimizer "
                f"{registry[name]['optimizer']!r}; the advtrain rules train by mini-batch Adam "
                "(the pool is mixed into minibatches), so give it `optimizer: adam`"
            )
    for name in advtrain.get("pool_overrides", {}):
        if name not in advtrain["pool_levels"]:
            raise ParamsError(
                f"advtrain.pool_overrides.{name}: not a pool model; pool models: "
                f"{sorted(advtrain['pool_levels'])}"
            )
    for name, levels in advtrain["pool_levels"].items():
        if name not in advtrain["models"]:
            raise ParamsError(
                f"advtrain.pool_levels.{name}: not in advtrain.models {advtrain['models']}"
            )
        kinds = ModelSpec.from_params(name, registry[name]).hidden_layer_kinds()
        for position, level in enumerate(levels):
            error = pool_level_error(kinds, level)
            if error:
                raise ParamsError(f"advtrain.pool_levels.{name}[{position}]: {error}")


#: `train` keys that pick which networks are trained, not how one is: no model's options.
TRAIN_SELECTION_KEYS = ("models", "replicated_models", "replicates")


def model_options(train_settings: dict[str, Any], model: str) -> dict[str, Any]:
    """One model's training options: a budget given as {default: n, <model>: m} is resolved.
    The keys that select the networks (TRAIN_SELECTION_KEYS) are left out, so that adding a
    model or a replicate retrains no other network."""
    return {
        key: value.get(model, value["default"]) if isinstance(value, dict) else value
        for key, value in train_settings.items()
        if key not in TRAIN_SELECTION_KEYS
    }


#: The `advtrain` settings every run reads; a pool model also reads `pool` and `pool_size`.
ADVTRAIN_RUN_KEYS = ("adam_lr", "final_lr", "batch_size", "epochs")


def advtrain_run_settings(resolved: dict[str, Any], model: str) -> dict[str, Any]:
    """The training settings of one adversarial-training run from resolved params: the shared
    and scale keys (an `epochs` budget {default: n, <model>: m} resolved for `model`), the
    decay reading, and the pool's keys only for a pool model (`pool` updated by the model's
    `pool_overrides`), so that changing the pool does not retrain the baselines, nor a new
    model the others."""
    advtrain = resolved["advtrain"]
    has_pool = model in advtrain["pool_levels"]
    keys = ADVTRAIN_RUN_KEYS + (("pool", "pool_size") if has_pool else ())
    settings = {key: advtrain[key] for key in keys}
    settings.update(model_options({"epochs": advtrain["epochs"]}, model))
    if has_pool:
        settings["pool"] = {**advtrain["pool"], **advtrain.get("pool_overrides", {}).get(model, {})}
    return {"decay_reading": resolved["train"]["decay_reading"], **settings}


def flatten(tree: Any, prefix: str = "") -> dict[str, Any]:
    """Nested dicts -> {"a.b.c": leaf}: how DVC and the report name a key."""
    if not isinstance(tree, dict):
        return {prefix: tree}
    flat: dict[str, Any] = {}
    for key, value in tree.items():
        flat.update(flatten(value, f"{prefix}.{key}" if prefix else str(key)))
    return flat


def check_torchvision_classifier(model_name: str) -> None:
    """Refuse a name that is no torchvision classification model, listing those that are."""
    import torchvision

    available = torchvision.models.list_models(module=torchvision.models)
    if model_name not in available:
        raise ValueError(
            f"units.imagefolder.model: {model_name!r} is no torchvision classification model; "
            f"allowed: {available}"
        )

"""The AE400 variants: each merged onto models.ae400 under the default's name (hence seed),
and set beside the default AE400 and the paper."""

import pytest

from intriguing.readings.ae400 import variant_spec, variants_summary
from intriguing.reference import paper_reference

BASE = {
    "arch": "autoencoder",
    "hidden": [400],
    "weight_decay": [1e-6],
    "sparsity_target": 0.1,
    "sparsity_weight": 3.0,
    "autoencoder_decay": 3e-3,
    "train_set": "all",
    "optimizer": "lbfgs",
}


def test_a_variant_changes_only_its_options_and_keeps_the_name():
    spec = variant_spec(BASE, {"decoder": "linear"})
    assert (spec.name, spec.decoder, spec.sparsity_weight) == ("ae400", "linear", 3.0)
    assert variant_spec(BASE, {"pretrain_min_epochs": 26}).decoder == "sigmoid"
    with pytest.raises(ValueError, match="at least one option"):
        variant_spec(BASE, {})
    with pytest.raises(ValueError, match="unknown keys"):
        variant_spec(BASE, {"decodr": "linear"})


def test_summary_sets_each_variant_beside_the_default_and_the_paper():
    default = {
        "train_error": 0.019,
        "train_error_ci95": [0.018, 0.020],
        "test_error": 0.026,
        "test_error_ci95": [0.023, 0.030],
        "train_n": 60000,
        "training": {},
    }
    variant = {"variant": "strict_top", "options": {"top_tolerance_relative": 0.0}}
    summary = variants_summary(default, [variant], paper_reference())
    assert summary["paper"] == {"train_error": 0.0057, "test_error": 0.019}
    assert summary["default"] == {
        key: default[key]
        for key in ("train_error", "train_error_ci95", "test_error", "test_error_ci95")
    }
    assert summary["variants"] == [variant]

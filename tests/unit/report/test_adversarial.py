"""The report's adversarial section (report.adversarial): the loss the sets were made with."""

import pytest
import yaml

from conftest import ROOT
from intriguing.reference import paper_reference
from intriguing.report.adversarial import adversarial_section
from intriguing.report.verdicts import VerdictSettings


@pytest.mark.parametrize(
    ("temperature", "scale", "loss_text"),
    [
        (1.0, "none", "c·‖r‖² + cross-entropy(logits, target)"),
        (0.1, "none", "temperature T = 0.1 (the paper's"),
        (1.0, "logit_std", "T = 1 × the standard deviation of the original's clean logits"),
    ],
)
def test_report_names_the_attack_loss(temperature, scale, loss_text):
    """The report's adversarial section states the loss the sets were made with."""
    metrics = {
        "n": 10,
        "success_rate": 1.0,
        "success_rate_ci95": [0.7, 1.0],
        "mean_distortion": 0.05,
        "median_distortion": 0.04,
        "target_policy": "random",
    }
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    settings = VerdictSettings.from_params(params["report"])
    text = adversarial_section(
        {"n100_train": metrics}, paper_reference(), settings, temperature, scale
    )
    assert loss_text in text and "| n100 | train images | 10 |" in text

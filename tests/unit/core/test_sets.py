"""The adversarial set file: saved with its format version, its layout checked on load, a bad
file refused with an error naming the file and what is wrong."""

from __future__ import annotations

import re

import pytest
import torch

from intriguing.core.sets import (
    FORMAT_VERSION,
    AdversarialSetError,
    load_set,
    save_set,
)

N = 3


def adversarial_set() -> dict:
    """A set of N originals as rule `adversarial` writes it (without the version)."""
    return {
        "model": "softmax1",
        "split": "train",
        "indices": torch.tensor([4, 8, 15]),
        "labels": torch.tensor([1, 2, 3]),
        "target": torch.tensor([2, 3, 4]),
        "x_adv": torch.rand(N, 1, 28, 28, generator=torch.Generator().manual_seed(0)),
        "success": torch.tensor([True, False, True]),
        "distortion": torch.tensor([0.05, 0.1, 0.07]),
        "c": torch.tensor([1.0, float("inf"), 0.5]),
        "iterations": torch.tensor([12, 40, 9]),
        "target_policy": "next",
    }


def amplified_set() -> dict:
    return {
        **adversarial_set(),
        "original_distortion": torch.tensor([0.01, 0.02, 0.03]),
        "amplification": "stddev",
        "amplified_stddev": 0.1,
    }


@pytest.mark.parametrize("make", [adversarial_set, amplified_set])
def test_a_saved_set_loads_with_its_version_and_the_same_values(tmp_path, make):
    path = tmp_path / "set.pt"
    save_set(path, make())
    loaded = load_set(path)
    assert loaded["format_version"] == FORMAT_VERSION == 1
    for key, value in make().items():
        if isinstance(value, torch.Tensor):
            assert loaded[key].dtype == value.dtype and torch.equal(loaded[key], value), key
        else:
            assert loaded[key] == value, key


def test_a_set_written_before_the_version_was_stored_is_read(tmp_path):
    path = tmp_path / "old.pt"
    torch.save(adversarial_set(), path)
    assert torch.equal(load_set(path)["x_adv"], adversarial_set()["x_adv"])


def test_saving_a_reloaded_set_stores_the_current_version(tmp_path):
    path = tmp_path / "set.pt"
    torch.save({**adversarial_set(), "format_version": 0}, path)
    save_set(tmp_path / "again.pt", load_set(path))
    assert load_set(tmp_path / "again.pt")["format_version"] == FORMAT_VERSION


def spoil(payload: dict, key: str, value: object) -> dict:
    """The payload with `key` set to `value` (removed when value is None)."""
    spoiled = {k: v for k, v in payload.items() if k != key}
    return spoiled if value is None else {**spoiled, key: value}


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (spoil(adversarial_set(), "distortion", None), r"missing keys \['distortion'\]"),
        (spoil(adversarial_set(), "model", None), r"missing keys \['model'\]"),
        (spoil(adversarial_set(), "extra", 1), r"unknown keys \['extra'\]"),
        (
            spoil(adversarial_set(), "distortion", torch.zeros(N, dtype=torch.float64)),
            r"distortion is torch.float64 of shape \(3,\); expected torch.float32 of shape \(3,\)",
        ),
        (
            spoil(adversarial_set(), "x_adv", torch.zeros(N, 784)),
            r"x_adv is torch.float32 of shape \(3, 784\); expected torch.float32 of shape "
            r"\(3, 1, 28, 28\)",
        ),
        (
            spoil(adversarial_set(), "success", torch.ones(N + 1, dtype=torch.bool)),
            r"success is torch.bool of shape \(4,\); expected torch.bool of shape \(3,\)",
        ),
        (spoil(adversarial_set(), "labels", [1, 2, 3]), "labels is a list, not a tensor"),
        (spoil(adversarial_set(), "split", "valid"), r"split 'valid'; allowed: \['train', 'tes"),
        (spoil(adversarial_set(), "target_policy", "nearest"), "target_policy 'nearest'"),
        (spoil(adversarial_set(), "format_version", 2), r"format_version 2; this code reads"),
        (spoil(amplified_set(), "amplified_stddev", None), r"missing keys \['amplified_stddev'\]"),
        (spoil(amplified_set(), "original_distortion", None), r"missing keys \['original_dist"),
        (spoil(amplified_set(), "amplification", "double"), "amplification 'double'"),
        ([adversarial_set()], "holds a list, not the dict of an adversarial set"),
    ],
)
def test_a_malformed_set_is_refused_naming_the_file_and_the_problem(tmp_path, payload, message):
    path = tmp_path / "softmax1_train.pt"
    torch.save(payload, path)
    with pytest.raises(
        AdversarialSetError, match=rf"^adversarial set {re.escape(str(path))}: {message}"
    ):
        load_set(path)


@pytest.mark.parametrize(
    "payload",
    [spoil(adversarial_set(), "extra", 1), spoil(amplified_set(), "amplified_stddev", None)],
)
def test_a_malformed_set_is_not_saved(tmp_path, payload):
    with pytest.raises(AdversarialSetError, match="written.pt: "):
        save_set(tmp_path / "written.pt", payload)
    assert list(tmp_path.iterdir()) == []


def test_a_file_that_is_no_torch_file_is_refused_naming_it(tmp_path):
    path = tmp_path / "softmax1_train.pt"
    path.write_text("not a set")
    with pytest.raises(AdversarialSetError, match=rf"adversarial set {path}: not a torch file"):
        load_set(path)

"""The unit analysis's library (Section 3): top-k, coherence measures, statistics, verdicts,
the ImageFolder path on a synthetic folder, the report section, and the `units` params checks."""

import copy
import json
from dataclasses import replace

import numpy as np
import pytest
import torch
import yaml
from PIL import Image

from conftest import ROOT
from intriguing.core.models import ModelSpec, build_model
from intriguing.plan.params import ParamsError, check_params
from intriguing.plan.specs import UNITS_FIGURE_KINDS as FIGURE_KINDS
from intriguing.report.units import units_section
from intriguing.units.directions import (
    DOES_NOT_HOLD,
    HOLDS,
    NO_DIFFERENCE,
    PARTLY_HOLDS,
    RANDOM_MORE,
    UNITS_MORE,
    centred,
    claim_verdict,
    compare_distributions,
    holm_adjusted,
    label_purity,
    layer_activations,
    mean_pairwise_cosine,
    natural_basis,
    random_directions,
    random_subsets,
    top_k,
    undetermined,
)
from intriguing.units.network import SimilaritySpace, UnitsJob, UnitsOptions, analyse_directions
from intriguing.units.step import imagefolder as imagefolder_units_task
from intriguing.units.step import summary as summarise_units

PARAMS = yaml.safe_load((ROOT / "params.yaml").read_text())
OPTIONS = {"top_k": 5, "rows_shown": 3, "seed": 0, "alpha": 0.05, "bootstrap_resamples": 500}


# --- top-k ---------------------------------------------------------------------------------


@pytest.mark.parametrize("basis", ["natural", "random"])
def test_top_k_are_the_k_largest_projections(basis):
    generator = torch.Generator().manual_seed(1)
    activations = torch.randn(300, 16, generator=generator)
    directions = natural_basis(16) if basis == "natural" else random_directions(16, 40, seed=3)
    k = 7
    top = top_k(activations, directions, k)
    projections = (activations.double() @ directions.double().T).T.numpy()  # (M, N)
    assert top.shape == (len(directions), k)
    for row, chosen in zip(projections, top.numpy(), strict=True):
        rest = np.setdiff1d(np.arange(len(row)), chosen)
        assert row[chosen].min() > row[rest].max()  # no image outside beats one inside
        assert np.all(np.diff(row[chosen]) <= 0)  # largest first
        assert set(chosen) == set(np.argsort(-row)[:k])


def test_top_k_of_a_unit_is_its_own_largest_activations():
    activations = torch.tensor([[0.0, 5.0], [3.0, 1.0], [9.0, 2.0], [1.0, 7.0]])
    assert top_k(activations, natural_basis(2), 2).tolist() == [[2, 1], [3, 0]]


def test_top_k_rejects_bad_shapes_and_k():
    activations = torch.zeros(4, 3)
    with pytest.raises(ValueError, match="directions have 2 coordinates, activations 3"):
        top_k(activations, torch.zeros(1, 2), 2)
    with pytest.raises(ValueError, match="top_k = 5: must lie between 1 and the 4 images"):
        top_k(activations, natural_basis(3), 5)


def test_random_directions_are_seeded_unit_vectors():
    first = random_directions(30, 12, seed=5)
    assert first.shape == (12, 30)
    torch.testing.assert_close(first.norm(dim=1), torch.ones(12))
    assert torch.equal(first, random_directions(30, 12, seed=5))
    assert not torch.equal(first, random_directions(30, 12, seed=6))


def test_undetermined_flags_dead_and_rarely_active_units():
    activations = torch.zeros(20, 3)
    activations[:, 0] = torch.arange(20.0)  # active everywhere
    activations[:2, 2] = 1.0  # active on 2 images only
    assert undetermined(activations, natural_basis(3), k=3).tolist() == [False, True, True]
    assert undetermined(activations, natural_basis(3), k=2).tolist() == [False, True, False]


# --- coherence measures --------------------------------------------------------------------


def test_label_purity_is_the_share_of_the_most_common_label():
    labels = torch.tensor([0, 0, 1, 2, 2, 2])
    top = torch.tensor([[0, 1, 2, 3], [3, 4, 5, 0], [0, 2, 3, 1]])
    assert label_purity(labels, top).tolist() == [0.5, 0.75, 0.5]


def test_mean_pairwise_cosine_on_known_vectors():
    features = torch.tensor([[1.0, 0.0], [2.0, 0.0], [0.0, 3.0], [-1.0, 0.0]])
    rows = [[0, 1], [0, 2], [0, 3], [0, 1, 2]]
    values = [mean_pairwise_cosine(features, torch.tensor([row]))[0].item() for row in rows]
    assert values == pytest.approx([1.0, 0.0, -1.0, 1 / 3])
    with pytest.raises(ValueError, match="top_k >= 2"):
        mean_pairwise_cosine(features, torch.tensor([[0]]))


def test_centred_features_have_zero_mean():
    features = torch.rand(50, 1, 4, 4) + 3
    flat = centred(features)
    assert flat.shape == (50, 16)
    torch.testing.assert_close(flat.mean(dim=0), torch.zeros(16, dtype=torch.float64))


def test_random_subsets_have_distinct_members():
    subsets = random_subsets(30, 5, 200, seed=0)
    assert subsets.shape == (200, 5)
    assert all(len(set(row.tolist())) == 5 for row in subsets)
    assert torch.equal(subsets, random_subsets(30, 5, 200, seed=0))


# --- statistics ----------------------------------------------------------------------------


def test_compare_distributions_sees_a_shift_in_either_direction():
    rng = np.random.default_rng(0)
    high, low = rng.normal(1.0, 0.1, 60), rng.normal(0.0, 0.1, 80)
    more = compare_distributions(high, low, alpha=0.05, resamples=1000, seed=0)
    assert more.result == UNITS_MORE and more.rank_biserial == 1.0 and more.p_value < 1e-10
    assert more.units_ci95[0] < more.units_mean < more.units_ci95[1]
    assert more.difference_ci95[0] < more.difference < more.difference_ci95[1]
    assert (more.units_n, more.random_n) == (60, 80)
    less = compare_distributions(low, high, alpha=0.05, resamples=1000, seed=0)
    assert less.result == RANDOM_MORE and less.rank_biserial == -1.0
    same = compare_distributions(np.ones(10), np.ones(12), alpha=0.05, resamples=200, seed=0)
    assert same.result == NO_DIFFERENCE and same.p_value == 1.0 and same.rank_biserial == 0.0
    with pytest.raises(ValueError, match="at least 2 values per group"):
        compare_distributions(np.ones(1), np.ones(5), alpha=0.05, resamples=10, seed=0)


def comparison(p_value, r=0.5):
    """A Comparison whose p-value and effect are set by hand."""
    base = compare_distributions(np.ones(3), np.ones(3), alpha=0.05, resamples=10, seed=0)
    if p_value >= 0.05:
        result = NO_DIFFERENCE
    else:
        result = UNITS_MORE if r > 0 else RANDOM_MORE
    return replace(base, p_value=p_value, p_holm=p_value, rank_biserial=r, result=result)


def test_holm_adjustment_matches_hand_computation():
    adjusted = holm_adjusted({"a": comparison(0.01), "b": comparison(0.04), "c": comparison(0.03)})
    # sorted 0.01, 0.03, 0.04 -> 3 × 0.01, max(0.03, 2 × 0.03), max(0.06, 1 × 0.04)
    assert [adjusted[t].p_holm for t in "abc"] == pytest.approx([0.03, 0.06, 0.06])
    assert [adjusted[t].result for t in "abc"] == [UNITS_MORE, NO_DIFFERENCE, NO_DIFFERENCE]
    assert list(adjusted) == ["a", "b", "c"]


@pytest.mark.parametrize(
    ("p_values", "status"),
    [((0.5, 0.2), HOLDS), ((0.001, 0.2), PARTLY_HOLDS), ((0.001, 0.01), DOES_NOT_HOLD)],
)
def test_claim_verdict_from_the_tests(p_values, status):
    comparisons = {f"m{i}": comparison(p) for i, p in enumerate(p_values)}
    verdict = claim_verdict("net", comparisons)
    assert verdict["status"] == status
    assert verdict["sentence"].startswith(f"**{status.capitalize()}** on `net`")


def test_verdict_names_a_tendency_the_test_does_not_confirm():
    tendency = replace(comparison(0.2), difference=0.03, difference_ci95=(0.01, 0.05))
    verdict = claim_verdict("net", {"purity": tendency, "pixels": comparison(0.3)})
    assert verdict["status"] == HOLDS
    assert verdict["sentence"].endswith(
        "excludes 0 in the units' favour on purity (+0.030): a tendency the adjusted rank test "
        "does not confirm."
    )
    assert "tendency" not in claim_verdict("net", {"pixels": comparison(0.3)})["sentence"]


def test_units_less_coherent_than_random_still_means_the_claim_holds():
    verdict = claim_verdict("net", {"purity": comparison(0.001, r=-0.4)})
    assert verdict["status"] == HOLDS and "random directions more coherent" in verdict["sentence"]


# --- the experiment on constructed data ----------------------------------------------------


def class_code(classes: int, per_class: int, noise: float, seed: int):
    """φ(x) = one-hot(label) + Gaussian noise: each unit detects one class."""
    generator = torch.Generator().manual_seed(seed)
    labels = torch.arange(classes).repeat_interleave(per_class)
    noise = noise * torch.randn(len(labels), classes, generator=generator)
    return torch.eye(classes)[labels] + noise, labels


def test_a_disentangled_code_makes_units_more_coherent_and_rotation_removes_it():
    """Units that are class detectors beat random directions (signal 1 against ≈ 1/√D); after
    a random rotation of φ no basis is special, and the claim holds."""
    code, labels = class_code(classes=20, per_class=100, noise=0.3, seed=0)
    space = SimilaritySpace("label_code", "label code", "one-hot labels", torch.eye(20)[labels])
    options = UnitsOptions(**{**OPTIONS, "top_k": 10})
    disentangled = analyse_directions(code, labels, [space], options, "disentangled")
    assert disentangled["verdict"]["status"] == DOES_NOT_HOLD
    purity = disentangled["measures"][0]
    assert purity["units_mean"] == 1.0 and purity["random_mean"] < 0.9
    assert purity["chance"] < 0.3
    rotation, _ = torch.linalg.qr(torch.randn(20, 20, generator=torch.Generator().manual_seed(1)))
    rotated = analyse_directions(code @ rotation, labels, [space], options, "rotated")
    assert rotated["verdict"]["status"] == HOLDS
    assert all(m["result"] != UNITS_MORE for m in rotated["measures"])


def test_analysis_leaves_out_undetermined_units_and_shows_determined_ones():
    code, labels = class_code(classes=10, per_class=30, noise=0.1, seed=0)
    activations = torch.cat([code.clamp(min=0), torch.zeros(len(code), 2)], dim=1)  # 2 dead
    pixels = SimilaritySpace("pixel_similarity", "pixel similarity", "", torch.rand(300, 8))
    result = analyse_directions(activations, labels, [pixels], UnitsOptions(**OPTIONS), "net")
    assert result["units_undetermined"] == [10, 11]
    assert result["measures"][0]["units_n"] == 10 and result["measures"][0]["random_n"] == 12
    more = UnitsOptions(**{**OPTIONS, "random_directions": 50})
    wider = analyse_directions(activations, labels, [pixels], more, "net")
    assert wider["random_directions"] == 50 and wider["measures"][0]["random_n"] == 50
    assert [m["key"] for m in result["measures"]] == ["label_purity", "pixel_similarity"]
    shown = result["shown"]["units"]
    assert len(shown) == 3 and all(row["direction"] < 10 for row in shown)
    assert [row["direction"] for row in shown] == sorted(row["direction"] for row in shown)
    for row in shown:
        assert row["top"] == top_k(activations, natural_basis(12), 5)[row["direction"]].tolist()
    json.dumps(result)  # JSON-ready


# --- layer_activations ---------------------------------------------------------------------


def zoo_model(name: str):
    torch.manual_seed(0)
    return build_model(ModelSpec.from_params(name, PARAMS["models"][name]))


def test_layer_activations_default_to_the_last_hidden_layer():
    x = torch.rand(37, 1, 28, 28)
    n100 = zoo_model("n100")
    expected = n100.layers[:-1](x)  # ... Linear(100, 100), Sigmoid: the second sigmoid layer
    torch.testing.assert_close(layer_activations(n100, None, x, batch_size=10), expected)
    conv = zoo_model("conv").train()
    with torch.no_grad():
        phi = layer_activations(conv, None, x, batch_size=16)
        conv.eval()
        torch.testing.assert_close(phi, conv.layers[:-2](x))  # FC 128 after ReLU, no dropout
    assert phi.shape == (37, 128) and phi.min() >= 0


def test_layer_activations_restore_mode_and_take_names_and_loaders():
    x = torch.rand(20, 1, 28, 28)
    model = zoo_model("conv").train()
    by_name = layer_activations(model, "layers.2", x)  # the max-pool's output
    assert model.training and by_name.shape == (20, 32 * 12 * 12)
    loader = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(x, torch.zeros(20)), batch_size=6
    )
    torch.testing.assert_close(layer_activations(model, "layers.2", loader), by_name)
    with pytest.raises(ValueError, match=r"layer 'layers\.99': no such submodule.*layers\.0"):
        layer_activations(model, "layers.99", x)


# --- the ImageFolder variant ----------------------------------------------------------------


@pytest.fixture(scope="module")
def image_folder(tmp_path_factory):
    """3 classes × 8 images of 40×40: each class a colour, with seeded noise."""
    root = tmp_path_factory.mktemp("imagefolder")
    rng = np.random.default_rng(0)
    colours = {"red": (200, 30, 30), "green": (30, 200, 30), "blue": (30, 30, 200)}
    for name, colour in colours.items():
        (root / name).mkdir()
        for index in range(8):
            pixels = np.clip(np.array(colour) + rng.normal(0, 40, (40, 40, 3)), 0, 255)
            Image.fromarray(pixels.astype(np.uint8)).save(root / name / f"{index}.png")
    return root


def run_imagefolder(root, tmp_path, **overrides):
    arguments = {
        "root": str(root),
        "model_name": "resnet18",
        "weights_file": None,
        "layer": None,
        "resize": 36,
        "crop": 32,
        "batch_size": 10,
        "images": None,
        "job": UnitsJob(
            UnitsOptions(**{**OPTIONS, "top_k": 3, "rows_shown": 2}),
            {"metrics": str(tmp_path / "imagefolder.json")}
            | {kind: str(tmp_path / f"imagefolder_{kind}.png") for kind in FIGURE_KINDS},
        ),
    } | overrides
    imagefolder_units_task(**arguments)
    return json.loads((tmp_path / "imagefolder.json").read_text())


def test_imagefolder_analysis_on_a_random_torchvision_model(image_folder, tmp_path):
    result = run_imagefolder(image_folder, tmp_path)
    assert result["dimension"] == 512 and result["images"] == 24  # resnet18's fc input
    assert result["weights"] == "random" and "untrained" in result["weights_detail"]
    assert result["layer"].startswith("input of the last Linear layer `fc` (512 → 1000)")
    assert [m["key"] for m in result["measures"]] == ["label_purity", "pixel_similarity"]
    assert result["measures"][0]["chance"] >= 1 / 3
    assert "24 of 24 images, 3 classes" in result["image_set"]
    for kind in FIGURE_KINDS:
        assert (tmp_path / f"imagefolder_{kind}.png").read_bytes()[:4] == b"\x89PNG"
    sample = run_imagefolder(image_folder, tmp_path, images=10, layer="avgpool")
    assert sample["images"] == 10 and sample["layer"] == "output of `avgpool`"


def test_imagefolder_weights_file_is_loaded(image_folder, tmp_path):
    import torchvision

    torch.manual_seed(1)
    path = tmp_path / "resnet18.pth"
    torch.save(torchvision.models.resnet18().state_dict(), path)
    result = run_imagefolder(image_folder, tmp_path, weights_file=str(path))
    assert result["weights"] == "file" and "sha256" in result["weights_detail"]


def test_imagefolder_rejects_unknown_model_and_missing_folder(image_folder, tmp_path):
    with pytest.raises(ValueError, match="'lenet' is no torchvision classification model"):
        run_imagefolder(image_folder, tmp_path, model_name="lenet")
    with pytest.raises(FileNotFoundError, match="units.imagefolder.root: .* is not a directory"):
        run_imagefolder(tmp_path / "missing", tmp_path)


# --- summary and report --------------------------------------------------------------------


def test_summary_and_report_section(tmp_path):
    paths = {}
    for name, noise in (("clean", 0.05), ("noisy", 0.3)):
        code, labels = class_code(classes=10, per_class=30, noise=noise, seed=0)
        result = analyse_directions(code, labels, [], UnitsOptions(**OPTIONS), name)
        result |= {
            "description": "a test code",
            "layer": "φ",
            "image_set": "constructed",
            "weights": "random" if name == "noisy" else "checkpoint",
            "weights_detail": "by hand",
        }
        paths[name] = tmp_path / "metrics" / f"{name}.json"
        paths[name].parent.mkdir(exist_ok=True)
        paths[name].write_text(json.dumps(result))
    summary_path = tmp_path / "metrics" / "units.json"
    summarise_units({k: str(v) for k, v in paths.items()}, str(summary_path), "smoke")
    summary = json.loads(summary_path.read_text())
    statuses = summary["verdict"]["per_network"]
    assert set(summary["networks"]) == {"clean", "noisy"}
    expected = "mixed" if len(set(statuses.values())) > 1 else statuses["clean"]
    assert summary["verdict"]["status"] == expected
    assert "units_values" not in summary["networks"]["clean"]["measures"][0]
    assert "shown" not in summary["networks"]["clean"]
    figures = {"clean_natural": str(tmp_path / "figures" / "units" / "clean_natural.png")}
    text = units_section(summary, figures, tmp_path)
    assert text.startswith("## Section 3 — units of φ(x) vs random directions")
    assert f"{statuses['clean']} on `clean`; {statuses['noisy']} on `noisy`" in text
    assert summary["networks"]["noisy"]["verdict"]["sentence"] in text
    assert "| label purity | " in text and "**Random weights" in text
    assert "](figures/units/clean_natural.png)" in text
    assert "Not run" in units_section(None, {}, tmp_path)


# --- params ---------------------------------------------------------------------------------


def untrain(params, name):
    """Take a model out of train.models and of every other list but units.models."""
    for section, key in (
        ("train", "models"),
        ("adversarial", "table2_models"),
        ("adversarial", "table4_models"),
        ("spectral", "mnist_models"),
    ):
        params[section][key] = [m for m in params[section][key] if m != name]


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda u, p: u.update(models=["conv", "lenet"]), r"units\.models\[1\]: unknown model"),
        (
            lambda u, p: untrain(p, "n100"),
            r"units\.models\[1\]: model 'n100' is not in train\.models",
        ),
        (
            lambda u, p: u["feature_models"].update(conv="conv"),
            r"units\.feature_models\.conv: coherence must be judged outside φ",
        ),
        (
            lambda u, p: u["feature_models"].update(conv="lenet"),
            r"units\.feature_models\.conv: 'lenet' is not a trained model",
        ),
        (
            lambda u, p: u["feature_models"].update(m1="n100"),
            r"units\.feature_models\.m1: 'm1' is not in units\.models",
        ),
        (
            lambda u, p: u["imagefolder"].update(root="/data/val", model="lenet"),
            r"units\.imagefolder\.model: 'lenet' is no torchvision classification model",
        ),
    ],
    ids=["unknown", "not trained", "self", "unknown feature model", "stray key", "torchvision"],
)
def test_units_params_are_checked(mutate, expected):
    params = copy.deepcopy(PARAMS)
    mutate(params["units"], params)
    with pytest.raises(ParamsError, match=expected):
        check_params(params)


def test_default_units_params_pass():
    check_params(copy.deepcopy(PARAMS))

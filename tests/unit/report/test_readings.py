"""The ledger of readings (reference/readings.yaml) and the report's Readings section."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import ROOT
from intriguing.readings.decay import nearest_reading
from intriguing.reference import paper_reference
from intriguing.reference.ledger import (
    Inconsistency,
    LedgerEntry,
    LedgerError,
    paper_inconsistencies,
    param_exists,
    readings_ledger,
    validate_inconsistencies,
    validate_ledger,
)
from intriguing.report.format import OUTSIDE_CI_MARK
from intriguing.report.readings import (
    AE400_TITLE,
    DECAY_TITLE,
    INCONSISTENCIES_TITLE,
    TITLE,
    cell,
    render_readings,
)

PAPER_TEXT = ROOT.parent / "shared" / "paper" / "intriguing-properties-of-neural-networks.md"
SLIDES_TEXT = ROOT.parent / "shared" / "paper" / "blind-spots-talk-slides.txt"


def unquoted(
    entries: Sequence[LedgerEntry | Inconsistency], source_text: str, field: str = "quotes"
) -> list[tuple[str, str]]:
    """(id, fragment) for every quoted fragment (the items' `field`: `quotes` of the paper,
    `slide_quotes` of the talk's slides) that is not in `source_text`, spaces and line breaks
    aside: the check that each item quotes its source exactly."""
    text = " ".join(source_text.split())
    return [
        (entry.id, quote)
        for entry in entries
        for quote in getattr(entry, field)
        if " ".join(quote.split()) not in text
    ]


@pytest.fixture(scope="module")
def params() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "params.yaml").read_text())


def entry(**changes: Any) -> dict[str, Any]:
    """A valid ledger entry, with `changes` applied (a value of ... removes the field)."""
    base = {
        "id": "noise_seed",
        "topic": "Which noise draw",
        "section": "4.2, Table 2",
        "paper": "silent: the draw is not given",
        "readings": [
            {"name": "seed0", "meaning": "seed 0"},
            {"name": "seed1", "meaning": "seed 1"},
        ],
        "param": "transfer.noise_seed",
        "default": "seed0",
        "evidence": "Any draw will do.",
        "rerun": "uv run dvc exp run -S transfer.noise_seed=1",
    }
    base.update(changes)
    return {key: value for key, value in base.items() if value is not ...}


# --- the repository's ledger -------------------------------------------------------------------


def test_repository_ledger_validates_against_params_yaml(params):
    ledger = readings_ledger(params)
    ids = [e.id for e in ledger]
    assert len(ids) == len(set(ids)) >= 15
    assert {"decay_normalisation", "noise_clipping", "amplification", "model_seeds"} <= set(ids)
    decay = next(e for e in ledger if e.id == "decay_normalisation")
    assert decay.param == "train.decay_reading" and decay.default == "half_mean_output"
    assert decay.measured == "reports/metrics/readings/decay.json"
    for item in ledger:
        assert item.default in {r.name for r in item.readings}
        assert (item.rerun is None) == (item.param is None), item.id


def test_repository_ledger_defaults_agree_with_params_yaml(params):
    """Where a param names the reading itself, params.yaml selects the ledger's default."""
    for item in readings_ledger(params):
        value = params
        for part in (item.param or "-").split("."):
            value = value.get(part) if isinstance(value, dict) else None
        if isinstance(value, str) and value in {r.name for r in item.readings}:
            assert value == item.default, item.id


@pytest.mark.skipif(not PAPER_TEXT.exists(), reason=f"no paper text at {PAPER_TEXT}")
def test_repository_ledger_quotes_the_paper_exactly():
    ledger = readings_ledger()
    assert unquoted(ledger, PAPER_TEXT.read_text("utf-8")) == []
    assert unquoted(ledger, "nothing") != []


# --- malformed entries -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("entries", "names"),
    [
        ([entry(evidence=...)], ["noise_seed", "evidence", "missing"]),
        ([entry(rerun=...)], ["noise_seed", "rerun", "missing"]),
        ([entry(default="seed2")], ["noise_seed", "default", "seed2"]),
        ([entry(param="transfer.noise_sed")], ["noise_seed", "param", "transfer.noise_sed"]),
        ([entry(param="transfer..x")], ["noise_seed", "param"]),
        ([entry(), entry(topic="again")], ["noise_seed", "id", "duplicate"]),
        ([entry(readings=[{"name": "seed0", "meaning": "x"}])], ["noise_seed", "readings"]),
        ([entry(readings=[{"name": "a"}, {"name": "b", "meaning": "y"}])], ["readings[0]"]),
        ([entry(colour="red")], ["noise_seed", "colour", "unknown"]),
        ([entry(rerun=None)], ["noise_seed", "rerun"]),
        ([entry(param=None)], ["noise_seed", "rerun", "null"]),
        ([entry(rerun="uv run dvc exp run -S transfer.nois=1")], ["rerun", "transfer.nois"]),
        ([entry(rerun="dvc exp run -S transfer.noise_seed=1")], ["rerun", "uv run dvc exp run"]),
        ([entry(measured="reports/x.csv")], ["noise_seed", "measured"]),
        ([entry(id="Noise Seed")], ["Noise Seed", "id", "snake_case"]),
    ],
)
def test_malformed_entry_is_named_in_the_error(params, entries, names):
    with pytest.raises(LedgerError) as raised:
        validate_ledger({"entries": entries}, params)
    for name in names:
        assert name in str(raised.value)


def test_error_names_the_position_of_an_entry_without_id(params):
    with pytest.raises(LedgerError, match=r"#1.*'id': missing"):
        validate_ledger({"entries": [entry(), entry(id=...)]}, params)


def test_without_params_the_keys_are_not_checked():
    assert (
        validate_ledger({"entries": [entry(param="no.such.key")]}, None)[0].param == "no.such.key"
    )


def test_param_keys_are_found_at_the_top_level_and_in_the_selected_profile(params):
    assert param_exists(params, "train.decay_reading")
    assert param_exists(params, "spectral.alexnet_weights")  # null, but present
    assert param_exists(params, "profiles.default.train.pretrain_epochs")
    assert param_exists(params, "train.pretrain_epochs")  # the selected profile's scale block
    assert not param_exists(params, "train.no_such_key")
    assert not param_exists(params, "seed.x")


def test_a_list_of_params_is_checked_key_by_key(params):
    good = entry(param=["transfer.noise_seed", "transfer.table2_noise"])
    assert validate_ledger({"entries": [good]}, params)[0].params == (
        "transfer.noise_seed",
        "transfer.table2_noise",
    )
    with pytest.raises(LedgerError, match="'param'.*transfer.nope"):
        validate_ledger(
            {"entries": [entry(param=["transfer.noise_seed", "transfer.nope"])]}, params
        )


# --- the report section ------------------------------------------------------------------------


def decay_metrics() -> dict[str, Any]:
    """The `decay_readings` rule's metrics for softmax1 under both readings; the paper's values
    from reference/paper.yaml (Tables 1 and 2, Figure 7)."""
    reference = paper_reference()
    column = reference["table2"]["models"].index("softmax1")
    paper = {
        "train_error": reference["table1"]["softmax1"]["train_error"],
        "test_error": reference["table1"]["softmax1"]["test_error"],
        "distortion": reference["table1"]["softmax1"]["mean_min_distortion"],
        "noise_error": {s: reference["table2"]["noise"][s][column] for s in ("0.1", "0.3")},
        "noise_accuracy_figure7": reference["figure7"]["gaussian_noise_stddev_1_accuracy"],
    }
    output = {
        "model": "softmax1",
        "lambda": 1e-4,
        "reading": "mean_output",
        "coefficient": 1e-4,
        "train_error": 0.0686,
        "test_error": 0.0744,
        "test_error_ci95": [0.069, 0.080],
        "exact_distortion": 0.058,
        "noise_error": {
            "0.1": {"value": 0.05, "ci95": [0.04, 0.06]},
            "0.3": {"value": 0.2, "ci95": [0.18, 0.22]},
        },
        "noise_accuracy_figure7": {"value": 0.49, "ci95": [0.46, 0.52]},
        "paper": paper,
    }
    example = copy.deepcopy(output)
    example.update(
        reading="mean_example",
        coefficient=1e-5,
        train_error=0.061,
        test_error=0.0745,
        test_error_ci95=[0.0695, 0.0798],
        exact_distortion=0.035,
        noise_error={
            "0.1": {"value": 0.089, "ci95": [0.072, 0.109]},
            "0.3": {"value": 0.301, "ci95": [0.273, 0.331]},
        },
        noise_accuracy_figure7={"value": 0.31, "ci95": [0.282, 0.339]},
    )
    return {
        "param": "train.decay_reading",
        "default": "mean_output",
        "noise_stddevs": [0.1, 0.3],
        "figure7_noise": 1.0,
        "rows": [output, example],
        **nearest_reading([output, example], "mean_output"),
    }


def table_rows(text: str, after: str) -> list[str]:
    """The Markdown table lines of the first table after the heading `after`."""
    lines = text.split(after, 1)[1].splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("|"))
    rows = []
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        rows.append(line)
    return rows


def test_section_has_a_row_per_entry_with_its_topic_and_rerun(params):
    ledger = readings_ledger(params)
    text = render_readings(ledger, params, None)
    assert text.startswith(TITLE)
    rows = table_rows(text, TITLE)
    assert len(rows) == 2 + len(ledger)
    assert len({row.replace(r"\|", "").count("|") for row in rows}) == 1, "ragged table"
    for item, row in zip(ledger, rows[2:], strict=True):
        assert cell(item.topic) in row
        assert f"`{item.default}`" in row
        if item.rerun:
            assert f"`{item.rerun}`" in row
        else:
            assert "not a parameter" in row
    assert "Not run" in text.split(DECAY_TITLE, 1)[1]


def test_measured_table_shows_every_value_beside_the_paper(params):
    run = copy.deepcopy(params)
    run["train"]["decay_reading"] = "mean_output"  # the reading the toy metrics mark in use
    text = render_readings(readings_ledger(run), run, decay_metrics())
    rows = table_rows(text, DECAY_TITLE)
    assert len(rows) == 4
    assert len({row.count("|") for row in rows}) == 1, "ragged table"
    output, example = rows[2], rows[3]
    assert "`mean_output` **(in use)**" in output and "(in use)" not in example
    for expected in (
        "0.0001",  # λ and the per-weight coefficient
        "6.86% · 6.70%",
        "7.44% [6.90%, 8.00%] · 7.40%",
        "0.0580 · 0.062",
        "5.00% [4.00%, 6.00%] · 5.00%",
        f"20.00% [18.00%, 22.00%] {OUTSIDE_CI_MARK} · 15.60%",
        "49.00% [46.00%, 52.00%] · 51.00%",
    ):
        assert expected in output, expected
    for expected in (
        "1e-05",
        "6.10% · 6.70%",
        "0.0350 · 0.062",
        f"8.90% [7.20%, 10.90%] {OUTSIDE_CI_MARK} · 5.00%",
        f"31.00% [28.20%, 33.90%] {OUTSIDE_CI_MARK} · 51.00%",
    ):
        assert expected in example, expected
    assert "nearest: `mean_output`" in text  # the ledger's rule
    assert "`mean_example` 0.532" in text and "`mean_output` 0.094" in text


def test_the_rule_that_judged_no_reading_says_so(params):
    decay = {**decay_metrics(), "distances": {"mean_output": None}, "nearest": None}
    text = render_readings(readings_ledger(params), params, decay)
    assert "could judge no reading" in text


def test_the_reading_the_run_selects_is_the_one_marked(params):
    run = copy.deepcopy(params)
    run["train"]["decay_reading"] = "mean_example"
    text = render_readings(readings_ledger(run), run, decay_metrics())
    output, example = table_rows(text, DECAY_TITLE)[2:]
    assert "(in use)" in example and "(in use)" not in output
    assert "the ledger's default is `half_mean_output`" in text


def test_measured_table_shows_the_train_error_interval(params):
    """The rule writes train-error intervals too; they are shown."""
    decay = decay_metrics()
    for row in decay["rows"]:
        row["train_error_ci95"] = [0.0666, 0.0707]
    text = render_readings(readings_ledger(params), params, decay)
    output = table_rows(text, DECAY_TITLE)[2]
    assert "49.00% [46.00%, 52.00%] · 51.00%" in output
    assert "6.86% [6.66%, 7.07%] · 6.70%" in output


def test_docs_page_links_the_ledger():
    page = (ROOT / "docs" / "readings.md").read_text("utf-8")
    assert "../src/intriguing/reference/readings.yaml" in page
    assert "dvc exp run -S" in page
    assert Path(ROOT / "src/intriguing/reference/readings.yaml").exists()


def ae400_metrics() -> dict[str, Any]:
    """The `ae400_variants` rule's metrics: the default AE400 and one variant."""
    return {
        "model": "ae400",
        "paper": {"train_error": 0.0057, "test_error": 0.019},
        "default": {
            "train_error": 0.019,
            "train_error_ci95": [0.018, 0.020],
            "test_error": 0.026,
            "test_error_ci95": [0.023, 0.030],
        },
        "variants": [
            {
                "model": "ae400",
                "variant": "linear_decoder",
                "options": {"decoder": "linear"},
                "train_error": 0.006,
                "train_error_ci95": [0.0055, 0.0066],
                "test_error": 0.02,
                "test_error_ci95": [0.017, 0.023],
                "training": {
                    "pretrain_epochs_run": 13,
                    "pretrain_stop_reason": "converged (relative change)",
                    "lbfgs_iterations": 175,
                    "stop_reason": "converged (relative change)",
                },
            }
        ],
    }


def test_ae400_variants_are_shown_beside_the_default_and_the_paper(params):
    ledger = readings_ledger(params)
    assert "Not run" in render_readings(ledger, params, None).split(AE400_TITLE, 1)[1]
    text = render_readings(ledger, params, None, ae400_metrics())
    default, variant = table_rows(text, AE400_TITLE)[2:]
    assert f"1.90% [1.80%, 2.00%] {OUTSIDE_CI_MARK} · 0.57%" in default
    assert "`linear_decoder`" in variant and "`decoder: linear`" in variant
    assert "0.60% [0.55%, 0.66%] · 0.57%" in variant  # inside the interval: no mark
    assert "autoencoder 13 epochs" in variant and "175 L-BFGS iterations" in variant


# --- the paper's own inconsistencies -----------------------------------------------------------


def inconsistency(**changes: Any) -> dict[str, Any]:
    """A valid inconsistency, with `changes` applied (a value of ... removes the field)."""
    base = {
        "id": "rows_disagree",
        "topic": "Two rows disagree",
        "section": "4.2, Table 2",
        "paper": "5.0% … 6.7%",
        "slides": "Model A 0%",
        "finding": "The noise row lies below the clean error.",
        "bearing": "Not used to pick a reading.",
        "entries": ["noise_seed"],
    }
    base.update(changes)
    return {key: value for key, value in base.items() if value is not ...}


def test_repository_inconsistencies_validate_and_name_ledger_entries():
    items = paper_inconsistencies()
    assert {"noise_below_clean_error", "slides_partner_trained_on_p2"} <= {i.id for i in items}
    ids = {entry.id for entry in readings_ledger()}
    assert all(set(item.entries) <= ids for item in items)


@pytest.mark.skipif(
    not (PAPER_TEXT.exists() and SLIDES_TEXT.exists()), reason="no paper or slides text"
)
def test_repository_inconsistencies_quote_the_paper_and_the_slides_exactly():
    items = paper_inconsistencies()
    assert unquoted(items, PAPER_TEXT.read_text("utf-8")) == []
    assert unquoted(items, SLIDES_TEXT.read_text("utf-8"), "slide_quotes") == []
    assert any(item.slides for item in items)
    assert unquoted(items, "nothing", "slide_quotes") != []


@pytest.mark.parametrize(
    ("items", "names"),
    [
        ([inconsistency(finding=...)], ["rows_disagree", "finding", "missing"]),
        ([inconsistency(colour="red")], ["rows_disagree", "colour", "unknown"]),
        ([inconsistency(bearing=" ")], ["rows_disagree", "bearing", "non-empty"]),
        ([inconsistency(slides="")], ["rows_disagree", "slides", "non-empty"]),
        ([inconsistency(paper="5.0% …  … 6.7%")], ["rows_disagree", "paper", "empty fragment"]),
        ([inconsistency(entries=["no_such"])], ["rows_disagree", "entries", "no_such"]),
        ([inconsistency(entries="noise_seed")], ["rows_disagree", "entries", "list"]),
        ([inconsistency(), inconsistency()], ["rows_disagree", "id", "duplicate"]),
        ([inconsistency(id="Rows")], ["Rows", "id", "snake_case"]),
        ("not a list", ["inconsistencies"]),
    ],
)
def test_malformed_inconsistency_is_named_in_the_error(items, names):
    with pytest.raises(LedgerError) as error:
        validate_inconsistencies({"inconsistencies": items}, {"noise_seed"})
    for name in names:
        assert name in str(error.value)


def test_inconsistencies_are_optional_and_slides_too():
    assert validate_inconsistencies({"entries": []}, set()) == []
    (item,) = validate_inconsistencies(
        {"inconsistencies": [inconsistency(slides=...)]}, {"noise_seed"}
    )
    assert item.slides is None and item.slide_quotes == [] and item.quotes == ["5.0%", "6.7%"]


def test_an_unknown_top_level_key_of_the_ledger_is_refused():
    with pytest.raises(LedgerError, match="unknown top-level key 'inconsistency'"):
        validate_ledger({"entries": [entry()], "inconsistency": []})


def test_inconsistencies_are_rendered_after_the_measured_readings(params):
    items = paper_inconsistencies()
    text = render_readings(readings_ledger(params), params, None, None, items)
    assert text.index(AE400_TITLE) < text.index(INCONSISTENCIES_TITLE)
    rows = table_rows(text, INCONSISTENCIES_TITLE)
    assert len(rows) == 2 + len(items)
    assert len({row.replace(r"\|", "").count("|") for row in rows}) == 1, "ragged table"
    for item, row in zip(items, rows[2:], strict=True):
        assert cell(item.topic) in row and cell(item.finding) in row
    assert INCONSISTENCIES_TITLE not in render_readings(readings_ledger(params), params, None)

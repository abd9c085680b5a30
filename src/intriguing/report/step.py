"""Rule `report`: the reproduction report, our numbers beside the paper's, as Markdown and as one
self-contained HTML page.

Each section comes from the report module named after the stage whose results it shows; this
module reads the rule's inputs, puts the sections in order and writes the two files.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from intriguing.common.files import write_json, write_text
from intriguing.reference import paper_reference
from intriguing.reference.ledger import paper_inconsistencies, readings_ledger
from intriguing.report.adversarial import adversarial_figures, adversarial_section
from intriguing.report.advtrain import advtrain_section
from intriguing.report.board import with_verdict_board
from intriguing.report.headline import headline, slug
from intriguing.report.html_page import render_html
from intriguing.report.instability import instability_section
from intriguing.report.metrics_files import load_metrics
from intriguing.report.provenance import provenance, provenance_section, run_record
from intriguing.report.readings import render_readings
from intriguing.report.spectral import mnist_bounds_section, table5_section
from intriguing.report.train import (
    error_table_section,
    filters_section,
    training_details_section,
)
from intriguing.report.transfer import figure7_section, transfer_claims, transfer_section
from intriguing.report.units import units_section
from intriguing.report.verdicts import VerdictSettings

#: The named inputs of rule `report` (workflow/rules/report.smk). Files are matched to their
#: network, model, table or figure by name (their stem); an input left out counts as not run.
INPUT_NAMES = (
    "metrics",
    "adversarial",
    "adversarial_figures",
    "transfer",
    "transfer_figures",
    "spectral",
    "spectral_figures",
    "units",
    "units_figures",
    "instability",
    "instability_figures",
    "advtrain",
    "advtrain_figure",
    "filters",
    "readings",
    "readings_ae400",
)
HTML_TITLE = "intriguing — reproduction report"

InputPaths = Mapping[str, str | Sequence[str]]


def report(inputs: InputPaths, outputs: Mapping[str, str], params: Mapping[str, Any]) -> None:
    """Write `outputs["markdown"]`, `outputs["html"]`, the headline metrics
    (`outputs["headline"]`) and the run record (`outputs["record"]`) from the rule's named inputs
    (a path or a list of paths per name of INPUT_NAMES, as `dict(snakemake.input)` gives them)
    and params: `profile`, `run_params` (the run's params.yaml: the verdict rules' thresholds,
    the models' training sets, the attack loss's temperature; the ledger of readings is checked
    against it and marks it), and optionally `benchmarks` (the folder of Snakemake's benchmark
    files, read for the run record only)."""
    unknown = sorted(set(inputs) - set(INPUT_NAMES))
    if unknown:
        raise ValueError(f"report: unknown inputs {unknown}; known: {list(INPUT_NAMES)}")
    markdown_path, html_path = Path(outputs["markdown"]), Path(outputs["html"])
    record_path = Path(outputs["record"])
    run_params = params.get("run_params")
    sections = report_sections(inputs, markdown_path.parent, run_params)
    transfer = _read_by_stem(inputs, "transfer")
    text = report_markdown(sections, params["profile"], record_path.name)
    write_text(markdown_path, text)
    write_text(html_path, render_html(text, HTML_TITLE, html_path.parent))
    write_json(
        outputs["headline"],
        headline(
            paper_reference(),
            _read_by_stem(inputs, "metrics"),
            _read_by_stem(inputs, "adversarial"),
            transfer,
            _read_single(inputs, "advtrain"),
            sections,
            transfer_verdict_numbers(transfer, run_params),
        ),
    )
    write_text(record_path, run_record(params["profile"], params.get("benchmarks")))


def report_markdown(sections: list[str], profile: str, record_name: str) -> str:
    """The report's Markdown: the verdict board, the sections and the provenance."""
    reference = paper_reference()
    parts = [
        "# Intriguing properties of neural networks — reproduction report",
        f"Reproducing {reference['citation']} Profile: `{profile}`.",
        *with_verdict_board([section for section in sections if section]),
        provenance_section(provenance(profile), record_name),
    ]
    return "\n\n".join(parts) + "\n"


TRANSFER_TITLES = {
    "table2": "Table 2 — cross-model generalisation of adversarial examples",
    "table4": "Table 4 — cross-training-set generalisation of adversarial examples",
}
#: the paper's clean error each transfer table's noise cells are set against: that of the
#: images its originals are (Table 2: training images, Table 4: test images).
CLEAN_ERROR_KEYS = {"train": "train_error", "test": "test_error"}


def transfer_context(
    name: str, table: dict[str, Any], run_params: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, str], dict[str, float]]:
    """What a transfer table's verdicts need beside it: the paper's table, every model's
    training set (params.yaml, models.<m>.train_set) and the paper's clean error of each model
    on the kind of images the table's originals are."""
    reference = paper_reference()
    models = [*table["generated_for"], *table["evaluated_on"]]
    train_sets = {model: run_params["models"][model]["train_set"] for model in models}
    key = CLEAN_ERROR_KEYS[table["split"]]
    papers = {**reference["table1"], **reference["table3"]}
    clean_errors = {model: papers[model][key] for model in models if key in papers.get(model, {})}
    return reference[name], train_sets, clean_errors


def transfer_verdict_numbers(
    transfer: dict[str, Any], run_params: dict[str, Any] | None
) -> dict[str, dict[str, dict[str, Any]]]:
    """The numbers of every transfer verdict (state, McNemar p-values, Spearman ρ) for the
    headline metrics, by table and claim."""
    if not any(name in transfer for name in TRANSFER_TITLES):
        return {}
    settings = VerdictSettings.from_params(run_params["report"])
    numbers = {}
    for name in TRANSFER_TITLES:
        if name in transfer:
            claims = transfer_claims(
                transfer[name], *transfer_context(name, transfer[name], run_params), settings
            )
            numbers[name] = {slug(claim.claim): claim.metrics for claim in claims}
    return numbers


def report_sections(
    inputs: InputPaths,
    base_dir: Path,
    run_params: dict[str, Any] | None,
) -> list[str]:
    """The report's sections in order (empty strings for what was not run); images are linked
    relative to `base_dir`, the report's folder. `run_params`, the run's params.yaml, sets the
    verdict rules' thresholds and the attack loss's temperature (needed once adversarial or
    transfer results are given) and the ledger of readings (rendered when it is given)."""
    reference = paper_reference()
    if run_params is None and (_paths(inputs, "adversarial") or _paths(inputs, "transfer")):
        raise ValueError("report: the verdicts on adversarial and transfer results need run_params")
    settings = VerdictSettings.from_params(run_params["report"]) if run_params else None
    attack = run_params["adversarial"]["attack"] if run_params else {}
    attack_loss = {
        key: attack[key] for key in ("temperature", "temperature_scale") if key in attack
    }

    def transfer_table_section(name: str) -> str:
        table = transfer.get(name)
        context = transfer_context(name, table, run_params) if table else (reference[name], {}, {})
        return transfer_section(
            TRANSFER_TITLES[name],
            table,
            context[0],
            transfer_figures.get(name),
            base_dir,
            context[1],
            context[2],
            settings,
        )

    metrics = _read_by_stem(inputs, "metrics")
    transfer = _read_by_stem(inputs, "transfer")
    transfer_figures = _by_stem(_paths(inputs, "transfer_figures"))
    spectral = _read_by_stem(inputs, "spectral")
    spectral_figures = _by_stem(_paths(inputs, "spectral_figures"))
    sections = [
        units_section(
            _read_single(inputs, "units"), _by_stem(_paths(inputs, "units_figures")), base_dir
        ),
        figure7_section(
            transfer.get("figure7"),
            reference["figure7"]["gaussian_noise_stddev_1_accuracy"],
            transfer_figures.get("figure7"),
            base_dir,
        ),
        error_table_section(
            "Table 1 — models and their errors on clean data",
            "Train error is measured on the images each model was trained on, test error on the "
            "MNIST test set (both limited by the profile's `train_limit`/`test_limit`).",
            metrics,
            reference["table1"],
            [("train_error", "train error"), ("test_error", "test error")],
        ),
        adversarial_section(
            _read_by_stem(inputs, "adversarial"),
            reference,
            settings,
            **attack_loss,
        ),
        *adversarial_figures(_paths(inputs, "adversarial_figures"), base_dir),
        transfer_table_section("table2"),
        error_table_section(
            "Table 3 — models trained on the disjoint halves P1 and P2",
            "Errors on clean P1, P2 and test images.",
            metrics,
            reference["table3"],
            [("p1_error", "P1 error"), ("p2_error", "P2 error"), ("test_error", "test error")],
        ),
        transfer_table_section("table4"),
        training_details_section(metrics),
        filters_section(_paths(inputs, "filters"), base_dir),
        table5_section(spectral, spectral_figures, reference["table5"], base_dir),
        mnist_bounds_section(spectral, spectral_figures, base_dir),
        instability_section(
            _read_by_stem(inputs, "instability"),
            _by_stem(_paths(inputs, "instability_figures")),
            base_dir,
        ),
        advtrain_section(
            _read_single(inputs, "advtrain") or {},
            reference["adversarial_training"],
            inputs.get("advtrain_figure"),
            base_dir,
        ),
    ]
    if run_params is not None:
        sections.append(
            render_readings(
                readings_ledger(run_params),
                run_params,
                _read_single(inputs, "readings"),
                _read_single(inputs, "readings_ae400"),
                paper_inconsistencies(),
            )
        )
    return sections


def _paths(inputs: InputPaths, name: str) -> list[str]:
    """A named input as a list of paths: empty when left out, one item for a single path."""
    value = inputs.get(name, [])
    return [value] if isinstance(value, str) else list(value)


def _by_stem(paths: list[str]) -> dict[str, str]:
    """Paths by their file's stem: the network, model, table or figure they belong to."""
    return {Path(path).stem: path for path in paths}


def _read_by_stem(inputs: InputPaths, name: str) -> dict[str, Any]:
    """The metrics files of an input, checked against their layout, by their file's stem."""
    return {Path(path).stem: load_metrics(path, name) for path in _paths(inputs, name)}


def _read_single(inputs: InputPaths, name: str) -> Any | None:
    """The metrics file of a single-path input, checked against its layout; None when it is
    left out."""
    path = inputs.get(name)
    return load_metrics(path, name) if path else None

"""Rule `report`: the reproduction report, our numbers beside the paper's, as Markdown and as one
self-contained HTML page.

Each section comes from the report module named after the stage whose results it shows; this
module reads the rule's inputs, puts the sections in order and writes the two files.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from intriguing.common.files import read_json, write_json, write_text
from intriguing.reference import paper_reference
from intriguing.reference.ledger import paper_inconsistencies, readings_ledger
from intriguing.report.adversarial import adversarial_figures, adversarial_section
from intriguing.report.advtrain import advtrain_section
from intriguing.report.board import with_verdict_board
from intriguing.report.headline import headline
from intriguing.report.html_page import render_html
from intriguing.report.instability import instability_section
from intriguing.report.provenance import provenance, provenance_section, run_record
from intriguing.report.readings import render_readings
from intriguing.report.spectral import mnist_bounds_section, table5_section
from intriguing.report.train import (
    error_table_section,
    filters_section,
    training_details_section,
)
from intriguing.report.transfer import figure7_section, transfer_section
from intriguing.report.units import units_section

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
    and params: `profile`, and optionally `benchmarks` (the folder of Snakemake's benchmark
    files, read for the run record only), `attack_temperature` and `attack_temperature_scale`
    (the attack loss's, default 1 and "none" as in the paper) and `run_params` (the run's
    params.yaml, which the ledger of readings is checked against and marks)."""
    unknown = sorted(set(inputs) - set(INPUT_NAMES))
    if unknown:
        raise ValueError(f"report: unknown inputs {unknown}; known: {list(INPUT_NAMES)}")
    markdown_path, html_path = Path(outputs["markdown"]), Path(outputs["html"])
    record_path = Path(outputs["record"])
    sections = report_sections(
        inputs,
        markdown_path.parent,
        params.get("attack_temperature", 1.0),
        params.get("run_params"),
        params.get("attack_temperature_scale", "none"),
    )
    text = report_markdown(sections, params["profile"], record_path.name)
    write_text(markdown_path, text)
    write_text(html_path, render_html(text, HTML_TITLE, html_path.parent))
    write_json(
        outputs["headline"],
        headline(
            paper_reference(),
            _read_by_stem(_paths(inputs, "metrics")),
            _read_by_stem(_paths(inputs, "adversarial")),
            _read_by_stem(_paths(inputs, "transfer")),
            _read_single(inputs, "advtrain"),
            sections,
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


def report_sections(
    inputs: InputPaths,
    base_dir: Path,
    attack_temperature: float = 1.0,
    run_params: dict[str, Any] | None = None,
    attack_temperature_scale: str = "none",
) -> list[str]:
    """The report's sections in order (empty strings for what was not run); images are linked
    relative to `base_dir`, the report's folder. The ledger of readings is rendered when
    `run_params` (the run's params.yaml) is given."""
    reference = paper_reference()
    metrics = _read_by_stem(_paths(inputs, "metrics"))
    transfer = _read_by_stem(_paths(inputs, "transfer"))
    transfer_figures = _by_stem(_paths(inputs, "transfer_figures"))
    spectral = _read_by_stem(_paths(inputs, "spectral"))
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
            _read_by_stem(_paths(inputs, "adversarial")),
            reference,
            attack_temperature,
            attack_temperature_scale,
        ),
        *adversarial_figures(_paths(inputs, "adversarial_figures"), base_dir),
        transfer_section(
            "Table 2 — cross-model generalisation of adversarial examples",
            transfer.get("table2"),
            reference["table2"],
            transfer_figures.get("table2"),
            base_dir,
        ),
        error_table_section(
            "Table 3 — models trained on the disjoint halves P1 and P2",
            "Errors on clean P1, P2 and test images.",
            metrics,
            reference["table3"],
            [("p1_error", "P1 error"), ("p2_error", "P2 error"), ("test_error", "test error")],
        ),
        transfer_section(
            "Table 4 — cross-training-set generalisation of adversarial examples",
            transfer.get("table4"),
            reference["table4"],
            transfer_figures.get("table4"),
            base_dir,
        ),
        training_details_section(metrics),
        filters_section(_paths(inputs, "filters"), base_dir),
        table5_section(spectral, spectral_figures, reference["table5"], base_dir),
        mnist_bounds_section(spectral, spectral_figures, base_dir),
        instability_section(
            _read_by_stem(_paths(inputs, "instability")),
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


def _read_by_stem(paths: list[str]) -> dict[str, Any]:
    """The JSON files' contents by their file's stem."""
    return {Path(path).stem: read_json(path) for path in paths}


def _read_single(inputs: InputPaths, name: str) -> Any | None:
    """The JSON file of a single-path input; None when it is left out."""
    path = inputs.get(name)
    return read_json(path) if path else None

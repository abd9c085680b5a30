from __future__ import annotations

from pathlib import Path

from intriguing.common.files import read_json, write_text
from intriguing.reference import paper_reference
from intriguing.report.build import (
    adversarial_section,
    error_table_section,
    image,
    mnist_bounds_section,
    provenance,
    provenance_section,
    render_html,
    rule_wall_times,
    table5_section,
    training_details_section,
)
from intriguing.report.units import units_section


def report(
    metric_files: list[str],
    adversarial_files: list[str],
    markdown_path: str,
    html_path: str,
    profile: str,
    spectral_files: list[str] = (),
    spectral_figures: list[str] = (),
    transfer_files: list[str] = (),
    transfer_figures: list[str] = (),
    adversarial_figures: list[str] = (),
    benchmarks_dir: str | None = None,
    units_file: str | None = None,
    units_figures: list[str] = (),
    instability_files: list[str] = (),
    instability_figures: list[str] = (),
    advtrain_file: str | None = None,
    advtrain_figure: str | None = None,
    attack_temperature: float = 1.0,
) -> None:
    """Render the reproduction report from the metrics files (and the spectral, transfer,
    unit-analysis, instability and adversarial-training results and their figures, each named
    after its network, table or model)."""
    from intriguing.report.advtrain import advtrain_section  # it imports this module
    from intriguing.report.instability import instability_section  # it imports this module
    from intriguing.report.transfer import figure7_section, transfer_section

    reference = paper_reference()
    transfer = {Path(path).stem: read_json(path) for path in transfer_files}
    transfer_figure = {Path(path).stem: path for path in transfer_figures}.get
    metrics = {Path(path).stem: read_json(path) for path in metric_files}
    adversarial = {Path(path).stem: read_json(path) for path in adversarial_files}
    spectral = {Path(path).stem: read_json(path) for path in spectral_files}
    figures = {Path(path).stem: path for path in spectral_figures}
    base_dir = Path(markdown_path).parent
    sections = [
        "# Intriguing properties of neural networks — reproduction report",
        f"Reproducing {reference['citation']} Profile: `{profile}`.",
        units_section(
            read_json(units_file) if units_file else None,
            {Path(path).stem: path for path in units_figures},
            base_dir,
        ),
        figure7_section(
            transfer.get("figure7"),
            reference["figure7"]["gaussian_noise_stddev_1_accuracy"],
            transfer_figure("figure7"),
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
        adversarial_section(adversarial, reference, attack_temperature),
        *[image(Path(path).stem.replace("_", " "), path, base_dir) for path in adversarial_figures],
        transfer_section(
            "Table 2 — cross-model generalisation of adversarial examples",
            transfer.get("table2"),
            reference["table2"],
            transfer_figure("table2"),
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
            transfer_figure("table4"),
            base_dir,
        ),
        training_details_section(metrics),
        table5_section(spectral, figures, reference["table5"], base_dir),
        mnist_bounds_section(spectral, figures, base_dir),
        instability_section(
            {Path(path).stem: read_json(path) for path in instability_files},
            {Path(path).stem: path for path in instability_figures},
            base_dir,
        ),
        advtrain_section(
            read_json(advtrain_file) if advtrain_file else {},
            reference["adversarial_training"],
            advtrain_figure,
            base_dir,
        ),
        provenance_section(provenance(profile), rule_wall_times(benchmarks_dir)),
    ]
    text = "\n\n".join(sections) + "\n"
    write_text(markdown_path, text)
    write_text(
        html_path, render_html(text, "intriguing — reproduction report", Path(html_path).parent)
    )

"""Stage `readings`: one entry point per rule (`decay_reading`, `decay_readings`,
`ae400_variant`, `ae400_variants`), called by
workflow/scripts/<rule>.py (docs/layout.md). The stage runs the cheap alternatives of the
ledger of readings (src/intriguing/reference/readings.yaml) so the report can show them."""

from __future__ import annotations

from typing import Any

from intriguing.common import files
from intriguing.common.runtime import configure_job, select_device
from intriguing.core import mnist
from intriguing.core.models import ModelSpec
from intriguing.readings.ae400 import measure_variant, variants_summary
from intriguing.readings.decay import decay_summary, measure_reading
from intriguing.reference import paper_reference


def decay_reading(
    name: str,
    spec_params: dict[str, Any],
    readings: list[str],
    raw_files: list[str],
    split_path: str,
    output: str,
    options: dict[str, Any],
    limits: dict[str, int | None],
    seed: int,
    attack: dict[str, Any],
    noise: dict[str, Any],
    device: str,
    threads: int,
) -> None:
    """Rule `decay_reading`: refit one softmax model under every decay reading; measure each."""
    configure_job(threads)
    spec = ModelSpec.from_params(name, spec_params)
    data, split = mnist.load_raw(raw_files), mnist.load_split(split_path)
    target = select_device(device)
    rows = [
        measure_reading(spec, reading, data, split, options, limits, seed, attack, noise, target)
        for reading in readings
    ]
    files.write_json(output, {"model": name, "rows": rows})


def decay_readings(
    models: list[str], default: str, noise_stddevs: list[float], figure7_noise: float, output: str
) -> None:
    """Rule `decay_readings`: every model × reading row beside the paper's numbers."""
    summary = decay_summary(
        [row for path in models for row in files.read_json(path)["rows"]],
        default,
        paper_reference(),
        noise_stddevs,
        figure7_noise,
    )
    files.write_json(output, summary)


def ae400_variant(
    variant: str,
    base: dict[str, Any],
    overrides: dict[str, Any],
    raw_files: list[str],
    split_path: str,
    output: str,
    options: dict[str, Any],
    limits: dict[str, int | None],
    seed: int,
    device: str,
    threads: int,
) -> None:
    """Rule `ae400_variant`: refit AE400 with one variant's options; its errors."""
    configure_job(threads)
    data, split = mnist.load_raw(raw_files), mnist.load_split(split_path)
    row = measure_variant(
        variant, base, overrides, data, split, options, limits, seed, select_device(device)
    )
    files.write_json(output, row)


def ae400_variants(default: str, variants: list[str], output: str) -> None:
    """Rule `ae400_variants`: the default AE400 (train stage), every variant, the paper."""
    summary = variants_summary(
        files.read_json(default), [files.read_json(path) for path in variants], paper_reference()
    )
    files.write_json(output, summary)

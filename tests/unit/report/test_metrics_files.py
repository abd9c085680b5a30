"""The report's metrics loader: every committed metrics file passes its layout; a malformed one
is refused with an error naming the file, what is wrong and the rule to rerun."""

from __future__ import annotations

import json
import re

import pytest

from conftest import ROOT
from intriguing.report.metrics_files import (
    METRICS_LAYOUTS,
    MetricsFileError,
    load_metrics,
)
from intriguing.report.step import INPUT_NAMES

METRICS = ROOT / "reports/metrics"
#: The committed metrics files of each input of rule `report` (report.smk names the same).
COMMITTED = {
    "metrics": sorted(METRICS.glob("train/*.json")),
    "adversarial": sorted(METRICS.glob("adversarial/*_train.json"))
    + sorted(METRICS.glob("adversarial/*_test.json")),
    "transfer": sorted(METRICS.glob("transfer/*.json")),
    "spectral": sorted(METRICS.glob("spectral/*.json")),
    "units": [METRICS / "units.json"],
    "instability": sorted(METRICS.glob("instability/*.json")),
    "advtrain": [METRICS / "advtrain.json"],
    "readings": [METRICS / "readings/decay.json"],
    "readings_ae400": [METRICS / "readings/ae400.json"],
}


def test_every_metrics_input_of_the_report_has_a_layout():
    inputs = {name for name in INPUT_NAMES if not name.endswith(("figures", "figure", "filters"))}
    assert {key.split("/")[0] for key in METRICS_LAYOUTS} == inputs == set(COMMITTED)


@pytest.mark.parametrize("name", sorted(COMMITTED))
def test_the_committed_metrics_files_are_read(name):
    assert COMMITTED[name]
    for path in COMMITTED[name]:
        assert load_metrics(path, name) == json.loads(path.read_text())


def written(tmp_path, name: str, content: object) -> str:
    path = tmp_path / name
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return str(path)


def committed(relative: str) -> dict:
    return json.loads((METRICS / relative).read_text())


def without(metrics: dict, key: str) -> dict:
    return {k: v for k, v in metrics.items() if k != key}


@pytest.mark.parametrize(
    ("name", "file_name", "content", "message"),
    [
        (
            "metrics",
            "m1.json",
            without(committed("train/m1.json"), "test_error"),
            r"missing keys \['test_error'\] that rule `evaluate` writes .*--forcerun evaluate",
        ),
        (
            "adversarial",
            "n100_train.json",
            without(committed("adversarial/n100_train.json"), "success_rate"),
            r"missing keys \['success_rate'\] that rule `adversarial` writes",
        ),
        (
            "transfer",
            "table2.json",
            without(committed("transfer/table2.json"), "mcnemar"),
            r"missing keys \['mcnemar'\] that rule `transfer` writes",
        ),
        (
            "transfer",
            "figure7.json",
            without(committed("transfer/figure7.json"), "noise_accuracy"),
            r"missing keys \['noise_accuracy'\] that rule `figure7` writes",
        ),
        (
            "advtrain",
            "advtrain.json",
            {
                **committed("advtrain.json"),
                "n100_wd": without(committed("advtrain.json")["n100_wd"], "seeds"),
            },
            r"n100_wd: missing keys \['seeds'\] that rule `advtrain_summary` writes",
        ),
        ("advtrain", "advtrain.json", {"n100_wd": 1}, "n100_wd: not a JSON object"),
        ("units", "units.json", "{not json", r"not JSON \(Expecting property name"),
        ("readings", "decay.json", [1, 2], "holds a list, not a JSON object"),
    ],
)
def test_a_malformed_metrics_file_is_refused_naming_it(tmp_path, name, file_name, content, message):
    path = written(tmp_path, file_name, content)
    with pytest.raises(MetricsFileError, match=rf"^metrics file {re.escape(path)}: {message}"):
        load_metrics(path, name)


def test_figure7_is_read_with_its_own_layout_not_the_tables(tmp_path):
    figure7 = committed("transfer/figure7.json")
    assert load_metrics(written(tmp_path, "figure7.json", figure7), "transfer") == figure7
    with pytest.raises(MetricsFileError, match="missing keys .*'table'"):
        load_metrics(written(tmp_path, "table2.json", figure7), "transfer")

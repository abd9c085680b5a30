"""params.yaml's checks as Snakemake runs them: a malformed file stops Snakemake before any job,
naming the key (the checks themselves: tests/unit/plan/test_params.py)."""

import pytest
import yaml

from conftest import copy_project, snakemake


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda p: p.update(learning_rate=0.1), "'learning_rate' was unexpected"),
        (lambda p: p["train"].update(models=["nope"]), "train.models[0]: unknown model 'nope'"),
    ],
    ids=["schema", "cross-key check"],
)
def test_bad_params_stop_snakemake_before_any_job(tmp_path, mutate, expected):
    project = copy_project(tmp_path)
    params = yaml.safe_load((project / "params.yaml").read_text())
    mutate(params)
    (project / "params.yaml").write_text(yaml.safe_dump(params))
    result = snakemake(project, "--dry-run", check=False)
    assert result.returncode != 0
    assert expected in result.stdout + result.stderr
    assert not (project / "data").exists() and not (project / "models").exists()

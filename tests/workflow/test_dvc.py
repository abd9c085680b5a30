"""DVC on a throwaway git repository holding the session's smoke build: status, repro,
experiments, and push and pull through a remote of the test's own (the project commits none:
without one, push and pull stop with DVC's own message, checked on a fresh copy).

The outputs are Snakemake's (conftest's `smoke_project`), recorded by `dvc commit` as `dvc repro`
would have recorded them; the experiment then runs two stages' commands through DVC.
"""

import csv
import hashlib
import io
import json
import os
import re
import shutil
import sys
from pathlib import Path

import pytest
import yaml

from conftest import MODEL_JOBS, ROOT, copy_built, copy_project, run, snakemake, stage_targets
from intriguing.plan.params import flatten

#: The experiment of docs/experiments.md's recipe as this test runs it: a parameter read by two
#: cheap stages (transfer and readings: their noise rows), downstream of which lies the report.
EXPERIMENT = "noise-seed-1"
CHANGE = "transfer.noise_seed=1"
HEADLINE = "reports/metrics/headline.json"


def committed_repo(destination: Path, smoke_project: Path, mnist: Path) -> Path:
    """A git repository of the project whose DVC outputs and dvc.lock are the smoke build's,
    committed as a user commits results: the code first, then the report rendered at that
    commit (its provenance names it), then the outputs and dvc.lock."""
    project = copy_built(smoke_project, destination)
    run(["git", "init", "-q"], project, mnist)
    commit = (["dvc", "commit", "--force", "--quiet"], ["git", "add", "-A"])
    for command in (*commit, ["git", "commit", "-qm", "code and smoke build"]):
        run(command, project, mnist)
    snakemake(project, "--force", "reports/report.md", mnist=mnist)
    for command in (*commit, ["git", "commit", "-qm", "results"]):
        run(command, project, mnist)
    return project


@pytest.fixture(scope="module")
def repo(tmp_path_factory, smoke_project, mnist_source) -> Path:
    return committed_repo(tmp_path_factory.mktemp("dvc") / "project", smoke_project, mnist_source)


def up_to_date(repo: Path, mnist: Path) -> None:
    """DVC finds every stage up to date, and so does Snakemake (by modification time, and by
    params and code where it recorded them)."""
    assert "up to date" in run(["dvc", "status"], repo, mnist).stdout
    dry = snakemake(repo, "--dry-run", mnist=mnist)
    assert "Nothing to be done" in dry.stdout + dry.stderr


def test_smoke_build_is_up_to_date_for_dvc_and_snakemake(repo, mnist_source):
    """dvc.yaml's stages record what Snakemake's `all` made (`dvc commit` fails on a missing
    output): both tools find them up to date (a rerun of the built smoke DAG plans no job), and
    `dvc repro` runs no stage."""
    up_to_date(repo, mnist_source)
    repro = run(["dvc", "repro"], repo, mnist_source).stdout
    assert "Running stage" not in repro and "didn't change, skipping" in repro
    assert "<html" in (repo / "reports/report.html").read_text()


#: One output of one job of every rule that MODEL_JOBS (conftest) leaves out: the rules that
#: read, copy or aggregate (the cheapest job of the smoke profile). test_cluster reruns a job of
#: every rule of MODEL_JOBS and finds the smoke build's bytes, so together the two rerun one job of
#: every rule.
ONE_OUTPUT_PER_RULE = {
    "mnist": "data/raw/t10k-labels-idx1-ubyte.gz",
    "split": "data/processed/split.npz",
    "filters": "reports/figures/train/ae400_filters.png",
    "adversarial_figures": "reports/plots/adversarial/distortions.csv",
    "transfer": "reports/metrics/transfer/table4.json",
    "figure7": "reports/metrics/transfer/figure7.json",
    "units_summary": "reports/metrics/units.json",
    "advtrain_summary": "reports/metrics/advtrain.json",
    "decay_readings": "reports/metrics/readings/decay.json",
    "ae400_variants": "reports/metrics/readings/ae400.json",
    "report": "reports/report.md",
}


#: The rules upstream of every other: rerun on their own (`test_rerun_jobs_...`).
DATA_RULES = ("mnist", "split")


def test_rerun_jobs_give_the_same_bytes_so_dvc_finds_nothing_to_do(repo, mnist_source):
    """Byte-stable outputs: one job of every rule that MODEL_JOBS leaves out, rerun from the same
    inputs, writes the same bytes in every output DVC tracks (wall times and devices go to the
    jobs' logs and the run record), so `dvc status` finds nothing modified and `dvc repro` reruns
    no stage. (Run in the module's repository, first: the rerun files get their modification
    times back, so Snakemake judges the repository as before for the tests after this one.)"""
    listed = snakemake(repo, "--list-rules").stdout.splitlines()
    rules = {line.split()[0] for line in listed if line.strip()} - set(stage_targets().values())
    rules -= {"all", *MODEL_JOBS}
    assert rules == ONE_OUTPUT_PER_RULE.keys(), rules ^ ONE_OUTPUT_PER_RULE.keys()
    before = {path: path.stat().st_mtime_ns for path in sorted(repo.rglob("*")) if path.is_file()}
    outputs = [ONE_OUTPUT_PER_RULE[rule] for rule in sorted(rules)]
    # the data stage's jobs alone: forced beside the others, they would make Snakemake rerun
    # every job between them and the others' targets (their inputs "will be updated")
    data = [ONE_OUTPUT_PER_RULE[rule] for rule in DATA_RULES]
    try:
        for targets in (sorted(set(outputs) - set(data)), data):
            result = snakemake(repo, "--force", *targets, mnist=mnist_source)
            ran = result.stdout + result.stderr
            jobs = re.findall(r"^(?:local)?rule (\w+):$", ran, flags=re.MULTILINE)
            assert sorted(jobs) == sorted(
                rule for rule in rules if ONE_OUTPUT_PER_RULE[rule] in targets
            )
        assert all((repo / path).stat().st_mtime_ns > before[repo / path] for path in outputs)
        status = json.loads(run(["dvc", "status", "--json"], repo, mnist_source).stdout)
        assert status == {}, status
        repro = run(["dvc", "repro"], repo, mnist_source).stdout
        assert "Running stage" not in repro
    finally:
        for path, mtime in before.items():
            if path.is_file():
                os.utime(path, ns=(mtime, mtime))
    up_to_date(repo, mnist_source)


def experiment_data(repo: Path, name: str) -> dict:
    """`dvc exp show --json`'s params and metrics of the experiment called ``name``."""
    shown = json.loads(run(["dvc", "exp", "show", "--json"], repo).stdout)
    found = [
        exp["revs"][0]["data"]
        for row in shown
        for exp in row.get("experiments") or []
        if exp.get("name") == name
    ]
    assert found, shown
    return found[0]


def test_noise_experiment_is_compared_and_applied(repo, mnist_source, tmp_path):
    """docs/experiments.md's recipe, on one experiment against the committed smoke build
    (noise_seed 0): DVC reruns the stages that read the key and the one downstream, through
    their Snakemake commands, leaving both tools up to date; the experiment is shown with its
    params and headline metrics in a table that fits a terminal, metrics and plots diffed, then
    applied; a second draw makes a seed summary of the two experiments (not the baseline)."""
    baseline = json.loads((repo / HEADLINE).read_text())
    table2 = json.loads((repo / "reports/metrics/transfer/table2.json").read_text())
    ran = run(["dvc", "exp", "run", "-n", EXPERIMENT, "-S", CHANGE], repo, mnist_source).stdout
    stages = re.findall(r"Running stage '(\w+)'", ran)
    assert sorted(stages[:-1]) == ["readings", "transfer"] and stages[-1] == "report"
    up_to_date(repo, mnist_source)
    experiment = experiment_data(repo, EXPERIMENT)
    assert experiment["params"]["params.yaml"]["data"]["transfer"]["noise_seed"] == 1
    assert list(experiment["metrics"]) == [HEADLINE]  # the one metrics file
    stored = experiment["metrics"][HEADLINE]["data"]
    assert stored["mean_distortion"] == baseline["mean_distortion"]  # the same sets
    rerun = json.loads((repo / "reports/metrics/transfer/table2.json").read_text())
    assert rerun["noise_distortion"] != table2["noise_distortion"]  # other noise draws
    assert not any("seconds" in key or "device" in key for key in flatten(stored))
    # the recipe's table: only what differs, so it fits a terminal
    shown = run(["dvc", "exp", "show", "--no-pager", "--only-changed", "--csv"], repo).stdout
    header = next(csv.reader(io.StringIO(shown)))
    assert "transfer.noise_seed" in header and len(header) <= 40, header
    diff = json.loads(run(["dvc", "metrics", "diff", "HEAD", EXPERIMENT, "--json"], repo).stdout)
    assert set(diff) <= {HEADLINE}  # the one metrics file
    second = run(["dvc", "exp", "run", "-n", "noise-seed-2", "-S", "transfer.noise_seed=2"], repo)
    assert "Running stage 'transfer'" in second.stdout
    shown_json = tmp_path / "experiments.json"
    shown_json.write_text(run(["dvc", "exp", "show", "--json"], repo).stdout)
    summary = run(
        [
            sys.executable,
            "-m",
            "intriguing.report.experiments",
            str(shown_json),
            "--vary",
            "noise_seed",
        ],
        repo,
    ).stdout
    assert f"{EXPERIMENT}, noise-seed-2" in summary or f"noise-seed-2, {EXPERIMENT}" in summary
    assert "| 2 |" in summary and "| 3 |" not in summary  # two experiments, the baseline not
    plots = tmp_path / "plots"
    run(["dvc", "plots", "diff", "HEAD", EXPERIMENT, "-o", str(plots)], repo)
    page = (plots / "index.html").read_text()
    plots_defined = yaml.safe_load((repo / "dvc.yaml").read_text())["plots"]
    titles = [
        next(iter(plot.values()))["title"] for plot in plots_defined if isinstance(plot, dict)
    ]
    assert len(titles) == 3
    for title in titles:  # each CSV plot drawn, its title as the page's JSON spells it
        assert json.dumps(title)[1:-1] in page, title
    run(["git", "checkout", "--", "params.yaml"], repo)  # back to the baseline's noise_seed
    run(["dvc", "exp", "apply", EXPERIMENT], repo)
    params = yaml.safe_load((repo / "params.yaml").read_text())
    assert params["transfer"]["noise_seed"] == 1
    applied = json.loads((repo / "reports/metrics/transfer/table2.json").read_text())
    assert applied["noise_distortion"] == rerun["noise_distortion"]


def cached_outputs(repo: Path) -> list[str]:
    """The outputs dvc.yaml stores in the cache (and so pushes): every `outs` entry not marked
    `cache: false`."""
    stages = yaml.safe_load((repo / "dvc.yaml").read_text())["stages"]
    return [
        next(iter(out)) if isinstance(out, dict) else out
        for stage in stages.values()
        for out in stage.get("outs", [])
        if not (isinstance(out, dict) and next(iter(out.values())).get("cache") is False)
    ]


def file_hashes(repo: Path, outputs: list[str]) -> dict[str, str]:
    """MD5 of every file under the outputs, by path."""
    return {
        str(path.relative_to(repo)): hashlib.md5(path.read_bytes()).hexdigest()
        for output in outputs
        for path in ([repo / output] if (repo / output).is_file() else (repo / output).rglob("*"))
        if path.is_file()
    }


def test_push_and_pull_round_trip(repo, mnist_source, tmp_path):
    """Push to a remote of the test's own (a local directory, set in the untracked
    .dvc/config.local as a user would), delete every cached output and the cache: pull restores
    each file byte for byte, and DVC finds the workspace up to date. (Last in this file: the
    pulled files' fresh modification times would make Snakemake rerun jobs of the tests
    above.)"""
    outputs = cached_outputs(repo)
    assert {"data/raw", "models", "data/adversarial"} <= set(outputs)
    before = file_hashes(repo, outputs)
    assert {"models/softmax1.pt", "data/adversarial/softmax1_train.pt"} <= before.keys()
    assert {"data/raw", "data/processed"} <= {str(Path(path).parent) for path in before}
    remote = tmp_path / "dvc-remote"
    run(["dvc", "remote", "add", "--local", "-d", "tmp", str(remote)], repo)
    try:
        run(["dvc", "push"], repo)
        assert any(path.is_file() for path in remote.rglob("*"))
        for output in outputs:
            shutil.rmtree(repo / output)
        shutil.rmtree(repo / ".dvc" / "cache")
        run(["dvc", "pull"], repo)
        assert file_hashes(repo, outputs) == before
        assert "up to date" in run(["dvc", "status"], repo).stdout
    finally:
        run(["dvc", "remote", "remove", "--local", "tmp"], repo)


def test_push_and_pull_without_a_remote_stop_with_dvcs_message(tmp_path):
    """A fresh clone (the committed DVC config and dvc.lock, no cache): no remote is configured,
    so `dvc pull` and `dvc push` fail with DVC's own word for it, which README.md and
    docs/experiments.md quote. No smoke build needed."""
    project = copy_project(tmp_path / "clone")
    shutil.copy2(ROOT / "dvc.lock", project / "dvc.lock")
    run(["git", "init", "-q"], project)
    assert run(["dvc", "remote", "list"], project).stdout.strip() == ""
    pull = run(["dvc", "pull"], project, check=False)
    assert pull.returncode != 0
    assert "No remote provided and no default remote set." in pull.stderr
    assert "ERROR: failed to pull data from the cloud" in pull.stderr
    push = run(["dvc", "push"], project, check=False)
    assert push.returncode != 0
    assert "ERROR: failed to push data to the cloud - config file error: no remote" in push.stderr
    assert "dvc remote add -d <remote name> <remote url>" in push.stderr

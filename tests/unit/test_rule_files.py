"""The rule files and the profiles, read as text (no Snakemake run): every job rule declares its
threads and resources, exactly the torch rules take the GPU resource, the SLURM profile's sizes
cover the measured jobs, and dvc.yaml has one stage per rule file."""

import re

import yaml

from conftest import ROOT, job_rules, torch_rules

SLURM_PROFILE = yaml.safe_load((ROOT / "profiles" / "slurm" / "config.yaml").read_text())


def test_every_rule_declares_threads_and_resources():
    rules = job_rules()
    assert {"train", "adversarial", "spectral", "report"} <= set(rules)
    for name, body in rules.items():
        assert re.search(r"^    threads:", body, flags=re.MULTILINE), f"{name}: no threads"
        resources = re.search(r"^    resources:\n((?:        .*\n)+)", body, flags=re.MULTILINE)
        assert resources, f"{name}: no resources"
        for key in ("mem_mb", "runtime"):
            assert f"{key}=" in resources.group(1), f"{name}: resources lack {key}"


def test_torch_rules_take_the_gpu_the_workflow_profile_caps():
    """On one machine, exactly the torch rules take the `gpu` resource (1 when their jobs run on
    CUDA, 0 on the CPU: common.smk's USES_GPU), and the workflow profile allows one at a time."""
    rules = torch_rules()
    assert {"train", "adversarial"} <= rules
    for name, body in job_rules().items():
        assert ("gpu=int(USES_GPU)," in body) == (name in rules), name
    profile = yaml.safe_load((ROOT / "profiles" / "default" / "config.yaml").read_text())
    assert profile["resources"] == {"gpu": 1}


def test_slurm_profile_covers_the_measured_jobs():
    """The SLURM profile's sizing rule (its comments) against the committed run's job sizes
    (benchmarks/results/job_sizes.tsv, from reports/benchmarks by benchmarks/job_sizes.py):
    every rule's memory at least twice its largest measured peak, its runtime at least ten
    times its longest job; the rules it sets threads for exist."""
    sizes = (ROOT / "benchmarks" / "results" / "job_sizes.tsv").read_text().splitlines()
    header = sizes[0].split("\t")
    measured = [dict(zip(header, line.split("\t"), strict=True)) for line in sizes[1:]]
    assert {"train", "adversarial", "advtrain", "transfer"} <= {size["rule"] for size in measured}
    defaults = SLURM_PROFILE["default-resources"]
    for size in measured:
        asked = defaults | SLURM_PROFILE["set-resources"].get(size["rule"], {})
        assert asked["mem_mb"] >= 2 * float(size["peak_mb"]), (size, asked)
        assert asked["runtime"] * 60 >= 10 * float(size["longest_s"]), (size, asked)
    assert set(SLURM_PROFILE["set-threads"]) <= set(job_rules())


def test_stages_are_the_rule_files():
    """dvc.yaml has one stage per workflow/rules/<stage>.smk with rules (common.smk has none),
    so that a job's stage is its rule's file."""
    rule_files = {
        path.stem for path in (ROOT / "workflow" / "rules").glob("*.smk") if path.stem != "common"
    }
    assert set(yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]) == rule_files

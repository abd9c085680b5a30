"""Cluster safety and determinism: a job of every model rule run as a separate process (Snakemake's
cluster-generic executor) gives byte-identical metrics and identical tensors to the in-process run
of the session's smoke build; no two jobs write the same file, and every write is atomic; every
rule declares its threads and resources, and the SLURM profile gives the torch rules a GPU."""

import ast
import re
import subprocess
import sys
from collections import Counter

import torch
import yaml

from conftest import (
    ROOT,
    copy_built,
    copy_project,
    plan_jobs,
    snakemake,
)
from intriguing.common.determinism import DETERMINISTIC_ENV, determinism_environment
from intriguing.common.runtime import configure_determinism, configure_job
from intriguing.core.attack import minimal_adversarial
from intriguing.core.models import ModelSpec, build_model
from intriguing.core.optimize import TrainOptions, train

RULE_FILES = sorted((ROOT / "workflow" / "rules").glob("*.smk"))


#: One job of every rule that trains, attacks or analyses a model (every torch rule, and amplify)
#: -> its outputs. No job here reads, even through other jobs, what another one writes (the
#: Table 2 sets that advtrain_robustness reads come from every Table 2 model, so the trained
#: model is a Table 4 one), so each reruns alone, from the smoke build's files; the other rules
#: (data, transfer, figures, summaries, report) only read or aggregate what these write.
CLUSTER_JOBS = {
    "train": ["models/m2.pt"],
    "evaluate": ["reports/metrics/train/softmax1.json"],
    "adversarial": ["data/adversarial/m1p_test.pt", "reports/metrics/adversarial/m1p_test.json"],
    "amplify": [
        "data/adversarial/m1_test_amplified.pt",
        "reports/metrics/adversarial/m1_test_amplified.json",
    ],
    "spectral": ["reports/metrics/spectral/softmax1.json", "reports/figures/spectral/softmax1.png"],
    "instability": ["reports/metrics/instability/m1.json", "reports/figures/instability/m1.png"],
    "units": [
        "reports/metrics/units/n100.json",
        *(f"reports/figures/units/n100_{kind}.png" for kind in ("natural", "random", "coherence")),
    ],
    "advtrain": [
        "models_advtrain/n100_adv_input_seed0.pt",
        "reports/metrics/advtrain/n100_adv_input_seed0.json",
    ],
    "advtrain_robustness": ["reports/metrics/advtrain/n100_wd_seed0_robustness.json"],
    "decay_reading": ["reports/metrics/readings/decay/softmax2.json"],
    "ae400_variant": ["reports/metrics/readings/ae400/linear_decoder.json"],
}


def test_cluster_generic_jobs_reproduce_the_local_run(smoke_project, mnist_source, tmp_path):
    """In a copy of the session's smoke build (run by the local executor), the outputs of one
    job of every model rule are deleted and the jobs rerun through
    profiles/local-cluster, each job its own background process sharing nothing with
    Snakemake but the file system: from the same inputs, byte-identical outputs (metrics,
    weights, adversarial sets, figures)."""
    assert torch_rules() <= CLUSTER_JOBS.keys()  # a new torch rule needs a job here
    cluster = copy_built(smoke_project, tmp_path / "cluster")
    outputs = [path for paths in CLUSTER_JOBS.values() for path in paths]
    for path in outputs:
        (cluster / path).unlink()
    profile = ["--profile", "profiles/local-cluster"]
    # Snakemake looks for finished cluster jobs every 10 s by default: 1 s here.
    result = snakemake(
        cluster, *outputs, *profile, "--seconds-between-status-checks", "1", mnist=mnist_source
    )
    submitted = re.findall(r"Submitted job \d+ with external jobid '(\d+)'", result.stderr)
    job_logs = list((cluster / ".snakemake" / "local-cluster").glob("snakejob.*.log"))
    assert len(job_logs) == len(submitted) == len(set(submitted)) == len(CLUSTER_JOBS)
    assert sorted(log.name.split(".")[1] for log in job_logs) == sorted(CLUSTER_JOBS)
    for path in outputs:
        separate, local = cluster / path, smoke_project / path
        assert separate.read_bytes() == local.read_bytes(), f"{path} differs between the runs"
    # The Snakefile's `deterministic` reached the jobs through the submit command.
    assert torch.load(cluster / "models/m2.pt", weights_only=True)["provenance"]["deterministic"]


def test_determinism_param_reaches_torch(monkeypatch):
    assert determinism_environment(True)["CUBLAS_WORKSPACE_CONFIG"] == ":4096:8"
    assert "CUBLAS_WORKSPACE_CONFIG" not in determinism_environment(False)
    for value, enabled in (("1", True), ("0", False)):
        monkeypatch.setenv(DETERMINISTIC_ENV, value)
        configure_job(threads=1)
        assert torch.are_deterministic_algorithms_enabled() is enabled
        assert torch.backends.cudnn.deterministic is enabled
        assert torch.backends.cudnn.benchmark is not enabled


def test_cpu_results_do_not_depend_on_the_determinism_param():
    """What README says: on the CPU the flags change no result, of training or of the attack."""
    spec = ModelSpec.from_params(
        "toy",
        {
            "arch": "mlp",
            "hidden": [16],
            "weight_decay": [1e-4, 1e-4],
            "train_set": "all",
            "optimizer": "adam_lbfgs",
        },
    )
    generator = torch.Generator().manual_seed(0)
    x, y = torch.rand(256, 1, 28, 28, generator=generator), torch.arange(256) % 10
    options = TrainOptions(adam_epochs=2, lbfgs_iterations=0, polish_iterations=5, batch_size=32)
    results = []
    for deterministic in (True, False):
        configure_determinism(deterministic)
        torch.manual_seed(0)
        model = build_model(spec)
        train(model, spec, x, y, options)
        model.requires_grad_(False)
        attack = minimal_adversarial(model, x[:8], (y[:8] + 1) % 10, c_steps=3, max_iterations=20)
        results.append([*(p.detach().clone() for p in model.parameters()), attack.x_adv, attack.c])
    assert all(torch.equal(a, b) for a, b in zip(*results, strict=True))


def planned_writes(dry_run: str) -> list[tuple[str, set[str]]]:
    """(rule, files it writes: outputs, logs, benchmarks) of every job of a dry run."""
    return [
        (job["rule"], job["output"] | job["log"] | job["benchmark"]) for job in plan_jobs(dry_run)
    ]


def test_no_two_jobs_write_the_same_file(default_plan):
    """From Snakemake's plan of the whole default-profile DAG from scratch (conftest's
    `default_plan`): each file, and each directory a job writes into, belongs to one job only,
    so parallel jobs (`--cores N`, a cluster) never write the same path."""
    jobs = planned_writes(default_plan)
    assert len(jobs) > 40 and {rule for rule, _ in jobs} >= {"train", "adversarial", "report"}
    owners = Counter(path for _, written in jobs for path in written)
    assert [path for path, count in owners.items() if count > 1] == []
    paths = set(owners)
    nested = [(a, b) for a in paths for b in paths if b.startswith(a.rstrip("/") + "/")]
    assert nested == []


WRITE_METHODS = {
    "save",
    "savez",
    "savez_compressed",
    "savefig",
    "write_text",
    "write_bytes",
    "to_csv",
}
MODULE_WRITERS = {"shutil": {"copy", "copy2", "copyfile", "copyfileobj"}, "json": {"dump"}}


def _writes(call: ast.Call) -> bool:
    """Whether a call writes a file (torch.save, savefig, Path.write_text, open(..., "w") ...)."""
    func = call.func
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
        if func.value.id == "io":  # intriguing.common.files's own atomic helpers
            return False
        if func.attr in MODULE_WRITERS.get(func.value.id, ()):
            return True
    if isinstance(func, ast.Attribute) and func.attr in WRITE_METHODS:
        return True
    is_open = (isinstance(func, ast.Name) and func.id == "open") or (
        isinstance(func, ast.Attribute) and func.attr == "open"
    )
    if not is_open:
        return False
    position = 1 if isinstance(func, ast.Name) else 0
    modes = [k.value for k in call.keywords if k.arg == "mode"] + call.args[position:][:1]
    return any(isinstance(m, ast.Constant) and set(str(m.value)) & set("wax+") for m in modes)


def _in_atomic_block(ancestors: list[ast.AST]) -> bool:
    return any(
        isinstance(node, ast.With)
        and any(
            isinstance(item.context_expr, ast.Call)
            and "atomic_path" in ast.unparse(item.context_expr.func)
            for item in node.items
        )
        for node in ancestors
    )


def _calls(tree: ast.AST, ancestors: list[ast.AST] | None = None):
    """(call, its ancestors, the name of the function it is in) for every call in a tree."""
    ancestors = ancestors or []
    for child in ast.iter_child_nodes(tree):
        if isinstance(child, ast.Call):
            functions = [n.name for n in ancestors if isinstance(n, ast.FunctionDef)]
            yield child, ancestors, functions[-1] if functions else None
        yield from _calls(child, [*ancestors, child])


def test_every_file_write_is_atomic():
    """Every write of the library and the rule scripts happens inside an `atomic_path` block,
    or in a function that is only ever called inside one (e.g. a download into the temporary)."""
    sources = [
        *sorted((ROOT / "src" / "intriguing").rglob("*.py")),
        *sorted((ROOT / "workflow" / "scripts").rglob("*.py")),
    ]
    calls = [
        (path.name, *found)
        for path in sources
        if path.name != "io.py"
        for found in _calls(ast.parse(path.read_text()))
    ]
    unguarded = {
        (name, function, ast.unparse(call))
        for name, call, ancestors, function in calls
        # a job's log (the rule's `log:`, common.progress.job_log) is written as the job runs;
        # save_torch serialises into memory, then writes the bytes with write_bytes (atomic)
        if _writes(call)
        and not _in_atomic_block(ancestors)
        and function not in ("job_log", "save_torch")
    }
    for name, function, code in sorted(unguarded):
        call_sites = [
            ancestors for _, call, ancestors, _ in calls if ast.unparse(call.func) == function
        ]
        assert function and call_sites, f"{name}: {code} writes outside atomic_path"
        assert all(map(_in_atomic_block, call_sites)), (
            f"{name}: {function}() writes ({code}) and is called outside atomic_path"
        )
    assert sum(_writes(call) for _, call, _, _ in calls) >= 6  # the scan sees the writes


def rule_blocks() -> dict[str, str]:
    """Rule name -> the text of its definition, from every workflow/rules/*.smk file."""
    blocks = {}
    for path in RULE_FILES:
        for name, body in re.findall(
            r"^rule (\w+):\n(.*?)(?=^\S|\Z)", path.read_text(), flags=re.MULTILINE | re.DOTALL
        ):
            blocks[name] = body
    return blocks


def job_rules() -> dict[str, str]:
    """The rules that run code (script, shell or run), not the aggregate targets."""
    return {
        name: body
        for name, body in rule_blocks().items()
        if re.search(r"^    (script|shell|run|wrapper):", body, flags=re.MULTILINE)
    }


def torch_rules() -> set[str]:
    """The rules that put torch on `device` (their params pass config["device"])."""
    return {name for name, body in job_rules().items() if 'device=config["device"]' in body}


def test_every_rule_declares_threads_and_resources():
    rules = job_rules()
    assert {"train", "adversarial", "spectral", "report"} <= set(rules)
    for name, body in rules.items():
        assert re.search(r"^    threads:", body, flags=re.MULTILINE), f"{name}: no threads"
        resources = re.search(r"^    resources:\n((?:        .*\n)+)", body, flags=re.MULTILINE)
        assert resources, f"{name}: no resources"
        for key in ("mem_mb", "runtime"):
            assert f"{key}=" in resources.group(1), f"{name}: resources lack {key}"


SLURM_PROFILE = yaml.safe_load((ROOT / "profiles" / "slurm" / "config.yaml").read_text())


def test_slurm_profile_gives_each_torch_rule_a_gpu(tmp_path):
    """A dry run through the SLURM workflow profile at paper scale: every job asks for CPUs (its
    threads), memory and a runtime, and exactly the rules that put torch on `device` ask for one
    GPU."""
    gpu_rules = torch_rules()
    assert {"train", "adversarial"} <= gpu_rules
    project = copy_project(tmp_path, profile="full")
    output = snakemake(
        project, "all", "--dry-run", "--forceall", "--workflow-profile", "profiles/slurm"
    ).stdout
    jobs = [
        (rule, line)
        for rule, line in re.findall(
            r"^rule (\w+):\n(?:    .*\n)*?    resources: (.*)$", output, flags=re.MULTILINE
        )
        if rule in job_rules()  # not `all`, which only names the targets and is never submitted
    ]
    assert {rule for rule, _ in jobs} == set(job_rules())
    for rule, line in jobs:
        resources = dict(item.split("=", 1) for item in line.split(", "))
        assert {"cpus_per_task", "mem_mb", "runtime"} <= set(resources), rule
        # the tests' --max-threads 1 caps the threads, and so the CPUs
        assert resources["cpus_per_task"] == "1", rule
        assert resources.get("gpu") == ("1" if rule in gpu_rules else None), rule
    assert set(SLURM_PROFILE["set-threads"]) <= set(job_rules())


def test_slurm_profile_covers_the_measured_jobs():
    """The SLURM profile's sizing rule (its comments) against the committed run's job sizes
    (benchmarks/results/job_sizes.tsv, from reports/benchmarks by benchmarks/job_sizes.py):
    every rule's memory at least twice its largest measured peak, its runtime at least ten
    times its longest job."""
    sizes = (ROOT / "benchmarks" / "results" / "job_sizes.tsv").read_text().splitlines()
    header = sizes[0].split("\t")
    measured = [dict(zip(header, line.split("\t"), strict=True)) for line in sizes[1:]]
    assert {"train", "adversarial", "advtrain", "transfer"} <= {size["rule"] for size in measured}
    defaults = SLURM_PROFILE["default-resources"]
    for size in measured:
        asked = defaults | SLURM_PROFILE["set-resources"].get(size["rule"], {})
        assert asked["mem_mb"] >= 2 * float(size["peak_mb"]), (size, asked)
        assert asked["runtime"] * 60 >= 10 * float(size["longest_s"]), (size, asked)


def test_torch_rules_take_the_gpu_the_workflow_profile_caps():
    """On one machine, exactly the torch rules take the `gpu` resource (1 when their jobs run on
    CUDA, 0 on the CPU: common.smk's USES_GPU), and the workflow profile allows one at a time."""
    for name, body in job_rules().items():
        assert ("gpu=int(USES_GPU)," in body) == (name in torch_rules()), name
    profile = yaml.safe_load((ROOT / "profiles" / "default" / "config.yaml").read_text())
    assert profile["resources"] == {"gpu": 1}


def test_job_setup_does_not_load_the_compiler():
    """configure_job sets torch's deterministic flag without importing torch.compile's stack
    (4 s of every job's start-up on a 2-core CPU; the pipeline never compiles)."""
    code = (
        "import sys, torch; from intriguing.common.runtime import configure_job; configure_job(1); "
        "assert torch.are_deterministic_algorithms_enabled(); "
        "assert 'torch._dynamo' not in sys.modules, 'torch._dynamo imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)

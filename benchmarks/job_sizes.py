"""Every rule's measured job size, from a run's job records: what profiles/slurm is sized from.

    uv run python benchmarks/job_sizes.py       # after `uv run snakemake --cores all`

Reads Snakemake's benchmark file of every job (reports/benchmarks: wall time, peak resident
memory) and, from a dry run of the same DAG, the rule of each; writes per rule the number of
jobs, the longest job and the largest peak to benchmarks/results/job_sizes.tsv, which
tests/unit/test_rule_files.py holds the SLURM profile's sizes against.
"""

from __future__ import annotations

import argparse
import csv
import re
import subprocess
from pathlib import Path

from intriguing.common.files import write_text

ROOT = Path(__file__).resolve().parents[1]
RESULT = ROOT / "benchmarks" / "results" / "job_sizes.tsv"
COLUMNS = ("rule", "jobs", "longest_s", "peak_mb")
#: A job of a dry run's output: its rule, then its indented fields, one of them `benchmark`.
JOB = re.compile(r"^(?:local)?rule (\w+):\n((?:    .*\n)+)", flags=re.MULTILINE)


def rules_by_benchmark(targets: list[str]) -> dict[str, str]:
    """Benchmark file -> the rule of the job that writes it, in a dry run of `targets`."""
    dry_run = subprocess.run(
        ["snakemake", *targets, "--dry-run", "--forceall"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if dry_run.returncode != 0:
        raise SystemExit(f"snakemake --dry-run failed:\n{dry_run.stderr}")
    plan = dry_run.stdout
    rules = {}
    for rule, fields in JOB.findall(plan):
        benchmark = re.search(r"^    benchmark: (.*)$", fields, flags=re.MULTILINE)
        if benchmark:
            rules[benchmark.group(1)] = rule
    return rules


def job_sizes(folder: Path, rules: dict[str, str]) -> list[dict[str, object]]:
    """Per rule: its jobs, the longest wall time (s) and the largest peak memory (MB)."""
    sizes: dict[str, dict[str, object]] = {}
    for path in sorted(folder.rglob("*.tsv")):
        with path.open() as handle:
            record = next(csv.DictReader(handle, delimiter="\t"))
        rule = rules[str(path.relative_to(ROOT))]
        size = sizes.setdefault(rule, {"rule": rule, "jobs": 0, "longest_s": 0.0, "peak_mb": 0.0})
        size["jobs"] += 1
        size["longest_s"] = max(size["longest_s"], float(record["s"]))
        size["peak_mb"] = max(size["peak_mb"], float(record["max_rss"]))
    return [sizes[rule] for rule in sorted(sizes)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--targets", nargs="*", default=["all"], help="the run's targets")
    args = parser.parse_args()
    sizes = job_sizes(ROOT / "reports" / "benchmarks", rules_by_benchmark(args.targets))
    lines = ["\t".join(COLUMNS)] + [
        f"{size['rule']}\t{size['jobs']}\t{size['longest_s']:.1f}\t{size['peak_mb']:.0f}"
        for size in sizes
    ]
    write_text(RESULT, "\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()

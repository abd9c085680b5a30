"""Mean ± std of metrics across DVC experiments that differ only in their seed.

Run the seeds as DVC experiments, then summarise them:

    for seed in 0 1 2; do uv run dvc exp run --queue -S seed=$seed -n seed-$seed; done
    uv run dvc queue start && uv run dvc queue status   # wait until all have run
    uv run dvc exp show --json > experiments.json
    uv run python -m intriguing.report.experiments experiments.json > reports/seeds.md

Experiments (not the workspace, not the baselines they branch from) are grouped by all their
params except `seed` (or the key given by --vary); each group with at least two experiments gets
one row per numeric metric (the headline metrics, reports/metrics/headline.json): mean, standard
deviation (n − 1 denominator), the number of experiments and their values.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from intriguing.plan.params import flatten
from intriguing.report.format import markdown_table


def experiments(
    shown: list[dict[str, Any]],
) -> Iterator[tuple[str, dict[str, Any], dict[str, Any]]]:
    """(name, flat params, flat metrics) of every experiment in `dvc exp show --json` output;
    the rows' own data (the workspace, each baseline commit) are not experiments."""

    def parsed(name: str, data: dict[str, Any]):
        params = {
            key: value
            for file, content in (data.get("params") or {}).items()
            for key, value in flatten(content.get("data", {}), file).items()
        }
        metrics = {
            key: value
            for file, content in (data.get("metrics") or {}).items()
            for key, value in flatten(content.get("data", {}), file).items()
        }
        return name, params, metrics

    for row in shown:
        for experiment in row.get("experiments") or []:
            for revision in experiment.get("revs") or []:
                if revision.get("data"):
                    name = experiment.get("name") or _short(revision["rev"])
                    yield parsed(name, revision["data"])


def _short(rev: str) -> str:
    """A commit's short hash; other revisions ("workspace") as they are."""
    return rev[:7] if len(rev) == 40 else rev


def seed_groups(
    shown: list[dict[str, Any]], vary: str = "seed"
) -> list[tuple[dict[str, Any], list[tuple[str, dict[str, Any]]]]]:
    """Runs grouped by their params without `vary` (matched as the last key component)."""
    groups: dict[str, tuple[dict[str, Any], list]] = {}
    for name, params, metrics in experiments(shown):
        fixed = {k: v for k, v in params.items() if k.rsplit(".", 1)[-1] != vary}
        key = json.dumps(fixed, sort_keys=True, default=str)
        groups.setdefault(key, (fixed, []))[1].append((name, metrics))
    return [group for group in groups.values() if len(group[1]) >= 2]


def summary_rows(members: list[tuple[str, dict[str, Any]]]) -> list[list[str]]:
    """Per numeric metric present in every experiment: mean ± std."""
    keys = sorted(
        key
        for key in members[0][1]
        if all(
            isinstance(m.get(key), int | float) and not isinstance(m.get(key), bool)
            for _, m in members
        )
    )
    rows = []
    for key in keys:
        values = [float(m[key]) for _, m in members]
        rows.append(
            [
                f"`{key}`",
                f"{statistics.mean(values):.4g}",
                f"{statistics.stdev(values):.2g}",
                str(len(values)),
                ", ".join(f"{v:.4g}" for v in values),
            ]
        )
    return rows


def seed_report(shown: list[dict[str, Any]], vary: str = "seed") -> str:
    groups = seed_groups(shown, vary)
    if not groups:
        return f"No two experiments differ only in `{vary}`: nothing to summarise."
    parts = [f"# Mean ± std across `{vary}`"]
    for index, (_, members) in enumerate(groups, 1):
        parts.append(f"## Group {index}: {', '.join(name for name, _ in members)}")
        parts.append(
            markdown_table(
                ["metric", "mean", "std", "experiments", "values"], summary_rows(members)
            )
        )
    return "\n\n".join(parts) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("shown", type=Path, help="output of `dvc exp show --json`")
    parser.add_argument("--vary", default="seed", help="the param the runs differ in")
    args = parser.parse_args(argv)
    sys.stdout.write(seed_report(json.loads(args.shown.read_text()), args.vary))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The rules of each DVC stage, read from its rule file (workflow/rules/<stage>.smk), so that a
new rule needs no edit of dvc.yaml: each stage's command restricts Snakemake to them with
``--allowed-rules $(python -m intriguing.plan.stages <stage>)``, and a stage never remakes
another stage's outputs."""

from __future__ import annotations

import re
import sys
from pathlib import Path

RULE = re.compile(r"^rule (\w+):", re.MULTILINE)


def stage_rules(stage: str, workflow: Path = Path("workflow")) -> list[str]:
    """The rules `workflow/rules/<stage>.smk` defines, in file order."""
    path = workflow / "rules" / f"{stage}.smk"
    if not path.is_file():
        raise FileNotFoundError(f"stage {stage!r}: no rule file {path}")
    return RULE.findall(path.read_text())


def main(arguments: list[str]) -> int:
    if len(arguments) != 1:
        print("usage: python -m intriguing.plan.stages <stage>", file=sys.stderr)
        return 2
    try:
        print(" ".join(stage_rules(arguments[0])))
    except FileNotFoundError as error:
        print(error, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

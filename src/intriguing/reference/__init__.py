"""The paper's printed numbers (paper.yaml beside this file), read by the sections and rules
that compare with them. The ledger of readings is in `intriguing.reference.ledger`."""

from __future__ import annotations

from importlib import resources
from typing import Any

import yaml


def paper_reference() -> dict[str, Any]:
    """The paper's printed numbers (src/intriguing/reference/paper.yaml)."""
    text = resources.files("intriguing.reference").joinpath("paper.yaml").read_text("utf-8")
    return yaml.safe_load(text)

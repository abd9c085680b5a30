"""The committed results come from one default-profile run of committed code and params: the
committed report's provenance says so."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def provenance_rows(report: str) -> dict[str, str]:
    """The provenance table of a report: what -> value (without the backticks)."""
    section = report.split("## Provenance", 1)[1]
    return dict(re.findall(r"^\| ([^|]+?) \| `([^`]*)` \|$", section, flags=re.MULTILINE))


def test_committed_report_comes_from_committed_code_and_params_on_the_default_profile():
    rows = provenance_rows((ROOT / "reports" / "report.md").read_text(encoding="utf-8"))
    assert rows["profile"] == "default"
    assert rows["params changed from the commit"] == "none", rows
    assert rows["uncommitted code changes"] == "none", rows
    assert rows["DVC experiment"].startswith("none")
    assert re.fullmatch(r"[0-9a-f]{7,}", rows["code commit"]), rows


def test_provenance_rows_are_read_from_the_table():
    report = "# r\n\n## Provenance\n\n| what | value |\n| --- | --- |\n| profile | `smoke` |\n"
    assert provenance_rows(report) == {"profile": "smoke"}

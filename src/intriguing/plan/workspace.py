"""Where a run may write: the results committed in a working tree were made by one profile, and a
smaller or larger profile must not replace them there (docs/operations.md, "Profiles")."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

#: The committed report, which names the profile that made the committed results.
COMMITTED_REPORT = "reports/report.md"
_PROFILE_LINE = re.compile(r"Profile: `(?P<profile>[\w-]+)`")


def committed_profile(directory: str | os.PathLike[str]) -> str | None:
    """The profile of the results git tracks in `directory` (the committed report names it);
    None where git tracks no report there."""
    try:
        report = subprocess.run(
            ["git", "show", f"HEAD:./{COMMITTED_REPORT}"],
            cwd=directory,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    match = _PROFILE_LINE.search(report)
    return match["profile"] if match else None


def profile_refusal(profile: str, directory: str | os.PathLike[str]) -> str | None:
    """Why a run of `profile` must not start in `directory`, or None when it may.

    A profile other than the one whose results git tracks there would write over them. A DVC
    experiment may (`DVC_EXP_NAME` is set): DVC keeps each experiment's outputs in its own ref
    and restores the baseline's.
    """
    if os.environ.get("DVC_EXP_NAME"):
        return None
    committed = committed_profile(directory)
    if committed is None or committed == profile:
        return None
    return (
        f"profile {profile!r} would write over the {committed!r} profile's results that git "
        f"tracks in {Path(directory).resolve()} (reports/, named by {COMMITTED_REPORT}). Run it "
        f"in a folder of its own, e.g. `uv run snakemake --cores all --config profile={profile} "
        f"--directory runs/{profile}` (runs/ is ignored by git), or as a DVC experiment: "
        f"`uv run dvc exp run --temp -S profile={profile}`."
    )

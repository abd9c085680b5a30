"""The names a researcher imports from `intriguing` (docs/api.md): pinned, so that moving a
module never breaks a user's import, and the docs page's example runs as written."""

from __future__ import annotations

import contextlib
import io
import re
import subprocess
import sys
from pathlib import Path

import intriguing

ROOT = Path(__file__).resolve().parents[2]

PUBLIC = {
    "AttackResult",
    "UnitsOptions",
    "amplify",
    "analyse_directions",
    "choose_targets",
    "conv_frame_bounds",
    "count_errors",
    "distortion",
    "error_rate",
    "exact_minimal_distortion",
    "gaussian_noise",
    "layer_activations",
    "linear_frame_bounds",
    "linear_map",
    "minimal_adversarial",
    "minimal_adversarial_closest",
    "network_frame_bounds",
    "predict",
}


def test_public_names_are_pinned_and_importable():
    assert set(intriguing.__all__) == PUBLIC
    for name in PUBLIC:
        assert callable(getattr(intriguing, name)), name


def test_importing_the_package_loads_no_torch():
    """The Snakefile imports intriguing.plan: the public names load on first use only."""
    code = "import sys, intriguing.plan.specs; assert 'torch' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_an_unknown_name_is_an_attribute_error():
    try:
        intriguing.no_such_function  # noqa: B018
    except AttributeError as error:
        assert "no_such_function" in str(error)
    else:
        raise AssertionError("no AttributeError")


def test_the_docs_example_runs_on_a_users_own_module():
    page = (ROOT / "docs" / "api.md").read_text()
    (example,) = re.findall(r"```python\n(.*?)```", page, re.S)
    assert "from intriguing import (" in example
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        exec(compile(example, "docs/api.md", "exec"), {"__name__": "__docs__"})
    printed = output.getvalue()
    assert re.search(r"success \d+%, distortion 0\.\d+", printed)
    assert "other model's error" in printed and "'status':" in printed

"""The library's architecture, beside the import-linter contract that `uv run lint-imports`
checks in CI (pyproject.toml, [tool.importlinter]): every package of the library has its layer,
and no private name crosses a package."""

from __future__ import annotations

import ast
import tomllib

from imports import PACKAGE, ROOT


def contract_layers() -> list[set[str]]:
    settings = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    (contract,) = settings["contracts"]
    return [{name.strip() for name in layer.split("|")} for layer in contract["layers"]]


def test_every_package_has_exactly_one_layer():
    packages = sorted(path.parent.name for path in PACKAGE.glob("*/__init__.py"))
    layered = [name for layer in contract_layers() for name in layer]
    assert sorted(layered) == packages, "each package of src/intriguing in one layer, once"


def test_stages_sit_between_report_and_core():
    layers = contract_layers()
    assert layers[0] == {"report"} and layers[2] == {"core"}
    assert {"adversarial", "train", "transfer"} <= layers[1]


def private_imports_across_packages() -> list[str]:
    """`from intriguing.<other package>... import _name` anywhere in the library."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        own = path.relative_to(PACKAGE).parts[0]
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.ImportFrom) or not node.module or node.level:
                continue
            parts = node.module.split(".")
            if parts[0] != "intriguing" or len(parts) < 2 or parts[1] == own:
                continue
            found += [
                f"{path.relative_to(PACKAGE)}: {node.module}.{alias.name}"
                for alias in node.names
                if alias.name.startswith("_")
            ]
    return found


def test_no_private_name_crosses_a_package():
    assert private_imports_across_packages() == []

"""The import graph of the project's own code, read from the source (nothing is imported).

Used by the DVC test (each stage's dependencies cover the files its jobs import). Imports
inside functions count: they run when called.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "src"
PACKAGE = SOURCE / "intriguing"


def module_file(module: str) -> Path | None:
    """The file of a dotted module name of the project (a module or a package), or None."""
    base = SOURCE.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def package_inits(module: str) -> set[Path]:
    """The __init__.py of every package above and including `module`'s own package: importing
    a module runs each of them."""
    parts = module.split(".")
    inits = (SOURCE.joinpath(*parts[:end], "__init__.py") for end in range(1, len(parts) + 1))
    return {init for init in inits if init.is_file()}


def imported_modules(code: str) -> set[str]:
    """Dotted names of the project's modules that `code` imports, at any depth of the code."""
    modules: set[str] = set()
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules.add(node.module)
            # `from package import module` imports the module too
            modules.update(f"{node.module}.{alias.name}" for alias in node.names)
    return {module for module in modules if module.split(".")[0] == "intriguing"}


#: An import statement on one line of a Snakefile or rule file (Snakemake's syntax is not Python).
SNAKEMAKE_IMPORT = re.compile(r"^[ \t]*((?:from|import)[ \t]+intriguing\b[^\n(]*)$", re.MULTILINE)


def python_code(path: Path) -> str:
    """The Python source of `path`; of a Snakefile or .smk file, its import lines."""
    text = path.read_text()
    if path.suffix == ".py":
        return text
    return "\n".join(SNAKEMAKE_IMPORT.findall(text))


def direct_imports(path: Path) -> set[Path]:
    """The project files that running `path` imports directly (packages' __init__.py included)."""
    files: set[Path] = set()
    for module in imported_modules(python_code(path)):
        target = module_file(module)
        if target is not None:
            files |= {target, *package_inits(module)}
    return files


def closure(starts: list[Path]) -> set[Path]:
    """Every project file that running `starts` imports, directly or not, with the data files
    that lie beside them in their packages and that they name (reference/__init__.py reads
    paper.yaml; the ledger's readings.yaml beside it is read by reference/ledger.py alone)."""
    seen: set[Path] = set()
    todo = list(starts)
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        todo.extend(direct_imports(path) - seen)
    data = {
        file
        for module in seen
        if PACKAGE in module.parents
        for file in module.parent.iterdir()
        if file.is_file() and file.suffix != ".py" and file.name in module.read_text("utf-8")
    }
    return seen | data

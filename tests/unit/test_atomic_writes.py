"""Every file the library and the rule scripts write is written atomically (inside
intriguing.common.files's `atomic_path`), found by reading their code: a killed job leaves the
old file or none, never half of one."""

import ast

from conftest import ROOT

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


def writes(call: ast.Call) -> bool:
    """Whether a call writes a file (torch.save, savefig, Path.write_text, open(..., "w") ...)."""
    func = call.func
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
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


def in_atomic_block(ancestors: list[ast.AST]) -> bool:
    return any(
        isinstance(node, ast.With)
        and any(
            isinstance(item.context_expr, ast.Call)
            and "atomic_path" in ast.unparse(item.context_expr.func)
            for item in node.items
        )
        for node in ancestors
    )


def calls(tree: ast.AST, ancestors: list[ast.AST] | None = None):
    """(call, its ancestors, the name of the function it is in) for every call in a tree."""
    ancestors = ancestors or []
    for child in ast.iter_child_nodes(tree):
        if isinstance(child, ast.Call):
            functions = [n.name for n in ancestors if isinstance(n, ast.FunctionDef)]
            yield child, ancestors, functions[-1] if functions else None
        yield from calls(child, [*ancestors, child])


def test_every_file_write_is_atomic():
    """Every write of the library and the rule scripts happens inside an `atomic_path` block,
    or in a function that is only ever called inside one (e.g. a download into the temporary)."""
    sources = [
        *sorted((ROOT / "src" / "intriguing").rglob("*.py")),
        *sorted((ROOT / "workflow" / "scripts").glob("*.py")),
    ]
    found = [(path.name, *call) for path in sources for call in calls(ast.parse(path.read_text()))]
    unguarded = {
        (name, function, ast.unparse(call))
        for name, call, ancestors, function in found
        # a job's log (the rule's `log:`, common.progress.job_log) is written as the job runs;
        # save_torch serialises into memory, then writes the bytes with write_bytes (atomic)
        if writes(call)
        and not in_atomic_block(ancestors)
        and function not in ("job_log", "save_torch")
    }
    for name, function, code in sorted(unguarded):
        call_sites = [
            ancestors for _, call, ancestors, _ in found if ast.unparse(call.func) == function
        ]
        assert function and call_sites, f"{name}: {code} writes outside atomic_path"
        assert all(map(in_atomic_block, call_sites)), (
            f"{name}: {function}() writes ({code}) and is called outside atomic_path"
        )
    assert sum(writes(call) for _, call, _, _ in found) >= 6  # the scan sees the writes

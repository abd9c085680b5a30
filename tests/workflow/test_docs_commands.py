"""Every command that README.md and docs/*.md show runs, as written or in a dry or light form, in
a throwaway copy of the project: a moved path, a renamed option or a stale flag in the docs fails
here rather than in a reader's shell.

The commands are read from the docs' text when the tests are collected, never retyped: each
command line of a ```bash / ```sh block (and each line of an untagged block that starts with a
tool), and each inline code span that holds a `uv run` command. `RULES` says how each runs: as
written; with a dry-run flag (Snakemake `--dry-run`, `dvc repro --dry`, `uv sync --dry-run`,
pytest `--collect-only -q`); `dvc exp run` queued (`--queue`) instead of run; a benchmark with
`--help`, whose output must list every option the docs give it; or skipped for the reason the
rule states. A command that no rule matches fails, so a newly documented command must be
classified here.

They run in a git repository holding a copy of the project on the default profile (the one the
docs describe) with the checkout's dvc.lock, reports/ and docs, and stand-ins for the data and
models (`make_repository`). `uv run` is the tests' own environment: the commands run with
UV_PROJECT pointing at this checkout and UV_NO_SYNC set, so they never change it. Every command
runs up front, side by side (`doc_runs`); each test reads its command's result.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from conftest import ROOT, copy_project, environment, run

DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
#: What the project copy holds beyond conftest's PROJECT_FILES: the docs (the report commands
#: rewrite them), the committed DVC state and metrics, the benchmarks and the tests (whose
#: collection the pytest commands check, with pyproject.toml's pytest settings).
EXTRA_FILES = ("README.md", "docs", "reports", "dvc.lock", "benchmarks", "tests", "pyproject.toml")
#: Fenced blocks whose every line is a shell command; an untagged block's lines are commands only
#: where they start with a tool (COMMAND_START), since such blocks also show trees and output.
SHELL_BLOCKS = {"bash", "sh", "shell"}
FENCE = re.compile(r"^\s*```\s*(\w*)")
ENV_ASSIGNMENTS = r"(?:[A-Za-z_]\w*=\S*\s+)*"
COMMAND_START = re.compile(rf"^{ENV_ASSIGNMENTS}(?:uv|dvc|snakemake|python3?|for)\s")
INLINE = re.compile(r"`([^`]+)`")
UV_RUN_COMMAND = re.compile(rf"^{ENV_ASSIGNMENTS}uv run\s")
#: `uv run` and its own options (`--group bench`), stripped before the rules match the tool.
UV_RUN = re.compile(
    rf"^{ENV_ASSIGNMENTS}(?:uv run(?:\s+--(?:group|extra|with)[ =]\S+|\s+--[\w-]+)*\s+)?"
)
#: Placeholders of the docs' prose, and the value the test runs them with.
PLACEHOLDERS = {"<s>": "data"}  # README: "stage `<s>`", any stage of dvc.yaml
#: Seconds a command may run (the slowest, collecting the whole test suite, takes ~15 s).
TIMEOUT = 300
#: Commands run side by side, at most this many at once (the DVC lane's one after another).
WORKERS = 4


@dataclass(frozen=True)
class DocCommand:
    """One command as a doc shows it (comments stripped, continuation lines joined)."""

    doc: str
    line: int
    text: str

    def __str__(self) -> str:
        return f"{self.doc}: {self.text}"


def strip_comment(line: str) -> str:
    """`line` without a trailing shell comment (a `#` that starts a word, outside quotes)."""
    quote = None
    for index, char in enumerate(line):
        if quote:
            quote = None if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "#" and (index == 0 or line[index - 1].isspace()):
            return line[:index].rstrip()
    return line.rstrip()


def block_commands(doc: str, lines: list[str]) -> list[DocCommand]:
    """The command lines of the doc's fenced shell blocks (`\\` continuations joined)."""
    commands, language, pending, start = [], None, "", 0
    for number, line in enumerate(lines, start=1):
        fence = FENCE.match(line)
        if fence:
            language = None if language is not None else fence.group(1)
            continue
        if language is None or language not in SHELL_BLOCKS | {""}:
            continue
        text = strip_comment(line)
        if not pending:
            start = number
        if text.endswith("\\"):
            pending += text[:-1].strip() + " "
            continue
        text, pending = (pending + text.strip()).strip(), ""
        if text and (language in SHELL_BLOCKS or COMMAND_START.match(text)):
            commands.append(DocCommand(doc, start, " ".join(text.split())))
    return commands


def inline_commands(doc: str, lines: list[str]) -> list[DocCommand]:
    """The doc's inline code spans that hold a `uv run` command, alone or in a compound line
    (`git checkout -- reports && uv run dvc checkout`), in prose or in a block's comment; a span
    may wrap onto the next line, not across a paragraph."""
    text = "\n".join("" if FENCE.match(line) else line for line in lines)
    found = []
    for match in INLINE.finditer(text):
        span = " ".join(match.group(1).split())
        if "\n\n" in match.group(1):
            continue
        if any(UV_RUN_COMMAND.match(span[begin:end]) for begin, end in segments(span)):
            found.append(DocCommand(doc, text.count("\n", 0, match.start()) + 1, span))
    return found


def doc_commands() -> list[DocCommand]:
    """Every documented command, once per doc (the first place it shows it), in doc order."""
    found: dict[tuple[str, str], DocCommand] = {}
    for path in DOCS:
        doc = str(path.relative_to(ROOT))
        lines = path.read_text().splitlines()
        for command in block_commands(doc, lines) + inline_commands(doc, lines):
            found.setdefault((doc, command.text), command)
    return sorted(
        found.values(), key=lambda command: (DOCS.index(ROOT / command.doc), command.line)
    )


# -- how each command runs ------------------------------------------------------------------------

AS_WRITTEN, APPEND, HELP, SKIP = "as written", "append", "help", "skip"


@dataclass(frozen=True)
class Rule:
    """Commands whose tool part (`uv run` and environment assignments stripped) matches
    `pattern` run `how`: AS_WRITTEN; APPEND `extra` (a dry-run flag); HELP (the script with
    `--help` instead of its arguments, which must be options its help lists); SKIP (`extra` says
    why). `lane`: run in the shared repository one after another with the lane's other commands
    (DVC's would contend for its lock); `copy`: run in a copy of their own (they write what other
    commands read, or lock what others plan); neither: run in the shared repository, side by
    side with the others."""

    pattern: str
    how: str
    extra: str = ""
    lane: str | None = None
    copy: bool = False


SNAKEMAKE_PLANS = (
    "--unlock --dag --rulegraph --filegraph --summary --detailed-summary --lint --list-rules "
    "--list-target-rules --report"
).split()
RULES = (
    # (the README shows it inline, and inline spans are read only when they hold `uv run`: this
    # rule covers a block that shows it)
    Rule(
        r"^python3? -m pip install uv$",
        SKIP,
        "installs uv from PyPI into the machine's Python (the internet): uv is already what "
        "runs these tests",
    ),
    Rule(
        r"^bash profiles/slurm/one-node-cluster\.sh\b",
        SKIP,
        "starts a Slurm cluster (as root) and runs the smoke DAG on it: "
        "tests/workflow/test_slurm.py runs this command as written (`uv run pytest -m slurm`)",
    ),
    # a plain `uv sync` would remove what the tests' own environment holds beyond the defaults
    Rule(r"^uv sync\b", APPEND, "--dry-run"),
    # dry runs take no lock and write nothing (they run side by side in the shared repository);
    # the other plans may lock the directory (--rulegraph, --summary), unlock it or write a file
    Rule(r"^snakemake\b.*\s(-n|--dry-run)(\s|$)", AS_WRITTEN),
    Rule(
        rf"^snakemake\b.*\s({'|'.join(map(re.escape, SNAKEMAKE_PLANS))})(\s|$)",
        AS_WRITTEN,
        copy=True,
    ),
    Rule(r"^snakemake\b", APPEND, "--dry-run"),
    Rule(r"^pytest\b", APPEND, "--collect-only -q"),
    # reads the source and writes nothing but its cache: runs as written
    Rule(r"^lint-imports$", AS_WRITTEN),
    Rule(r"^dvc repro\b", APPEND, "--dry", lane="dvc"),
    # `dvc exp run --dry` cannot plan past a stage whose outputs are absent (DVC issue #10135),
    # and the copy holds no data: queueing instead checks the command and its -S keys (DVC
    # rejects a key params.yaml lacks) and runs nothing. In a copy without the stand-in
    # experiments of the same names (`doc_runs`), which a queued name may not clash with.
    Rule(r"^dvc exp run\b.*\s--queue(\s|$)", AS_WRITTEN, copy=True),
    Rule(r"^dvc exp run\b", APPEND, "--queue", copy=True),
    Rule(
        r"^dvc queue start\b",
        SKIP,
        "starts workers that run every queued experiment in full (the whole pipeline each); "
        "`dvc queue status` runs here",
    ),
    Rule(
        r"^dvc (status|queue status|exp (show|list|apply)|metrics (show|diff)|params diff|"
        r"plots (show|diff)|push|pull)\b",
        AS_WRITTEN,
        lane="dvc",
    ),
    Rule(r"^dvc remote (add|modify)\b", AS_WRITTEN, copy=True),
    # restore the committed results (git) and the outputs of dvc.lock (DVC's cache)
    Rule(r"^git checkout -- [\w./ -]+$", AS_WRITTEN, copy=True),
    Rule(r"^dvc checkout\b", AS_WRITTEN, copy=True),
    Rule(r"^python -m intriguing\.report\.experiments\b", AS_WRITTEN, lane="dvc"),
    Rule(
        r"^python -m intriguing\.report\.rulegraph OUT\.png$",
        SKIP,
        "the drawing program's usage line: it reads the rule graph on stdin, from the pipe "
        "`snakemake --rulegraph --forceall | ...` the docs show in full, which runs here",
    ),
    Rule(r"^python -m intriguing\.report\.(summary|rulegraph)\b", AS_WRITTEN, copy=True),
    # the benchmarks run for minutes to hours (gpu_check.py, the shortest, needs CUDA or ~1 min)
    Rule(r"^python3? benchmarks/\w+\.py\b", HELP),
)


def rule_for(segment: str) -> Rule | None:
    tool = UV_RUN.sub("", segment, count=1)
    return next((rule for rule in RULES if re.search(rule.pattern, tool)), None)


def segments(text: str) -> list[tuple[int, int]]:
    """(start, end) of each simple command of a shell line: the parts between unquoted `|`,
    `||`, `&&` and `;`, with a loop's `do` dropped and its `for ...` and `done` left out."""
    spans, quote, start = [], None, 0
    for index, char in enumerate(text + ";"):
        if quote:
            quote = None if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char in "|&;" and index >= start:
            spans.append((start, index))
            start = index + 1
            while start < len(text) and text[start] in "|&":
                start += 1
    found = []
    for begin, end in spans:
        part = text[begin:end]
        begin += len(part) - len(part.lstrip())
        part = part.strip()
        if part.startswith("do "):
            begin += 3
            part = part[3:].lstrip()
        if part and part != "done" and not part.startswith("for "):
            found.append((begin, begin + len(part)))
    return found


@dataclass(frozen=True)
class Plan:
    """How one documented command runs: the shell line, where, and what its output must show."""

    shell: str
    lane: str | None = None
    copy: bool = False
    skip: str = ""
    unclassified: tuple[str, ...] = ()
    options: tuple[str, ...] = ()  # options the docs give a HELP-run script: its help must list


def plan(command: DocCommand) -> Plan:
    """How `command` runs: each simple command of its line in its rule's form (flags go before a
    redirection), the line in a copy of its own when one part needs it, skipped when one part
    is, and the parts that no rule matches listed."""
    text = command.text
    for placeholder, value in PLACEHOLDERS.items():
        text = text.replace(placeholder, value)
    shell, lanes, copy, unclassified, options, skips = text, set(), False, [], [], []
    for begin, end in reversed(segments(text)):
        segment = text[begin:end]
        rule = rule_for(segment)
        if rule is None:
            unclassified.append(segment)
            continue
        if rule.how == SKIP:
            skips.append(rule.extra)
        command_part, redirect = re.match(r"(.*?)\s*((?:\d?[<>].*)?)$", segment).groups()
        if rule.how == APPEND and not set(rule.extra.split()) <= set(command_part.split()):
            command_part = f"{command_part} {rule.extra}"
        if rule.how == HELP:
            script = re.search(r"\S+\.py", command_part)
            options += re.findall(r"(?<![\w-])--?[A-Za-z][\w-]*", command_part[script.end() :])
            command_part = command_part[: script.end()] + " --help"
        shell = shell[:begin] + " ".join(filter(None, (command_part, redirect))) + shell[end:]
        lanes.add(rule.lane)
        copy = copy or rule.copy
    lane = None if copy or len(lanes) != 1 else lanes.pop()
    return Plan(shell, lane, copy, "; ".join(skips), tuple(unclassified), tuple(options))


COMMANDS = doc_commands()


# -- the project copy and the runs ---------------------------------------------------------------


@dataclass(frozen=True)
class Result:
    returncode: int
    output: str
    seconds: float


def commands_environment(mnist: Path) -> dict[str, str]:
    """conftest's environment, with `uv run` bound to this checkout's synced environment, and
    DVC's usage reports off (no network in tests)."""
    env = environment(mnist) | {
        "UV_PROJECT": str(ROOT),
        "UV_NO_SYNC": "1",
        "DVC_NO_ANALYTICS": "1",
    }
    if os.environ.get("UV"):  # uv's own path, set by `uv run pytest`
        env["PATH"] = f"{Path(os.environ['UV']).parent}{os.pathsep}{env['PATH']}"
    return env


def run_shell(shell: str, project: Path, env: dict[str, str]) -> Result:
    """Run a command line with bash (`set -eo pipefail`: a failing part of a pipe or loop fails
    it), stdin empty; its process group is ended when it overruns TIMEOUT."""
    started = time.monotonic()
    process = subprocess.Popen(
        ["bash", "-c", f"set -eo pipefail\n{shell}"],
        cwd=project,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        output, _ = process.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        output = process.communicate()[0] + f"\n(killed after {TIMEOUT} s)"
    return Result(process.returncode, output, time.monotonic() - started)


def stand_in_outputs(project: Path) -> list[str]:
    """Create a stand-in (a file saying so) for each DVC-cached output the copy lacks (the data
    and models: `outs` not marked `cache: false`); return their paths."""
    stages = yaml.safe_load((project / "dvc.yaml").read_text())["stages"]
    made = []
    for stage in stages.values():
        for out in stage.get("outs", []):
            path, options = next(iter(out.items())) if isinstance(out, dict) else (out, {})
            target = project / path
            if (options or {}).get("cache", True) is False or target.exists():
                continue
            if not target.suffix:
                target = target / "stand-in"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text("a stand-in for an output of the pipeline\n")
            made.append(path)
    return made


def make_repository(destination: Path, mnist: Path) -> Path:
    """A git repository of the project copy on the default profile, with the checkout's dvc.lock,
    reports/ and docs, and ../shared/mnist beside it (the README's MNIST_DIR), committed.

    The data and models (DVC's cached outputs) get stand-ins, recorded by `dvc commit` as the
    outputs of their stages (the rest of dvc.lock is the checkout's): `dvc repro --dry` hashes
    every dependency of a stage it would run, and fails on a missing one (the run cache's lookup
    in `dvc.stage.cache._can_hash`), and `dvc exp apply` checks the outputs out of the cache."""
    project = copy_project(destination / "main", profile="default")
    for name in EXTRA_FILES:
        source = ROOT / name
        if source.is_dir():
            ignore = shutil.ignore_patterns("__pycache__", ".pytest_cache")
            shutil.copytree(source, project / name, ignore=ignore, dirs_exist_ok=True)
        else:
            shutil.copy2(source, project / name)
    (destination / "shared").mkdir()
    (destination / "shared" / "mnist").symlink_to(mnist)
    run(["git", "init", "-q"], project)
    stand_ins = stand_in_outputs(project)
    if stand_ins:
        run(["dvc", "commit", "--force", "--quiet", *stand_ins], project)
    run(["git", "add", "-A"], project)
    run(["git", "commit", "-qm", "the project, its docs and its committed results"], project)
    return project


#: The shared repository's DVC remote, where the docs' `dvc push` / `dvc pull` find one: a
#: directory beside it, in the untracked config.local (the docs' `dvc remote add -d myremote
#: /path/to/dvc-remote` runs in a copy of its own).
LOCAL_REMOTE = """\
[core]
    remote = tests
['remote "tests"']
    url = ../../dvc-remote
"""


def experiment_names() -> list[str]:
    """The experiments the docs' `dvc exp run -n NAME` commands make (not a loop's `seed-$seed`)."""
    return sorted(
        {
            name
            for command in COMMANDS
            for name in re.findall(r"\bdvc exp run\b.*?\s-n\s+([\w.-]+)(?:\s|$)", command.text)
        }
    )


def lane_order(lane_plans: list[Plan]) -> list[Plan]:
    """A lane's plans in doc order, each documented command that writes a file by redirection
    (`dvc exp show --json > experiments.json`) moved before the lane's commands that read it
    (and added when the session selected a reader without it)."""
    ordered = list(lane_plans)
    for command in COMMANDS:
        written = re.search(r"\s>\s*(\S+)$", command.text)
        writer = plan(command)
        if writer.skip or writer.unclassified or writer.lane is None:
            continue
        if written and any(written.group(1) in p.shell.split() for p in ordered):
            ordered = [writer] + [p for p in ordered if p != writer]
    return ordered


def selected_commands(request) -> list[DocCommand]:
    """The documented commands of the tests this session runs."""
    return [
        item.callspec.params["command"]
        for item in request.session.items
        if item.path == Path(__file__)
        and hasattr(item, "callspec")
        and "command" in item.callspec.params
    ]


@pytest.fixture(scope="module")
def doc_runs(request, tmp_path_factory, mnist_source) -> dict[tuple[str, bool], Result]:
    """Run every selected documented command by its Plan (once for a command several docs
    show); return the results by (shell line, own copy).

    The shared repository (a copy of `make_repository`'s) gets a DVC remote (LOCAL_REMOTE) and,
    standing in for the experiments that the docs' `dvc exp run -n NAME` would make, the
    workspace saved under each NAME (`dvc exp save`, caching nothing: `--recursive docs` limits
    it to the stages under docs/, none): the docs' `dvc metrics diff HEAD NAME` and the like read
    them. A command with a copy of its own gets a fresh copy of `make_repository`'s (no remote,
    no experiments). The DVC lane's commands run one after another in doc order (on one repo
    they would contend for DVC's lock), the others each on its own, side by side."""
    env = commands_environment(mnist_source)
    root = tmp_path_factory.mktemp("docs")
    base = make_repository(root / "base", mnist_source)
    shared = root / "shared-repo" / "main"
    shutil.copytree(base.parent, shared.parent, symlinks=True)
    (shared / ".dvc" / "config.local").write_text(LOCAL_REMOTE)
    plans: dict[tuple[str, bool], Plan] = {}
    for command in selected_commands(request):
        command_plan = plan(command)
        if not (command_plan.skip or command_plan.unclassified):
            plans.setdefault((command_plan.shell, command_plan.copy), command_plan)
    dvc_lane = lane_order([p for p in plans.values() if p.lane == "dvc"])
    alone = [p for p in plans.values() if p.lane is None]
    names = [name for name in experiment_names() if any(name in p.shell for p in dvc_lane)]
    results: dict[tuple[str, bool], Result] = {}
    copies = iter(range(len(alone)))

    def run_plan(command_plan: Plan) -> None:
        project = shared
        if command_plan.copy:
            project = root / f"copy-{next(copies)}" / "main"
            shutil.copytree(base.parent, project.parent, symlinks=True)
        key = (command_plan.shell, command_plan.copy)
        results[key] = run_shell(command_plan.shell, project, env)

    def run_dvc_lane() -> None:
        for name in names:
            run(["dvc", "exp", "save", "--quiet", "-n", name, "--recursive", "docs"], shared)
        for command_plan in dvc_lane:
            run_plan(command_plan)

    with ThreadPoolExecutor(WORKERS) as pool:
        futures = [pool.submit(run_dvc_lane)] + [pool.submit(run_plan, p) for p in alone]
        for future in futures:
            future.result()
    return results


def test_extraction_finds_the_documented_commands():
    """The extraction finds the docs' commands: more than a handful, from the README and the
    docs, of every tool (so that a broken extraction cannot pass by finding none), and RULES
    says how to run each."""
    assert len(COMMANDS) > 10, COMMANDS
    assert {command.doc for command in COMMANDS} >= {"README.md", "docs/experiments.md"}
    tools = {UV_RUN.sub("", command.text, count=1).split()[0] for command in COMMANDS}
    assert {"snakemake", "dvc", "pytest", "python"} <= tools, tools
    # each has a rule saying how it runs (checked here, before the integration tier runs them)
    unclassified = [
        (command.doc, command.text) for command in COMMANDS if plan(command).unclassified
    ]
    assert not unclassified, f"no rule in RULES says how to run these: {unclassified}"


@pytest.mark.integration  # `doc_runs` runs them all up front: minutes on 2 cores
@pytest.mark.parametrize("command", COMMANDS, ids=str)
def test_documented_command_runs(command: DocCommand, doc_runs):
    """The command runs, by its rule (RULES): as written, or dry, or `--help` listing every
    option the docs give it; a command that no rule covers fails until one does."""
    command_plan = plan(command)
    assert not command_plan.unclassified, (
        f"no rule in RULES says how to run {list(command_plan.unclassified)} "
        f"({command.doc}, line {command.line}): add one"
    )
    if command_plan.skip:
        pytest.skip(command_plan.skip)
    result = doc_runs[(command_plan.shell, command_plan.copy)]
    assert result.returncode == 0, (
        f"{command.doc}, line {command.line}: `{command.text}`, run as `{command_plan.shell}`, "
        f"failed ({result.returncode}, after {result.seconds:.0f} s):\n{result.output[-8000:]}"
    )
    missing = [
        option
        for option in command_plan.options
        if not re.search(rf"(?<![\w-]){re.escape(option)}(?![\w-])", result.output)
    ]
    assert not missing, f"{command.doc}: options the script's --help lacks: {missing}"

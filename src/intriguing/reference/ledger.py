"""The ledger of readings (readings.yaml beside this file): every place where the paper is
ambiguous or silent, the readings we considered, the one we use and why (docs/readings.md).
Only the report reads it, so that editing the ledger reruns no experiment."""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

import yaml

LEDGER_FIELDS = (
    "id",
    "topic",
    "section",
    "paper",
    "readings",
    "param",
    "default",
    "evidence",
    "rerun",
)
LEDGER_OPTIONAL = ("measured",)
INCONSISTENCY_FIELDS = ("id", "topic", "section", "paper", "finding", "bearing", "entries")
INCONSISTENCY_OPTIONAL = ("slides",)
RERUN_PREFIX = "uv run dvc exp run"
SILENT = "silent"
QUOTE_SEPARATOR = " … "
_ID = re.compile(r"[a-z][a-z0-9_]*")
_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)*")

Fail = Callable[[str, str], "LedgerError"]


class LedgerError(ValueError):
    """readings.yaml says something malformed; the message names the entry and the field."""


@dataclass(frozen=True)
class Reading:
    """One way of reading the paper at a point where it is ambiguous."""

    name: str
    meaning: str


@dataclass(frozen=True)
class LedgerEntry:
    """One ambiguity: the paper's words, every reading, ours, why, and how to run another."""

    id: str
    topic: str
    section: str
    paper: str
    readings: tuple[Reading, ...]
    params: tuple[str, ...]
    default: str
    evidence: str
    rerun: str | None = None
    measured: str | None = None

    @property
    def param(self) -> str | None:
        """The main params.yaml key that selects the reading; None when none does."""
        return self.params[0] if self.params else None

    @property
    def silent(self) -> bool:
        """True when the paper says nothing (then `paper` says what it leaves open)."""
        return self.paper.startswith(SILENT)

    @property
    def quotes(self) -> list[str]:
        """The quoted fragments of the paper (none when it is silent)."""
        return [] if self.silent else self.paper.split(QUOTE_SEPARATOR)

    @property
    def alternatives(self) -> tuple[Reading, ...]:
        """Every reading but ours."""
        return tuple(r for r in self.readings if r.name != self.default)

    def reading(self, name: str) -> Reading:
        """The reading called `name`."""
        return next(r for r in self.readings if r.name == name)


@dataclass(frozen=True)
class Inconsistency:
    """A place where the paper's own numbers, or the talk's slides, disagree with each other."""

    id: str
    topic: str
    section: str
    paper: str
    finding: str
    bearing: str
    entries: tuple[str, ...]
    slides: str | None = None

    @property
    def quotes(self) -> list[str]:
        """The quoted fragments of the paper."""
        return self.paper.split(QUOTE_SEPARATOR)

    @property
    def slide_quotes(self) -> list[str]:
        """The quoted fragments of the talk's slides (none when it quotes none)."""
        return self.slides.split(QUOTE_SEPARATOR) if self.slides else []


def _ledger_file() -> Any:
    """readings.yaml, parsed."""
    text = resources.files("intriguing.reference").joinpath("readings.yaml").read_text("utf-8")
    return yaml.safe_load(text)


def readings_ledger(params: Mapping[str, Any] | None = None) -> list[LedgerEntry]:
    """The ledger (src/intriguing/reference/readings.yaml), validated; with `params` (the run's
    params.yaml) every param key and every key a re-run command sets must exist in it."""
    return validate_ledger(_ledger_file(), params)


def paper_inconsistencies() -> list[Inconsistency]:
    """The paper's own inconsistencies recorded in the ledger, validated."""
    raw = _ledger_file()
    entry_ids = {entry.id for entry in validate_ledger(raw)}
    return validate_inconsistencies(raw, entry_ids)


def validate_inconsistencies(raw: Any, entry_ids: set[str]) -> list[Inconsistency]:
    """Check the `inconsistencies` list of a parsed ledger (none: an empty list); raise
    LedgerError naming the item and field at the first problem: a missing or unknown field, an
    empty text or fragment, a duplicate id, or an `entries` id that is not a ledger entry."""
    items = raw.get("inconsistencies", []) if isinstance(raw, Mapping) else None
    if not isinstance(items, list):
        raise LedgerError("readings.yaml: expected a list under `inconsistencies`")
    found: list[Inconsistency] = []
    for position, item in enumerate(items):
        name = item.get("id") if isinstance(item, Mapping) else None
        where = f"readings.yaml: inconsistency {name!r} (#{position})"

        def fail(field: str, problem: str, where: str = where) -> LedgerError:
            return LedgerError(f"{where}: field {field!r}: {problem}")

        if not isinstance(item, Mapping):
            raise LedgerError(f"{where}: expected a mapping of fields, got {type(item).__name__}")
        for field in INCONSISTENCY_FIELDS:
            if field not in item:
                raise fail(field, "missing")
        allowed = INCONSISTENCY_FIELDS + INCONSISTENCY_OPTIONAL
        unknown = sorted(set(item) - set(allowed))
        if unknown:
            raise fail(unknown[0], f"unknown field; allowed: {list(allowed)}")
        if isinstance(item["section"], int | float):
            item = {**item, "section": str(item["section"])}
        texts = ("id", "topic", "section", "paper", "finding", "bearing")
        for field in (*texts, "slides") if "slides" in item else texts:
            if not isinstance(item[field], str) or not item[field].strip():
                raise fail(field, "expected a non-empty text")
        if not _ID.fullmatch(item["id"]):
            raise fail("id", "expected snake_case (a-z, 0-9, _)")
        for field in ("paper", "slides"):
            if field in item and any(not q.strip() for q in item[field].split(QUOTE_SEPARATOR)):
                raise fail(field, f"an empty fragment (joined by {QUOTE_SEPARATOR!r})")
        entries = item["entries"]
        if not isinstance(entries, list) or not all(isinstance(e, str) for e in entries):
            raise fail("entries", "expected a list of ledger entry ids (may be empty)")
        strangers = sorted(set(entries) - entry_ids)
        if strangers:
            raise fail("entries", f"{strangers} are not ids of ledger entries")
        if any(previous.id == item["id"] for previous in found):
            raise fail("id", "duplicate id")
        found.append(
            Inconsistency(
                id=item["id"],
                topic=item["topic"].strip(),
                section=item["section"].strip(),
                paper=" ".join(item["paper"].split()),
                finding=item["finding"].strip(),
                bearing=item["bearing"].strip(),
                entries=tuple(entries),
                slides=" ".join(item["slides"].split()) if "slides" in item else None,
            )
        )
    return found


def validate_ledger(raw: Any, params: Mapping[str, Any] | None = None) -> list[LedgerEntry]:
    """Check a parsed ledger (`{"entries": [...]}`) and return its entries; raise LedgerError
    naming the entry and field at the first problem: a missing or unknown field, an empty
    text, a duplicate id, fewer than two readings, a default that is not one of them, a param
    or re-run key that `params` lacks, a re-run without a param or the reverse."""
    if not isinstance(raw, Mapping) or not isinstance(raw.get("entries"), list):
        raise LedgerError("readings.yaml: expected a mapping with a list under `entries`")
    unknown = sorted(set(raw) - {"entries", "inconsistencies"})
    if unknown:
        raise LedgerError(f"readings.yaml: unknown top-level key {unknown[0]!r}")
    entries: list[LedgerEntry] = []
    seen: set[str] = set()
    for position, item in enumerate(raw["entries"]):
        entry = _entry(item, position, params)
        if entry.id in seen:
            raise LedgerError(
                f"readings.yaml: entry {entry.id!r} (#{position}): field 'id': duplicate id"
            )
        seen.add(entry.id)
        entries.append(entry)
    return entries


def _entry(item: Any, position: int, params: Mapping[str, Any] | None) -> LedgerEntry:
    """One validated entry of the ledger."""
    name = item.get("id") if isinstance(item, Mapping) else None
    where = f"readings.yaml: entry {name!r} (#{position})"

    def fail(field: str, problem: str) -> LedgerError:
        return LedgerError(f"{where}: field {field!r}: {problem}")

    if not isinstance(item, Mapping):
        raise LedgerError(f"{where}: expected a mapping of fields, got {type(item).__name__}")
    for field in LEDGER_FIELDS:
        if field not in item:
            raise fail(field, "missing")
    unknown = sorted(set(item) - set(LEDGER_FIELDS) - set(LEDGER_OPTIONAL))
    if unknown:
        raise fail(unknown[0], f"unknown field; allowed: {list(LEDGER_FIELDS + LEDGER_OPTIONAL)}")
    if isinstance(item["section"], int | float):  # an unquoted `section: 4.1`
        item = {**item, "section": str(item["section"])}
    for field in ("id", "topic", "section", "paper", "default", "evidence"):
        if not isinstance(item[field], str) or not item[field].strip():
            raise fail(field, "expected a non-empty text")
    if not _ID.fullmatch(item["id"]):
        raise fail("id", "expected snake_case (a-z, 0-9, _)")
    if any(not quote.strip() for quote in item["paper"].split(QUOTE_SEPARATOR)):
        raise fail(
            "paper", f"an empty fragment (quoted fragments are joined by {QUOTE_SEPARATOR!r})"
        )
    readings = _readings(item["readings"], fail)
    if item["default"] not in {r.name for r in readings}:
        raise fail(
            "default",
            f"{item['default']!r} is not a reading; readings: {[r.name for r in readings]}",
        )
    keys = _param_keys(item["param"], fail, params)
    rerun, measured = item["rerun"], item.get("measured")
    if keys and not isinstance(rerun, str):
        raise fail("rerun", f"expected a `{RERUN_PREFIX} -S key=value` command (param is set)")
    if not keys and rerun is not None:
        raise fail("rerun", "expected null when param is null (no parameter selects a reading)")
    if rerun is not None:
        for key in rerun_keys(rerun, fail):
            if params is not None and not param_exists(params, key):
                raise fail("rerun", f"sets {key!r}, which params.yaml does not have")
    if measured is not None and not (isinstance(measured, str) and measured.endswith(".json")):
        raise fail("measured", "expected the path of a metrics .json file, or no field")
    return LedgerEntry(
        id=item["id"],
        topic=item["topic"].strip(),
        section=item["section"].strip(),
        paper=item["paper"].strip(),
        readings=readings,
        params=keys,
        default=item["default"],
        evidence=item["evidence"].strip(),
        rerun=" ".join(rerun.split()) if rerun else None,
        measured=measured,
    )


def _readings(raw: Any, fail: Fail) -> tuple[Reading, ...]:
    """The readings of an entry: at least two {name, meaning}, names unique."""
    if not isinstance(raw, list) or len(raw) < 2:
        raise fail("readings", "expected a list of at least two {name, meaning} (ours included)")
    readings = []
    for index, reading in enumerate(raw):
        if not isinstance(reading, Mapping) or set(reading) != {"name", "meaning"}:
            raise fail(f"readings[{index}]", "expected exactly the keys name and meaning")
        if not all(isinstance(reading[k], str) and reading[k].strip() for k in reading):
            raise fail(f"readings[{index}]", "expected a non-empty name and meaning")
        readings.append(Reading(reading["name"], reading["meaning"].strip()))
    names = [r.name for r in readings]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise fail("readings", f"duplicate reading names {duplicates}")
    return tuple(readings)


def _param_keys(raw: Any, fail: Fail, params: Mapping[str, Any] | None) -> tuple[str, ...]:
    """The param field as a tuple of dotted keys (empty for null), each checked."""
    if raw is None:
        return ()
    keys = [raw] if isinstance(raw, str) else raw
    if not isinstance(keys, list) or not keys:
        raise fail("param", "expected a dotted params.yaml key, a list of them, or null")
    for key in keys:
        if not isinstance(key, str) or not _KEY.fullmatch(key):
            raise fail("param", f"{key!r} is not a dotted key path like 'train.decay_reading'")
        if params is not None and not param_exists(params, key):
            raise fail("param", f"{key!r} is not a key of params.yaml")
    return tuple(keys)


def rerun_keys(command: str, fail: Fail | None = None) -> list[str]:
    """The keys a `uv run dvc exp run -S key=value …` command sets, in order."""
    fail = fail or (lambda field, problem: LedgerError(f"{field}: {problem}"))
    words = shlex.split(command)
    if " ".join(words[:5]) != RERUN_PREFIX:
        raise fail("rerun", f"expected a command starting with `{RERUN_PREFIX}`")
    keys = [
        words[i + 1].split("=", 1)[0]
        for i, word in enumerate(words)
        if word in ("-S", "--set-param") and i + 1 < len(words) and "=" in words[i + 1]
    ]
    if not keys:
        raise fail("rerun", "expected at least one `-S key=value`")
    return keys


def param_exists(params: Mapping[str, Any], key: str) -> bool:
    """Whether params.yaml has the dotted `key`: at the top level (`train.decay_reading`,
    `profiles.default.train.pretrain_epochs`) or, as the code reads scale settings, in the
    selected profile's block (`train.pretrain_epochs`). A key whose value is null exists."""
    try:
        param_value(params, key)
    except KeyError:
        return False
    return True


def param_value(params: Mapping[str, Any], key: str) -> Any:
    """The value of the dotted `key` in params.yaml (where `param_exists` looks); KeyError
    naming the key when it is in neither place."""
    missing = object()
    value = _walk(params, key.split("."), missing)
    profiles, profile = params.get("profiles"), params.get("profile")
    if value is missing and isinstance(profiles, Mapping) and profile in profiles:
        value = _walk(profiles[profile], key.split("."), missing)
    if value is missing:
        raise KeyError(f"params.yaml has no key {key!r}")
    return value


def _walk(node: Any, parts: Sequence[str], missing: Any) -> Any:
    for part in parts:
        if not isinstance(node, Mapping) or part not in node:
            return missing
        node = node[part]
    return node

"""The enums and ranges of params.yaml are defined once, in intriguing.plan.choices: the JSON
schema (a static file Snakemake validates with) must say exactly the same, and every setting the
schema closes to a list of values must be one of them."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from conftest import ROOT
from intriguing.plan import choices
from intriguing.plan.choices import Interval

SCHEMA = yaml.safe_load((ROOT / "workflow/schemas/params.schema.yaml").read_text())

MODEL = "$defs/model/properties"
POOL = "properties/advtrain/properties/pool/properties"
POOL_OVERRIDES = "properties/advtrain/properties/pool_overrides/additionalProperties/properties"

#: Every `enum` of the schema, by its location, and the Python tuple it repeats.
ENUMS = {
    "properties/profile": choices.PROFILES,
    "properties/device": choices.DEVICES,
    "properties/train/properties/decay_reading": choices.DECAY_READINGS,
    "properties/adversarial/properties/target_policy": choices.TARGET_POLICIES,
    f"{POOL}/target_policy": choices.POOL_TARGET_POLICIES,
    "properties/readings/properties/ae400_variants/additionalProperties/properties/decoder": (
        choices.DECODERS
    ),
    "$defs/attack/properties/temperature_scale": choices.TEMPERATURE_SCALES,
    f"{MODEL}/arch": choices.ARCHITECTURES,
    f"{MODEL}/activation": choices.ACTIVATIONS,
    f"{MODEL}/train_set": choices.TRAIN_SETS,
    f"{MODEL}/optimizer": choices.OPTIMIZERS,
    f"{MODEL}/decoder": choices.DECODERS,
}

#: Every numeric setting of the pool, by its location, and the Python interval it repeats.
RANGES = {
    **{f"{POOL}/{key}": value for key, value in choices.POOL_RANGES.items() if key != "pool_size"},
    **{
        f"{POOL_OVERRIDES}/{key}": choices.POOL_RANGES[key]
        for key in SCHEMA["properties"]["advtrain"]["properties"]["pool_overrides"][
            "additionalProperties"
        ]["properties"]
    },
    "$defs/scale/properties/advtrain/properties/pool_size": choices.POOL_RANGES["pool_size"],
    "properties/advtrain/properties/pool_levels/additionalProperties/items": Interval(
        choices.INPUT_LEVEL, integer=True
    ),
}


def enum_locations(node: Any, location: str = "") -> Iterator[str]:
    """The locations (JSON pointers without the leading '#/') of every `enum` in the schema."""
    if isinstance(node, dict):
        if "enum" in node:
            yield location
        for key, child in node.items():
            yield from enum_locations(child, f"{location}/{key}" if location else key)
    elif isinstance(node, list):
        for position, child in enumerate(node):
            yield from enum_locations(child, f"{location}/{position}")


def at(schema: dict[str, Any], location: str) -> Any:
    node: Any = schema
    for part in location.split("/"):
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node


def interval_schema(interval: Interval) -> dict[str, Any]:
    """The JSON-schema keywords that allow exactly the interval's values."""
    bounds: dict[str, Any] = {"type": "integer" if interval.integer else "number"}
    if interval.low is not None:
        bounds["minimum" if interval.low_included else "exclusiveMinimum"] = interval.low
    if interval.high is not None:
        bounds["maximum" if interval.high_included else "exclusiveMaximum"] = interval.high
    return {"anyOf": [bounds, {"type": "null"}]} if interval.nullable else bounds


def schema_drift(
    schema: dict[str, Any],
    enums: dict[str, tuple[str, ...]] = ENUMS,
    ranges: dict[str, Interval] = RANGES,
) -> list[str]:
    """Where the schema and intriguing.plan.choices disagree (empty: nowhere)."""
    drift = [
        f"{location}: an enum with no Python counterpart in intriguing.plan.choices"
        for location in enum_locations(schema)
        if location not in enums
    ]
    for location, values in enums.items():
        node = at(schema, location)
        if node.get("enum") != list(values):
            drift.append(f"{location}: schema {node.get('enum')} != Python {list(values)}")
    profiles = schema["properties"]["profiles"]
    if profiles["required"] != list(enums["properties/profile"]) or list(
        profiles["properties"]
    ) != list(enums["properties/profile"]):
        drift.append(f"properties/profiles: its blocks are not {enums['properties/profile']}")
    for guard in at(schema, "$defs/model/allOf"):
        arch = guard["if"]["properties"]["arch"]
        value = arch.get("const", arch.get("not", {}).get("const"))
        if value not in enums[f"{MODEL}/arch"]:
            drift.append(f"$defs/model/allOf: condition on unknown arch {value!r}")
    for location, interval in ranges.items():
        node = {key: value for key, value in at(schema, location).items() if key != "description"}
        if node != interval_schema(interval):
            drift.append(f"{location}: schema {node} != Python {interval_schema(interval)}")
    pool = at(schema, POOL)
    for key in at(schema, POOL_OVERRIDES):
        if key not in pool:
            drift.append(f"{POOL_OVERRIDES}/{key}: overrides a setting `pool` does not have")
    return drift


def test_schema_and_python_define_the_same_enums_and_ranges():
    assert schema_drift(SCHEMA) == []


def drifted(location: str, change: Any) -> dict[str, Any]:
    schema = copy.deepcopy(SCHEMA)
    parent, _, key = location.rpartition("/")
    change(at(schema, parent), key)
    return schema


@pytest.mark.parametrize("location", sorted(ENUMS))
def test_an_enum_value_added_to_the_schema_alone_is_drift(location):
    schema = drifted(location, lambda node, key: node[key]["enum"].append("new_value"))
    assert any(message.startswith(f"{location}: schema") for message in schema_drift(schema))


@pytest.mark.parametrize("location", sorted(ENUMS))
def test_an_enum_value_removed_from_python_alone_is_drift(location):
    enums = {**ENUMS, location: ENUMS[location][:-1]}
    assert any(message.startswith(location) for message in schema_drift(SCHEMA, enums=enums))


def test_a_new_schema_enum_without_python_counterpart_is_drift():
    schema = drifted(f"{MODEL}/activation", lambda node, key: node.update(norm={"enum": ["l2"]}))
    assert schema_drift(schema) == [
        f"{MODEL}/norm: an enum with no Python counterpart in intriguing.plan.choices"
    ]


def test_a_profile_block_missing_is_drift():
    schema = drifted("properties/profiles/required", lambda node, key: node[key].remove("full"))
    assert schema_drift(schema) == [
        "properties/profiles: its blocks are not ('smoke', 'default', 'full')"
    ]


@pytest.mark.parametrize("location", sorted(RANGES))
def test_a_range_changed_on_either_side_is_drift(location):
    def widen(node: dict[str, Any], key: str) -> None:
        bounds = node[key]["anyOf"][0] if "anyOf" in node[key] else node[key]
        bounds.pop("minimum", None)
        bounds["exclusiveMinimum"] = -1

    assert any(message.startswith(location) for message in schema_drift(drifted(location, widen)))
    narrower = {**RANGES, location: Interval(RANGES[location].low, high=1e9)}
    assert any(message.startswith(location) for message in schema_drift(SCHEMA, ranges=narrower))


@pytest.mark.parametrize(
    ("interval", "inside", "outside"),
    [
        (choices.POOL_RANGES["replace_fraction"], [1e-9, 0.5, 1], [0, 1.01, float("nan")]),
        (choices.POOL_RANGES["mix_ratio"], [0.5], [0, 1]),
        (choices.POOL_RANGES["refreshes_per_epoch"], [1, 7], [0, 1.5]),
        (choices.POOL_RANGES["max_distortion"], [None, 0.1], [0, -1]),
        (choices.POOL_RANGES["distortion_scale"], [0.25, 10], [0, None]),
    ],
)
def test_interval_contains_its_values_only(interval, inside, outside):
    assert all(interval.contains(value) for value in inside)
    assert not any(interval.contains(value) for value in outside)


def test_interval_check_names_the_setting_and_the_allowed_values():
    with pytest.raises(ValueError, match=r"mix_ratio must be a number in \(0, 1\), got 1"):
        choices.POOL_RANGES["mix_ratio"].check("mix_ratio", 1)
    with pytest.raises(ValueError, match=r"an integer in \[1, ∞\), got 0"):
        choices.POOL_RANGES["pool_size"].check("pool_size", 0)


@pytest.mark.parametrize("device", choices.DEVICES)
def test_every_device_is_understood_by_the_job_runtime(device):
    """common.runtime.select_device (the jobs) reads every `device` value the schema allows."""
    torch = pytest.importorskip("torch")
    from intriguing.common.runtime import select_device

    if device == "cuda" and not torch.cuda.is_available():
        with pytest.raises(RuntimeError, match="device: cuda requested"):
            select_device(device)
    else:
        assert select_device(device).type in {"cpu", "cuda"}

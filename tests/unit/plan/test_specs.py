"""Replicate names: a replicated model's networks and which serve each replicate of a table."""

import pytest

from intriguing.plan.specs import (
    replicate_members,
    replicate_name,
    replicate_names,
    split_replicate,
)


def test_replicate_zero_keeps_the_model_name_and_the_others_get_a_suffix():
    assert replicate_name("n100", 0) == "n100"
    assert replicate_name("n100", 2) == "n100_rep2"
    with pytest.raises(ValueError, match="replicate -1"):
        replicate_name("n100", -1)


@pytest.mark.parametrize("name", ["n100", "n100_rep1", "n100_wd_rep12", "m1p"])
def test_split_replicate_inverts_replicate_name(name):
    assert replicate_name(*split_replicate(name)) == name


def test_a_rep0_suffix_is_no_replicate():
    assert split_replicate("n100_rep0") == ("n100_rep0", 0)


def test_only_replicated_models_get_several_networks():
    assert replicate_names(["softmax1", "n100"], ["n100"], 3) == [
        "softmax1",
        "n100",
        "n100_rep1",
        "n100_rep2",
    ]


def test_an_unreplicated_model_serves_every_replicate():
    assert replicate_members(["softmax1", "n100"], ["n100"], 2) == [
        {"softmax1": "softmax1", "n100": "n100"},
        {"softmax1": "softmax1", "n100": "n100_rep1"},
    ]


def test_a_table_without_replicated_models_has_one_replicate():
    assert replicate_members(["softmax1", "softmax2"], ["n100"], 3) == [
        {"softmax1": "softmax1", "softmax2": "softmax2"}
    ]

"""The rule graph drawing: parsing Snakemake's DOT and dropping implied edges."""

import pytest

from intriguing.report.rulegraph import depths, draw, parse_rulegraph, transitive_reduction

DOT = """digraph snakemake_dag {
	0[label = "all", color = "0.07 0.6 0.85", style="rounded"];
	1[label = "mnist", color = "0.44 0.6 0.85", style="rounded"];
	2[label = "split", color = "0.56 0.6 0.85", style="rounded"];
	3[label = "train", color = "0.59 0.6 0.85", style="rounded"];
	1 -> 0
	1 -> 2
	1 -> 3
	2 -> 3
}"""


def test_rulegraph_is_parsed_reduced_and_layered(tmp_path):
    rules, edges = parse_rulegraph(DOT)
    assert rules == ["mnist", "split", "train"]
    assert transitive_reduction(edges) == {("mnist", "split"), ("split", "train")}
    assert depths(rules, edges) == {"mnist": 0, "split": 1, "train": 2}
    draw(DOT, tmp_path / "graph.png")
    assert (tmp_path / "graph.png").read_bytes()[:4] == b"\x89PNG"


def test_empty_input_is_refused():
    with pytest.raises(ValueError, match="no rules found"):
        parse_rulegraph("")

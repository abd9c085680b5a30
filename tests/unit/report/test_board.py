"""The verdict board gathers each section's verdict sentences, with links that resolve."""

from intriguing.report.board import anchor, verdict_board, with_verdict_board

SECTIONS = [
    "## Table 1 — models and their errors on clean data\n\nintro\n\n"
    "**Not reproduced**: 3 of 12 rates agree with the paper within our 95% CI; the largest "
    "difference is -5.37 pp (softmax3, test error). More text.",
    "## Section 3 — units of φ(x)\n\n**Overall**: not a verdict.\n\n"
    "**Holds** on `conv`: on none of the 3 measures. Rest.",
    "## Training details\n\nno verdict here",
    "## Table 5 — frame bounds\n\n- `alexnet` — weights: random. **Not comparable: random.** Why.",
]


def test_every_verdict_sentence_gets_a_row_and_others_none():
    board = verdict_board(SECTIONS)
    rows = [line for line in board.splitlines() if line.startswith("| [")]
    assert len(rows) == 3
    assert "**Not reproduced**" in rows[0] and "3 of 12 rates agree" in rows[0]
    assert "More text" not in rows[0]
    assert "**Holds** | on `conv`: on none of the 3 measures." in rows[1]
    assert "Overall" not in board
    assert "Training details" not in board
    assert rows[2].startswith("| [Table 5 — frame bounds (`alexnet`)](#table-5-frame-bounds) |")


def test_links_point_at_anchors_placed_before_the_sections():
    board, *anchored = with_verdict_board(SECTIONS)
    target = anchor("Table 1 — models and their errors on clean data")
    assert target == "table-1-models-and-their-errors-on-clean-data"
    assert f"(#{target})" in board
    assert anchored[0].startswith(f'<a id="{target}"></a>\n\n## Table 1')
    assert anchor("Section 3 — units of φ(x)") == "section-3-units-of-x"


def test_no_verdicts_says_so():
    assert "No section has a verdict yet" in verdict_board(["## Provenance\n\nplain"])

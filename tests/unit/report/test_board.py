"""The verdict board gathers each section's verdict sentences, with links that resolve."""

from intriguing.report.board import (
    anchor,
    claim_of,
    deciding_numbers,
    verdict_board,
    with_verdict_board,
)

SECTIONS = [
    "## Table 1 — models and their errors on clean data\n\nintro\n\n"
    "**Not reproduced**: 3 of 12 rates agree with the paper within our 95% CI; the largest "
    "difference is -5.37 pp (softmax3, test error). More text.",
    "## Section 3 — units of φ(x)\n\n**Overall**: not a verdict.\n\n"
    "**Holds** on `conv`: on none of the 3 measures. Rest.",
    "## Training details\n\nno verdict here",
    "## Table 5 — frame bounds\n\n- `alexnet` — weights: random. **Not comparable: random.** Why.",
    "## Adversarial training (Section 4.2)\n\n- **Inconclusive** (pool below 1.2%): neither "
    "baseline reaches the paper's level. More.",
]


def test_every_verdict_sentence_gets_a_row_and_others_none():
    board = verdict_board(SECTIONS)
    rows = [line for line in board.splitlines() if line.startswith("| [")]
    assert len(rows) == 4
    assert "**Not reproduced**" in rows[0] and "3 of 12 rates agree" in rows[0]
    assert "More text" not in rows[0]
    assert "**Holds** | on `conv`: on none of the 3 measures." in rows[1]
    assert "Overall" not in board
    assert "Training details" not in board
    assert rows[2].startswith("| [Table 5](#table-5-frame-bounds): frame bounds `alexnet` |")
    # a claim named in the verdict sentence is the row's claim, in a few words
    assert rows[3] == (
        "| [Adversarial training](#adversarial-training-section-4-2): pool below 1.2% | "
        "**Inconclusive** | neither baseline reaches the paper's level. |"
    )


def test_claims_and_deciding_numbers_are_read_from_the_sentence():
    assert claim_of(" (transfer beats noise σ=0.1): 4 of 6 cells.") == "transfer beats noise σ=0.1"
    assert claim_of(": 4 of 6 cells (exact McNemar).") is None
    long = "4 of 6 cells beat noise (exact McNemar, Holm-adjusted over six cells) " + "x" * 100
    short = "4 of 6 cells beat noise " + "x" * 100 + "."
    assert deciding_numbers(" (claim): " + long + ". Next.") == short
    assert deciding_numbers(": " + "y" * 200).endswith("…")
    assert len(deciding_numbers(": " + "y" * 200)) == 150


def test_links_point_at_anchors_placed_before_the_sections():
    board, *anchored = with_verdict_board(SECTIONS)
    target = anchor("Table 1 — models and their errors on clean data")
    assert target == "table-1-models-and-their-errors-on-clean-data"
    assert f"(#{target})" in board
    assert anchored[0].startswith(f'<a id="{target}"></a>\n\n## Table 1')
    assert anchor("Section 3 — units of φ(x)") == "section-3-units-of-x"


def test_no_verdicts_says_so():
    assert "No section has a verdict yet" in verdict_board(["## Provenance\n\nplain"])

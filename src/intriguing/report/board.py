"""The verdict board at the top of the report: one row per claim of the paper.

Each section states its verdict in bold at the start of a sentence, the claim in parentheses
after it ("**Reproduced** (transfer across training sets beats noise σ=0.06): …", written by
intriguing.report.verdicts.Verdict.line) or, in older sections, a network in code before it
("**Holds** on `conv`: …"); the board collects those sentences with a link to their section, so
the verdicts are made once, by the sections, and only gathered here. Its cells are kept short
(the claim in a few words, the first clause of the deciding numbers) so the board reads without
scrolling.
"""

from __future__ import annotations

import re

from intriguing.report.format import markdown_table
from intriguing.report.verdicts import (
    DOES_NOT_HOLD,
    HOLDS,
    INCONCLUSIVE,
    NOT_COMPARABLE,
    NOT_REPRODUCED,
    PARTLY,
    PARTLY_HOLDS,
    REPRODUCED,
)

#: The bold words that open a verdict sentence (other bold text is not a verdict).
VERDICT_WORDS = (
    REPRODUCED,
    PARTLY,
    NOT_REPRODUCED,
    HOLDS,
    PARTLY_HOLDS,
    DOES_NOT_HOLD,
    NOT_COMPARABLE,
    INCONCLUSIVE,
)
_VERDICT = re.compile(
    r"\*\*(?P<word>" + "|".join(map(re.escape, VERDICT_WORDS)) + r")(?P<rest>[^*]*)\*\*"
    r"(?P<sentence>[^\n]*)"
)
_CLAIM = re.compile(r"^\s*\((?P<claim>[^()]+)\)\s*:?\s*")
#: longest deciding-numbers cell before its parenthetical remarks are dropped, then it is cut.
NUMBERS_LIMIT = 150


def anchor(title: str) -> str:
    """An ASCII id for a section title: lower case, words joined by hyphens. Written as an
    explicit `<a id>` before the heading, because GitHub and python-markdown slug headings
    with dashes and non-ASCII letters differently."""
    words = re.findall(r"[a-z0-9]+", title.lower())
    return "-".join(words)


def claim_of(sentence: str) -> str | None:
    """The claim a verdict sentence names in parentheses right after its bold word."""
    match = _CLAIM.match(sentence)
    return match["claim"].strip() if match else None


def deciding_numbers(sentence: str, limit: int = NUMBERS_LIMIT) -> str:
    """The first sentence of a verdict's numbers (after its claim), without its parenthetical
    remarks when it is longer than `limit`, cut with an ellipsis when still longer."""
    text = _CLAIM.sub("", sentence, count=1).lstrip(": ").strip()
    end = text.find(". ")
    sentence = text if end < 0 else text[: end + 1]
    if len(sentence) > limit:
        sentence = re.sub(r"\s*\([^()]*\)", "", sentence)
    return sentence if len(sentence) <= limit else sentence[: limit - 1].rstrip() + "…"


def section_name(title: str) -> str:
    """A section's short name: its title before the dash or parenthesis ("Table 4")."""
    return re.split(r" — | \(", title)[0].strip()


def claim_cell(title: str, subject: str | None, sentence: str) -> str:
    """The board's first cell: the section's short name linked to it, and the claim in a few
    words (the sentence's own, else the title's words after the dash, with the network)."""
    claim = claim_of(sentence)
    if claim is None:
        rest = title.split(" — ", 1)[1] if " — " in title else ""
        claim = " ".join(part for part in (rest, f"`{subject}`" if subject else "") if part)
    link = f"[{section_name(title)}](#{anchor(title)})"
    return f"{link}: {claim}" if claim else link


def with_verdict_board(sections: list[str]) -> list[str]:
    """The sections, each `##` one behind an anchor, preceded by the verdict board."""
    anchored = [
        f'<a id="{anchor(s.splitlines()[0][3:])}"></a>\n\n{s}' if s.startswith("## ") else s
        for s in sections
    ]
    return [verdict_board(sections), *anchored]


def verdicts(sections: list[str]) -> list[tuple[str, str | None, re.Match[str]]]:
    """Every verdict the sections state, in order: (section title, the network or variant it is
    about when its line names one in code before the verdict, the verdict's match: `word`,
    `rest`, `sentence`)."""
    found = []
    for section in sections:
        if not section.startswith("## "):
            continue
        title = section.splitlines()[0][3:].strip()
        for match in _VERDICT.finditer(section):
            line_start = section.rfind("\n", 0, match.start()) + 1
            subject = re.search(r"`([^`]+)`", section[line_start : match.start()])
            found.append((title, subject.group(1) if subject else None, match))
    return found


def verdict_board(sections: list[str]) -> str:
    """A table of every section's verdicts, one row per claim: the section (linked) and the
    claim, the verdict, the numbers that decided it."""
    rows = [
        [
            claim_cell(title, subject, match["sentence"]),
            f"**{match['word']}**{match['rest']}",
            deciding_numbers(match["sentence"]),
        ]
        for title, subject, match in verdicts(sections)
    ]
    if not rows:
        return "## Verdicts\n\n_No section has a verdict yet._"
    return "\n\n".join(
        [
            "## Verdicts",
            "Every claim of the paper this report tests, with the verdict its section derives "
            "from the numbers (ours against the paper's, with 95% intervals) and the numbers "
            "that decided it; follow the link for the table and the rule. *Inconclusive*: the "
            "numbers cannot decide (a premise fails, or too few cells), for the reason given.",
            markdown_table(["claim", "verdict", "deciding numbers"], rows),
        ]
    )

"""The verdict board at the top of the report: one line per claim of the paper.

Each section states its verdict in bold at the start of a sentence ("**Reproduced**: …",
"**Holds** on `conv`: …"); the board collects those sentences with a link to their section, so
the verdicts are made once, by the sections, and only gathered here.
"""

from __future__ import annotations

import re

from intriguing.report.format import markdown_table

#: The bold words that open a verdict sentence (other bold text is not a verdict).
VERDICT_WORDS = (
    "Reproduced",
    "Partly reproduced",
    "Not reproduced",
    "Holds",
    "Partly holds",
    "Does not hold",
    "Not comparable",
    "Agrees",
    "Disagrees",
)
_VERDICT = re.compile(
    r"\*\*(?P<word>" + "|".join(map(re.escape, VERDICT_WORDS)) + r")(?P<rest>[^*]*)\*\*"
    r"(?P<sentence>[^\n]*)"
)


def anchor(title: str) -> str:
    """An ASCII id for a section title: lower case, words joined by hyphens. Written as an
    explicit `<a id>` before the heading, because GitHub and python-markdown slug headings
    with dashes and non-ASCII letters differently."""
    words = re.findall(r"[a-z0-9]+", title.lower())
    return "-".join(words)


def _first_sentence(text: str, limit: int = 220) -> str:
    text = text.lstrip(": ").strip()
    end = text.find(". ")
    sentence = text if end < 0 else text[: end + 1]
    return sentence if len(sentence) <= limit else sentence[: limit - 1].rstrip() + "…"


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
    """A table of every section's verdicts: the claim (section; with the network a verdict is
    about, when its line names one in code before it), the verdict, what it rests on (the
    verdict's own sentence), and a link to the section."""
    rows = [
        [
            f"[{f'{title} (`{subject}`)' if subject else title}](#{anchor(title)})",
            f"**{match['word']}**{match['rest']}",
            _first_sentence(match["sentence"]),
        ]
        for title, subject, match in verdicts(sections)
    ]
    if not rows:
        return "## Verdicts\n\n_No section has a verdict yet._"
    return "\n\n".join(
        [
            "## Verdicts",
            "Every claim of the paper this report tests, with the verdict its section derives "
            "from the numbers (ours against the paper's, with 95% intervals); follow the link "
            "for the table.",
            markdown_table(["claim (section)", "verdict", "on what"], rows),
        ]
    )

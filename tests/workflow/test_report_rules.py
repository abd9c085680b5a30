"""Rule `report` (DVC stage `report`) in the session's smoke build: our report's content, the
report in a real browser (every image loads, every table renders), and Snakemake's report.

The browser test needs Chromium (Debian's `chromium` package; `.ci/run` installs it when it can);
it is skipped, saying so, when no Chromium is on PATH.
"""

import html
import json
import re
import shutil
import subprocess

import pytest

from conftest import snakemake

BROWSERS = ("chromium", "chromium-browser", "google-chrome")
PROBE = """<script>
window.addEventListener("load", () => {
  const images = [...document.images];
  const tables = [...document.querySelectorAll("table")];
  document.body.setAttribute("data-probe", JSON.stringify({
    images: images.length,
    broken: images.filter((i) => !(i.complete && i.naturalWidth > 0)).map((i) => i.alt),
    tables: tables.length,
    rendered: tables.filter((t) => t.rows.length > 1 && t.getBoundingClientRect().height > 0)
      .length,
  }));
});
</script>
"""


def test_report_rule(smoke_project):
    text = (smoke_project / "reports/report.md").read_text()
    metrics = json.loads((smoke_project / "reports/metrics/train/softmax1.json").read_text())
    assert "| softmax1 | Softmax with λ = 1e-4 |" in text
    assert f"{metrics['test_error'] * 100:.2f}%" in text and "| 7.40% |" in text
    assert "## Table 5 — frame bounds" in text and "Not comparable: random weights" in text
    assert "## Adversarial training (Section 4.2)" in text and "| n100_adv_input |" in text
    assert text.index("## Verdicts") < text.index("## Table 1")
    assert "](#table-1-models-and-their-errors-on-clean-data)" in text
    assert '<a id="table-1-models-and-their-errors-on-clean-data"></a>' in text
    assert "## Readings — where the paper is ambiguous" in text
    assert "### Weight-decay readings, measured" in text and "ae400_filters.png" in text
    adversarial = json.loads(
        (smoke_project / "reports/metrics/adversarial/softmax1_train.json").read_text()
    )
    assert f"({adversarial['exact']['ratio_of_means']:.3f}×)" in text
    page = (smoke_project / "reports/report.html").read_text()
    assert page.count("<table>") >= 2 and "softmax1" in page
    assert 'src="' not in page.replace('src="data:', "")  # self-contained


def browser() -> str | None:
    return next((path for name in BROWSERS if (path := shutil.which(name))), None)


@pytest.mark.skipif(browser() is None, reason="no Chromium on PATH (apt install chromium)")
def test_report_renders_in_headless_chromium(smoke_project, tmp_path):
    page = tmp_path / "report.html"
    # a deliberately broken image shows that the probe can tell a broken one from a loaded one
    canary = '<img alt="canary" src="data:image/png;base64,AAAA">'
    page.write_text(
        (smoke_project / "reports/report.html")
        .read_text()
        .replace("</body>", canary + PROBE + "</body>")
    )
    result = subprocess.run(
        [
            browser(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--virtual-time-budget=10000",
            "--dump-dom",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    probe = re.search(r'data-probe="([^"]*)"', result.stdout)
    assert probe, f"the page did not finish loading:\n{result.stderr[-2000:]}"
    state = json.loads(html.unescape(probe.group(1)))
    assert state["broken"] == ["canary"]
    assert state["images"] >= 10
    assert state["tables"] >= 8 and state["rendered"] == state["tables"]


def test_snakemake_report_collects_the_flagged_outputs(smoke_project, mnist_source, tmp_path):
    page = tmp_path / "snakemake-report.html"  # outside the shared build, which tests only read
    snakemake(smoke_project, "--report", str(page), mnist=mnist_source)
    text = page.read_text()
    for category in ("Table 5: frame bounds", "Tables 2 and 4: transfer", "Figure 7"):
        assert category in text

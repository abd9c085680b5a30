"""The report's Table 5 verdict (report.spectral): trained weights are judged, random ones are
not comparable."""

from intriguing.reference import paper_reference
from intriguing.report.spectral import table5_verdict


def test_table5_verdict_judges_upper_bounds_of_trained_weights_only():
    reference = paper_reference()["table5"]
    rows = [{"layer": row["layer"], "upper": row["upper"] * 1.5} for row in reference]
    rows[0]["upper"] = reference[0]["upper"] * 3
    trained = {"network": "alexnet_original", "table5_caveats": [], "rows": rows}
    assert table5_verdict(trained, reference).startswith(
        "**Partly reproduced**: 7 of 8 upper bounds lie within a factor of 2"
    )
    random = {**trained, "table5_caveats": ["random weights"], "weights": "random"}
    assert table5_verdict(random, reference).startswith("**Not comparable: random weights.**")

"""The report's training section."""

from intriguing.common.stats import seed_mean_interval, wilson_interval
from intriguing.report.train import error_table_section, replicate_groups, training_details_section


def test_training_details_header_has_a_column_for_every_cell():
    metrics = {
        "n100": {
            "architecture": "784 → 100 → 100 → 10 sigmoid",
            "train_n": 60000,
            "training": {
                "train_set": "all",
                "optimizer": "lbfgs",
                "adam_steps": 0,
                "lbfgs_iterations": 300,
                "stop_reason": "converged (tolerance)",
                "final_loss": 0.05,
            },
        }
    }
    rows = [line for line in training_details_section(metrics).splitlines() if line.startswith("|")]
    assert len(rows) == 3
    assert len({row.count("|") for row in rows}) == 1, rows


def error_metrics(test_error: float, n: int = 1000) -> dict:
    errors = round(test_error * n)
    return {
        "test_error": test_error,
        "test_error_ci95": list(wilson_interval(errors, n)),
        "test_n": n,
    }


REFERENCE = {"n100": {"description": "a net", "test_error": 0.0164}}


def test_a_replicated_models_cell_is_the_seed_mean_with_each_seed_after_it():
    metrics = {
        "n100_rep2": error_metrics(0.019),
        "n100": error_metrics(0.016),
        "n100_rep1": error_metrics(0.017),
    }
    assert [m["test_error"] for m in replicate_groups(metrics)["n100"]] == [0.016, 0.017, 0.019]
    text = error_table_section("T", "intro", metrics, REFERENCE, [("test_error", "test error")])
    mean, low, high = seed_mean_interval([0.016, 0.017, 0.019], 1000)
    assert f"| n100 | a net | 3 | {mean * 100:.2f}% [{low * 100:.2f}%, {high * 100:.2f}%]" in text
    assert "⟨1.60, 1.70, 1.90⟩" in text


def test_one_network_keeps_its_own_wilson_interval():
    metrics = {"n100": error_metrics(0.016)}
    text = error_table_section("T", "intro", metrics, REFERENCE, [("test_error", "test error")])
    low, high = metrics["n100"]["test_error_ci95"]
    assert f"| n100 | a net | 1 | 1.60% [{low * 100:.2f}%, {high * 100:.2f}%] |" in text

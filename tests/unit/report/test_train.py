"""The report's training section."""

from intriguing.report.train import training_details_section


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

"""Rules `mnist` and `split` (DVC stage `data`): their outputs in the session's smoke build (a
missing or truncated MNIST file refused: tests/workflow/test_faults.py)."""

import numpy as np

from intriguing.core import mnist
from intriguing.data import fetch


def test_mnist_rule_copies_and_verifies(smoke_project):
    for name in mnist.FILES:
        fetch.verify_file(smoke_project / "data" / "raw" / name)


def test_split_rule(smoke_project):
    split = mnist.load_split(smoke_project / "data/processed/split.npz")
    p1, p2 = split["p1"], split["p2"]
    assert len(p1) == len(p2) == 30000
    assert np.intersect1d(p1, p2).size == 0

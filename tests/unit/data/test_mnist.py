"""MNIST library: IDX parsing, checksums, fetching, and the P1/P2 split."""

import gzip
import hashlib

import numpy as np
import pytest

from intriguing.core import mnist
from intriguing.data import fetch, step


def write_idx(path, array: np.ndarray, compress: bool = True) -> None:
    magic = (mnist.IMAGE_MAGIC if array.ndim == 3 else mnist.LABEL_MAGIC).to_bytes(4, "big")
    header = magic + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    data = header + array.astype(np.uint8).tobytes()
    path.write_bytes(gzip.compress(data) if compress else data)


def test_read_idx_parses_images_and_labels(tmp_path):
    images = np.arange(3 * 28 * 28, dtype=np.uint64).reshape(3, 28, 28) % 256
    labels = np.array([7, 0, 9])
    write_idx(tmp_path / "images.gz", images)
    write_idx(tmp_path / "labels", labels, compress=False)
    np.testing.assert_array_equal(mnist.read_idx(tmp_path / "images.gz"), images)
    np.testing.assert_array_equal(mnist.read_idx(tmp_path / "labels"), labels)


def test_read_idx_rejects_truncated_and_bad_magic(tmp_path):
    write_idx(tmp_path / "images.gz", np.zeros((2, 28, 28)))
    data = gzip.decompress((tmp_path / "images.gz").read_bytes())
    (tmp_path / "short.gz").write_bytes(gzip.compress(data[:-5]))
    with pytest.raises(mnist.MnistError, match="short.gz: expected 1584 bytes"):
        mnist.read_idx(tmp_path / "short.gz")
    (tmp_path / "magic.gz").write_bytes(gzip.compress(b"\x00\x00\x09\x99" + data[4:]))
    with pytest.raises(mnist.MnistError, match="bad IDX magic"):
        mnist.read_idx(tmp_path / "magic.gz")


def test_checksum_mismatch_names_file_and_both_checksums(tmp_path):
    name = "t10k-labels-idx1-ubyte.gz"
    bad = tmp_path / name
    bad.write_bytes(b"not mnist")
    with pytest.raises(mnist.MnistError) as error:
        fetch.verify_file(bad)
    message = str(error.value)
    assert name in message
    assert fetch.CHECKSUMS[name][0] in message and fetch.CHECKSUMS[name][1] in message
    assert hashlib.md5(b"not mnist").hexdigest() in message


def test_fetch_leaves_nothing_when_checksum_fails(tmp_path):
    source, destination = tmp_path / "source", tmp_path / "data" / "raw"
    source.mkdir()
    name = "train-labels-idx1-ubyte.gz"
    (source / name).write_bytes(b"corrupt")
    with pytest.raises(mnist.MnistError, match="checksum mismatch"):
        fetch.fetch_file(name, destination / name, source, mirrors=[])
    assert list(destination.iterdir()) == []


def test_missing_source_directory_is_named(tmp_path):
    missing = tmp_path / "nowhere"
    with pytest.raises(mnist.MnistError, match="nowhere does not exist"):
        step.mnist([tmp_path / "raw" / mnist.FILES[0]], missing)


def test_download_failure_says_what_to_do(tmp_path):
    with pytest.raises(mnist.MnistError, match="set MNIST_DIR"):
        fetch.fetch_file(mnist.FILES[1], tmp_path / mnist.FILES[1], None, ["http://127.0.0.1:9/"])
    assert not (tmp_path / mnist.FILES[1]).exists()


def test_stratified_halves_are_disjoint_balanced_and_seeded():
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 10, size=6000)
    p1, p2 = fetch.stratified_halves(labels, seed=3)
    assert len(p1) == len(p2) == 3000
    assert np.intersect1d(p1, p2).size == 0
    assert np.array_equal(np.union1d(p1, p2), np.arange(6000))
    counts1, counts2 = np.bincount(labels[p1], minlength=10), np.bincount(labels[p2], minlength=10)
    assert np.abs(counts1 - counts2).max() <= 1
    again1, _ = fetch.stratified_halves(labels, seed=3)
    other1, _ = fetch.stratified_halves(labels, seed=4)
    assert np.array_equal(p1, again1) and not np.array_equal(p1, other1)


def test_train_set_indices():
    split = {"p1": np.array([0, 2, 4]), "p2": np.array([1, 3, 5])}
    assert mnist.train_set_indices("all", split, 4).tolist() == [0, 1, 2, 3]
    assert mnist.train_set_indices("p2", split, 2).tolist() == [1, 3]
    with pytest.raises(ValueError, match="unknown training set 'p3'"):
        mnist.train_set_indices("p3", split)


def test_atomic_outputs_get_the_usual_permissions(tmp_path):
    from intriguing.common.files import write_text

    write_text(tmp_path / "report.md", "x")
    assert (tmp_path / "report.md").stat().st_mode & 0o644 == 0o644

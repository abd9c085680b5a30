"""Outputs are written atomically and byte-stably: the same payload, the same bytes; a write
that fails or is killed leaves the old file whole."""

import pytest
import torch

from intriguing.common import files
from intriguing.common.files import save_torch, temporary_files, write_json


def test_a_torch_payload_saved_twice_has_the_same_bytes(tmp_path):
    """torch names an archive's inner folder after the file it writes; an atomic write's file
    has a random name, so a payload saved straight to it differs in bytes on every write."""
    payload = {"weights": torch.arange(6.0).reshape(2, 3), "spec": {"name": "n100"}}
    first, second = tmp_path / "a" / "model.pt", tmp_path / "b" / "model.pt"
    save_torch(first, payload)
    save_torch(second, payload)
    assert first.read_bytes() == second.read_bytes()
    assert torch.equal(torch.load(first, weights_only=True)["weights"], payload["weights"])
    assert not temporary_files(first)


def test_json_is_written_with_sorted_keys_and_a_newline(tmp_path):
    path = tmp_path / "metrics.json"
    write_json(path, {"b": 1, "a": [0.5]})
    assert path.read_text() == '{\n  "a": [\n    0.5\n  ],\n  "b": 1\n}\n'


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "metrics.json"
    files.write_json(target, {"n": 1})
    with pytest.raises(RuntimeError), files.atomic_path(target) as tmp:
        tmp.write_text('{"n": ')
        raise RuntimeError("killed halfway")
    assert files.read_json(target) == {"n": 1}
    assert files.temporary_files(target) == []


def test_temporaries_of_a_killed_write_are_removed_by_the_next_write(tmp_path):
    """SIGKILL skips every cleanup: the temporary stays until the path is written again."""
    target = tmp_path / "model.pt"
    leftover = tmp_path / ".model.pt.killedxx.tmp"  # as atomic_path names them
    leftover.write_bytes(b"half a checkpoint")
    other = tmp_path / ".model.pt.bak.killedxx.tmp"  # a temporary of another file
    other.write_bytes(b"kept")
    assert files.temporary_files(target) == [leftover]
    files.write_text(target, "whole")
    assert files.temporary_files(target) == [] and other.read_bytes() == b"kept"
    assert target.read_text() == "whole"

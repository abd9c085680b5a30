"""Outputs are written atomically and byte-stably: the same payload, the same bytes."""

import torch

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

"""params.yaml against the machine (intriguing.plan.machine): `device: cuda` without CUDA and a
path that does not exist are refused naming the key and the fix; whether the torch jobs take a
GPU (the `gpu` resource). That Snakemake stops on them, dry runs included:
tests/workflow/test_params_checks.py."""

import copy
import os
import subprocess
import sys

import pytest
import torch
import yaml

from conftest import ROOT
from intriguing.plan import machine
from intriguing.plan.machine import check_machine, cuda_available, project_path, uses_gpu
from intriguing.plan.params import ParamsError

PARAMS = yaml.safe_load((ROOT / "params.yaml").read_text())


def params(**device):
    return copy.deepcopy({**PARAMS, **device})


def set_key(config, key, value):
    *sections, field = key.split(".")
    target = config
    for section in sections:
        target = target[section]
    target[field] = value


def test_cuda_without_a_cuda_device_is_refused_naming_the_key_and_the_fix(monkeypatch, tmp_path):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ParamsError) as error:
        check_machine(params(device="cuda"), tmp_path, environ={})
    message = str(error.value)
    assert message.startswith("device: 'cuda', but torch finds no CUDA device on this machine")
    assert "`device: auto`" in message and "`--config device=auto`" in message
    with pytest.raises(ParamsError, match=r"machine \(CUDA_VISIBLE_DEVICES=''\)"):
        check_machine(params(device="cuda"), tmp_path, environ={"CUDA_VISIBLE_DEVICES": ""})


def test_cuda_with_a_cuda_device_and_the_other_devices_pass(monkeypatch, tmp_path):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    check_machine(params(device="cuda"), tmp_path, environ={})
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    for device in ("auto", "cpu"):
        check_machine(params(device=device), tmp_path, environ={})


@pytest.mark.parametrize(
    ("key", "kind", "null"), machine.PATH_KEYS, ids=[key for key, _, _ in machine.PATH_KEYS]
)
def test_a_path_that_does_not_exist_is_refused_naming_the_key(tmp_path, key, kind, null):
    config = params()
    set_key(config, key, "missing/thing")
    with pytest.raises(ParamsError) as error:
        check_machine(config, tmp_path, environ={})
    assert str(error.value) == (
        f"{key}: 'missing/thing' does not exist, a {kind} was expected (looked for "
        f"{tmp_path / 'missing/thing'}; a relative path is read from the project root, the "
        f"Snakefile's directory); put the {kind} there, correct the path in params.yaml, or set "
        f"the key to null ({null})"
    )
    # relative to the root, or absolute: found
    (tmp_path / "missing").mkdir()
    made = tmp_path / "missing/thing"
    made.mkdir() if kind == "directory" else made.write_bytes(b"")
    check_machine(config, tmp_path, environ={})
    set_key(config, key, str(made))
    check_machine(config, tmp_path / "elsewhere", environ={})


def test_a_path_of_the_wrong_kind_is_refused(tmp_path):
    (tmp_path / "weights.pth").write_bytes(b"")
    config = params()
    set_key(config, "units.imagefolder.root", "weights.pth")
    with pytest.raises(ParamsError, match=r"^units\.imagefolder\.root: 'weights\.pth' is a file, "):
        check_machine(config, tmp_path, environ={})
    config = params()
    set_key(config, "spectral.alexnet_weights", ".")
    with pytest.raises(ParamsError, match=r"^spectral\.alexnet_weights: '\.' is a directory, a"):
        check_machine(config, tmp_path, environ={})


def test_a_relative_path_is_the_project_roots_wherever_snakemake_runs(tmp_path):
    """`--directory runs/smoke` runs the jobs elsewhere: they get the path to the same file."""
    root, runs = tmp_path / "project", tmp_path / "project" / "runs" / "smoke"
    assert project_path("weights/alexnet.pth", root, workdir=root) == "weights/alexnet.pth"
    assert project_path("weights/alexnet.pth", root, workdir=runs) == "../../weights/alexnet.pth"
    assert project_path("/data/alexnet.pth", root, workdir=runs) == "/data/alexnet.pth"
    assert project_path(None, root, workdir=runs) is None


def test_mnist_dir_is_not_checked_when_the_environment_names_the_directory(tmp_path):
    """MNIST_DIR wins over data.mnist_dir (workflow/scripts/mnist.py): the key is not read."""
    config = params()
    set_key(config, "data", {**config["data"], "mnist_dir": "nowhere"})
    check_machine(config, tmp_path, environ={"MNIST_DIR": str(tmp_path)})
    with pytest.raises(ParamsError, match=r"^data\.mnist_dir: 'nowhere' does not exist"):
        check_machine(config, tmp_path, environ={})


def test_torch_jobs_take_a_gpu_when_they_run_on_cuda(monkeypatch):
    assert uses_gpu("cuda") and not uses_gpu("cpu")
    for available in (True, False):
        monkeypatch.setattr(machine, "cuda_available", lambda available=available: available)
        assert uses_gpu("auto") is available


def test_cuda_available_follows_torch_where_a_gpu_device_file_exists(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(machine, "gpu_device_files_present", lambda: True)
    assert cuda_available()
    monkeypatch.setattr(machine, "gpu_device_files_present", lambda: False)
    assert not cuda_available()  # no device file: no CUDA, whatever torch would say


def test_planning_on_a_cpu_machine_does_not_import_torch():
    """`device: auto` and `cpu` (and the paths) are checked, and auto's GPU use decided, without
    torch where no GPU device file exists: each Snakemake invocation stays fast."""
    code = (
        "import sys, yaml; from intriguing.plan import machine; "
        "config = yaml.safe_load(open('params.yaml')); "
        "machine.check_machine(config, '.'); "
        "machine.check_machine({**config, 'device': 'cpu'}, '.'); "
        "assert not machine.uses_gpu('cpu'); "
        "gpu = machine.gpu_device_files_present(); "
        "assert gpu or not machine.uses_gpu('auto'); "
        "assert gpu or 'torch' not in sys.modules, 'torch imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_a_relative_mnist_dir_is_the_project_roots(monkeypatch, tmp_path):
    from intriguing.plan.machine import anchor_mnist_dir

    monkeypatch.setenv("MNIST_DIR", "../shared/mnist")
    anchor_mnist_dir(tmp_path / "project")
    assert os.environ["MNIST_DIR"] == str(tmp_path / "project" / "../shared/mnist")
    monkeypatch.setenv("MNIST_DIR", "/data/mnist")
    anchor_mnist_dir(tmp_path / "project")
    assert os.environ["MNIST_DIR"] == "/data/mnist"

"""Time the frame bounds of every AlexNet layer (Table 5 of Szegedy et al.), FC layers included.

Two forms, both with seeded random weights (no downloads): torchvision's AlexNet at 224x224
and the original two-GPU AlexNet at 227x227 (intriguing.spectral.original_alexnet). Runs on
the CPU, and on the GPU too when one is available.

    uv run python benchmarks/bench_spectral.py

OMP_WAIT_POLICY defaults to PASSIVE here: with OpenMP's spin-waiting, LAPACK's two-thread
SVD of the 4096 x 4096 FC layer took ~70 s instead of ~10 s on a 2-core machine shared with
other jobs. Set OMP_WAIT_POLICY=ACTIVE to measure the default.
"""

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # read once, when torch loads OpenMP

import math  # noqa: E402
import time  # noqa: E402

import torch  # noqa: E402
import torchvision  # noqa: E402
from torch import nn  # noqa: E402

from intriguing.spectral import layer_frame_bounds, original_alexnet, trace_layers  # noqa: E402

SEED = 0


def networks() -> list[tuple[str, nn.Module, tuple[int, int, int]]]:
    """The two AlexNet forms with their input shapes."""
    torch.manual_seed(SEED)  # torchvision initialises from the global RNG
    return [
        ("torchvision", torchvision.models.alexnet(weights=None).eval(), (3, 224, 224)),
        ("original", original_alexnet(SEED), (3, 227, 227)),
    ]


def synchronize(device: torch.device) -> None:
    """Wait for queued GPU work so that timings are honest."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def main() -> None:
    devices = [torch.device("cpu")]
    if torch.cuda.is_available():
        devices.append(torch.device("cuda"))
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} CPU threads, "
        f"OMP_WAIT_POLICY={os.environ['OMP_WAIT_POLICY']}, load average {load}"
    )
    header = (
        f"{'network':<12} {'device':<6} {'layer':<14} {'weight':<20} {'grid':<9} "
        f"{'lower':>10} {'upper':>8} {'seconds':>8}"
    )
    total_seconds = 0.0
    for device in devices:
        print(f"\n{header}\n{'-' * len(header)}")
        for network, model, input_shape in networks():
            model.to(device)
            uppers = []
            network_seconds = 0.0
            for layer in trace_layers(model, input_shape):
                synchronize(device)
                start = time.perf_counter()
                row = layer_frame_bounds(layer)
                synchronize(device)
                seconds = time.perf_counter() - start
                network_seconds += seconds
                uppers.append(row.upper)
                grid = "x".join(map(str, row.circular_size)) if row.circular_size else "-"
                weight = "x".join(map(str, row.weight_shape))
                print(
                    f"{network:<12} {device.type:<6} {row.name:<14} {weight:<20} {grid:<9} "
                    f"{row.lower:>10.3g} {row.upper:>8.3f} {seconds:>8.2f}"
                )
            total_seconds += network_seconds
            print(
                f"{network:<12} {device.type:<6} {'all layers':<14} {'':<20} {'':<9} "
                f"{'':>10} {math.prod(uppers):>8.3g} {network_seconds:>8.2f}"
            )
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(f"\ntotal seconds: {total_seconds:.2f} (load average at the end {load})")


if __name__ == "__main__":
    main()

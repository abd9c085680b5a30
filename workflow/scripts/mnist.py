"""Rule `mnist`: MNIST_DIR (environment) wins over data.mnist_dir; neither means download."""

import os

from intriguing.data import step

step.mnist(snakemake.output, os.environ.get("MNIST_DIR") or snakemake.params.mnist_dir)  # noqa: F821

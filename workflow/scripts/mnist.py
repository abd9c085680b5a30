"""Rule `mnist`: MNIST_DIR (environment) wins over data.mnist_dir; neither means download."""

import os

from intriguing.mnist import obtain_mnist

obtain_mnist(snakemake.output, os.environ.get("MNIST_DIR") or snakemake.params.mnist_dir)  # noqa: F821

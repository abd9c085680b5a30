"""Rule `mnist`: MNIST_DIR (environment) wins over data.mnist_dir; neither means download."""

import os

from intriguing.common.progress import job_log
from intriguing.data import step

sm = snakemake  # noqa: F821
with job_log(sm.log[0]):
    step.mnist(sm.output, os.environ.get("MNIST_DIR") or sm.params.mnist_dir)

# intriguing: the Snakemake workflow that reproduces Szegedy et al. 2013.
# `uv run snakemake --cores all` runs everything; `--config profile=smoke` picks the tiny profile.
# The rules, scripts and schema live under workflow/; the workflow profile in profiles/default.
import os

from snakemake.utils import min_version, validate

from intriguing.plan.machine import anchor_mnist_dir, check_machine
from intriguing.plan.params import check_params, resolve_profile
from intriguing.common.determinism import determinism_environment
from intriguing.plan.workspace import profile_refusal

min_version("9.0")


# params.yaml beside this file, also when --directory runs the workflow in another folder
configfile: os.path.join(workflow.basedir, "params.yaml")


validate(config, "workflow/schemas/params.schema.yaml")
check_params(config)
# `device: cuda` without CUDA, a weights or data path that does not exist: stop here, dry runs
# included. A relative path is relative to the project root (common.smk, PROJECT_PATHS).
check_machine(config, workflow.basedir)
SETTINGS = resolve_profile(config)
# Inherited by every job's process, wherever it runs (intriguing.common.runtime.configure_job).
os.environ.update(determinism_environment(config["deterministic"]))
anchor_mnist_dir(workflow.basedir)


# Never cluster jobs: the download needs the internet (compute nodes often have none), and the
# summaries and the report take seconds.
localrules:
    all,
    all_data,
    all_train,
    all_adversarial,
    all_transfer,
    all_spectral,
    all_units,
    all_instability,
    all_advtrain,
    all_readings,
    all_report,
    mnist,
    units_summary,
    advtrain_summary,
    decay_readings,
    ae400_variants,
    report,


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/adversarial.smk"
include: "workflow/rules/transfer.smk"
include: "workflow/rules/spectral.smk"
include: "workflow/rules/units.smk"
include: "workflow/rules/instability.smk"
include: "workflow/rules/advtrain.smk"
include: "workflow/rules/readings.smk"
include: "workflow/rules/report.smk"


rule all:
    default_target: True
    input:
        rules.all_data.input,
        rules.all_train.input,
        rules.all_adversarial.input,
        rules.all_transfer.input,
        rules.all_spectral.input,
        rules.all_units.input,
        rules.all_instability.input,
        rules.all_advtrain.input,
        rules.all_readings.input,
        rules.all_report.input,


onstart:
    # Before the first job (not on a dry run): a smoke or full run must not replace the
    # committed default-profile results in this working tree.
    refusal = profile_refusal(config["profile"], os.getcwd())
    if refusal:
        raise WorkflowError(refusal)

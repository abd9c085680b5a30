#!/usr/bin/env bash
# Submit command of the local-cluster profile: start a Snakemake job script as its own background
# process (its own session, like a batch scheduler's job) and print its process id as the job id.
set -euo pipefail
jobscript="$1"
logs=.snakemake/local-cluster
mkdir -p "$logs"
setsid bash "$jobscript" >"$logs/$(basename "$jobscript").log" 2>&1 </dev/null &
echo $!

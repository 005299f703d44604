#!/usr/bin/env bash
# Issue 11, item 5: the time to 97.5 / 98.5 / 99 % of the recipe long_band on BOTH cores,
# three seeds (3, 4, 5: new seeds of the recipe too), one run after another, alone:
#   nohup bash benchmarks/timing_2c.sh > runs/timing_2c.log 2>&1 &
# A timing is only worth having with nothing else on the machine, so it refuses to start
# while another training runs. Interrupted runs resume (their wall time adds up across
# the resumes). Afterwards: python benchmarks/collect.py runs/long_band2c_s3 ...
set -u
cd "$(dirname "$0")/.."
if pgrep -f "iic_tutorial train" > /dev/null; then
  echo "another training is running (pgrep -f 'iic_tutorial train'): a timing on both cores needs the machine to itself" >&2
  exit 1
fi
T="--recipe long_band --eval-every 100 --precision bf16"
exec bash benchmarks/queue.sh long_band2c_s3 "$T --seed 3" long_band2c_s4 "$T --seed 4" \
  long_band2c_s5 "$T --seed 5"

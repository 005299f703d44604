#!/usr/bin/env bash
# Issue 11, item 5: the time to 97.5 / 98.5 / 99 % of the recipe long_band on BOTH cores,
# three seeds one after another, alone on the machine:
#   nohup bash benchmarks/timing_2c.sh > runs/timing_2c.log 2>&1 &
# Each run is runs/${NAME}_s<seed> (NAME default long_band2c, SEEDS default "3 4 5"). Wall
# times depend on the processor (runs.hardware() records it): on another kind of CPU, run
# the same seeds under another NAME, e.g.
#   NAME=long_band2c_epyc nohup bash benchmarks/timing_2c.sh > runs/timing_epyc.log 2>&1 &
# A timing is only worth having with nothing else on the machine, so it refuses to start
# while another training runs. Interrupted runs resume (their wall time adds up across
# the resumes). Afterwards: python benchmarks/collect.py runs/${NAME}_s3 ...
set -u
cd "$(dirname "$0")/.."
if pgrep -f "iic_tutorial train" > /dev/null; then
  echo "another training is running (pgrep -f 'iic_tutorial train'): a timing on both cores needs the machine to itself" >&2
  exit 1
fi
NAME=${NAME:-long_band2c}
T="--recipe long_band --eval-every 100 --precision bf16"
runs=()
for seed in ${SEEDS:-3 4 5}; do
  runs+=("${NAME}_s$seed" "$T --seed $seed")
done
exec bash benchmarks/queue.sh "${runs[@]}"

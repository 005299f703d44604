#!/usr/bin/env bash
# The runs of issue 11 (past the 97.9 % plateau), as two queues pinned to one core each:
#   nohup bash benchmarks/beyond.sh > runs/beyond.log 2>&1 &
# Each idea alone against the current recipe in today's numerics (bf16_erase_s0-2 of
# benchmarks/long_runs.sh), 3 seeds. Finished runs are skipped, interrupted ones resume.
set -u
cd "$(dirname "$0")/.."
mkdir -p runs
E="--recipe fast --steps 1600 --lr-drop 900 --eval-every 100 --erase 0.5 --precision bf16"
# idea 1: heads on the flattened 3 x 3 x 256 map (where a stroke is), not its average
F="$E --pooling flatten"
lane0=(flat_s0 "$F --seed 0" flat_s2 "$F --seed 2")
lane1=(flat_s1 "$F --seed 1")
PIN=0 bash benchmarks/queue.sh "${lane0[@]}" &
PIN=1 bash benchmarks/queue.sh "${lane1[@]}" &
wait

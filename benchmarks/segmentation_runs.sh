#!/usr/bin/env bash
# The segmentation runs of chapter 12: three seeds of `python -m iic_tutorial train-seg`
# (400 steps, evaluated every 50), started together, all pinned to core 0 (they share it,
# and shared it with other work: their wall times are upper bounds, not the recipe's speed).
# Each result is copied to iic_tutorial/segmentation/results/seg_s<seed>.json, and seed 0's weights,
# which the chapter loads, to iic_tutorial/segmentation/results/seg_s0.weights.h5.
# Killed? Run it again: each run resumes from its last checkpoint.
set -euo pipefail
cd "$(dirname "$0")/.."
PIN=${PIN:-0}
SEEDS=${SEEDS:-0 1 2}
mkdir -p iic_tutorial/segmentation/results
for seed in $SEEDS; do
  taskset -c "$PIN" .venv/bin/python -u -m iic_tutorial train-seg --steps 400 --eval-every 50 \
    --seed "$seed" --out "runs/seg_s$seed" > "runs/seg_s$seed.log" 2>&1 &
done
wait
for seed in $SEEDS; do
  cp "runs/seg_s$seed/result.json" "iic_tutorial/segmentation/results/seg_s$seed.json"
done
cp runs/seg_s0/model.weights.h5 iic_tutorial/segmentation/results/seg_s0.weights.h5

#!/usr/bin/env bash
# The runs of issues 9 and 10, as two queues pinned to one core each:
#   nohup bash benchmarks/long_runs.sh > runs/long_runs.log 2>&1 &
# Finished runs (runs/NAME/result.json) are skipped and interrupted ones resume from their last
# checkpoint, so after a stop simply start the script again. Afterwards:
#   python benchmarks/collect.py runs/NAME ...
set -u
cd "$(dirname "$0")/.."
mkdir -p runs
# issue 9: the shipped model's recipe in the fast mode (bf16 + fused BatchNorm), 3 seeds, to set
# against its fp32 / Keras-BatchNorm runs erase_s0-2
E="--recipe fast --steps 1600 --lr-drop 900 --eval-every 100 --erase 0.5 --precision bf16"
# issue 10: the article's recipe at its stated length: 100 epochs of the 60k training images
# (6000 steps of 1000 pairs), evaluated every 2 epochs; seeds 1 and 2 for 20 epochs (1200 steps)
A="--recipe article --train-on train --epochs 100 --eval-every 120 --precision bf16"
A20="--recipe article --train-on train --epochs 20 --eval-every 120 --precision bf16"
# (a run that the other lane is training is refused by its folder lock, and the lane moves on)
lane0=(bf16_erase_s0 "$E --seed 0" bf16_erase_s1 "$E --seed 1" bf16_erase_s2 "$E --seed 2"
       article20_a10_s1 "$A20 --alpha 10 --seed 1" article20_a1_s1 "$A20 --alpha 1 --seed 1"
       article20_a10_s2 "$A20 --alpha 10 --seed 2" article20_a1_s2 "$A20 --alpha 1 --seed 2")
lane1=(article100_a10_s0 "$A --alpha 10 --seed 0" article100_a1_s0 "$A --alpha 1 --seed 0"
       article20_a1_s2 "$A20 --alpha 1 --seed 2" article20_a10_s2 "$A20 --alpha 10 --seed 2")
PIN=0 bash benchmarks/queue.sh "${lane0[@]}" &
PIN=1 bash benchmarks/queue.sh "${lane1[@]}" &
wait

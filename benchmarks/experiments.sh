#!/usr/bin/env bash
# Every experiment of results/ (issue 4), as two queues pinned to one core each.
#   nohup bash benchmarks/experiments.sh > runs/experiments.log 2>&1 &
# Runs that already have runs/NAME/result.json are skipped, interrupted ones resume, so the
# script can simply be started again. Afterwards:
#   python benchmarks/collect.py runs/*/        # results/runs/*.json + PNG, README tables
# (On a GPU machine drop the PIN=... prefixes: one queue, or several, as memory allows.)
set -u
cd "$(dirname "$0")/.."
mkdir -p runs
F="--recipe fast --steps 1200 --lr-drop 900 --eval-every 100"   # the fast recipe, full length
E="--recipe fast --steps 1600 --lr-drop 900 --eval-every 100 --erase 0.5"  # + erasing
S="--recipe fast --steps 300 --eval-every 50"                    # short runs: sweep, ablations
A="--recipe article --steps 300 --eval-every 50"                 # the article's recipe

lane0=() lane1=()
for seed in 0 1 2; do
  lane0+=(final_s$seed "$F --seed $seed")
  lane1+=(erase_s$seed "$E --seed $seed")                      # + random erasing: shipped
done
lane0+=(crop_s0 "$F --scale 0.9 1.6 --shift 5 --seed 0")        # single-seed probes
lane1+=(a2both_s0 "--recipe fast --steps 1200 --eval-every 100 --alpha-over 2 --seed 0"
        sub5_300_s0 "--recipe fast --steps 300 --lr-drop 900 --eval-every 100 --subheads 5 --seed 0")
lane0+=(sweep_a3_s0 "$S --alpha 3 --seed 0")
for seed in 0 1 2; do
  for a in 1 5 10 20; do lane0+=(sweep_a${a}_s$seed "$S --alpha $a --seed $seed"); done
  lane0+=(noover_s$seed "$S --no-over-clustering --seed $seed")
  lane1+=(view4_all_s$seed "$S --view article --seed $seed")
  for t in rotation distortion binarization noise; do
    lane1+=(view4_${t}_s$seed "$S --view article --only $t --seed $seed")
  done
done
for seed in 0 1 2; do
  lane0+=(article_a1_s$seed "$A --alpha 1 --seed $seed")
  lane1+=(article_a10_s$seed "$A --alpha 10 --seed $seed")
done
PIN=0 bash benchmarks/queue.sh "${lane0[@]}" &
PIN=1 bash benchmarks/queue.sh "${lane1[@]}" &
wait
# The shipped recipe once more, alone on both cores: its wall time is the recipe's timing.
bash benchmarks/queue.sh erase2c_s0 "$E --seed 0"

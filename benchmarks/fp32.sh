#!/usr/bin/env bash
# The 99 % recipe in fp32, on the seeds of its bf16 runs (long_band_s0-s2), so each pair
# shows what the numerics change. One queue pinned to one core (PIN, default 1), resumable:
#   nohup bash benchmarks/fp32.sh > runs/fp32.log 2>&1 &
# Run it from a clean checkout of a commit (a git worktree does): the results record it.
set -u
cd "$(dirname "$0")/.."
FP32="--recipe long_band --eval-every 100 --precision fp32"
PIN=${PIN:-1} bash benchmarks/queue.sh \
  long_band_fp32_s0 "$FP32 --seed 0" long_band_fp32_s1 "$FP32 --seed 1" \
  long_band_fp32_s2 "$FP32 --seed 2"

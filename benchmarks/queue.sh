#!/usr/bin/env bash
# Runs training experiments one after another in the background, each resumable:
#   nohup bash benchmarks/queue.sh NAME "ARGS" [NAME "ARGS" ...] > runs/queue.log 2>&1 &
# Each run writes runs/NAME/ (checkpoint, history, result.json) and runs/NAME.log.
set -u
cd "$(dirname "$0")/.."
while [ $# -ge 2 ]; do
  name=$1; args=$2; shift 2
  echo "$(date -Is) start $name: $args"
  .venv/bin/python -m iic_tutorial train $args --out "runs/$name" --quiet > "runs/$name.log" 2>&1
  echo "$(date -Is) end $name rc=$?"
done

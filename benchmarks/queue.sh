#!/usr/bin/env bash
# Runs training experiments one after another in the background, each resumable:
#   nohup bash benchmarks/queue.sh NAME "ARGS" [NAME "ARGS" ...] > runs/queue.log 2>&1 &
# Each run writes runs/NAME/ (checkpoint, history, result.json) and runs/NAME.log.
# PIN=CORE (e.g. PIN=0) runs the queue on that one core with one TensorFlow thread: on a
# 2-core machine two pinned queues side by side train about 1.35x more steps per second in
# total than one queue on both cores (100 steps: 71 s each, pinned, vs 48 s alone).
set -u
cd "$(dirname "$0")/.."
pin=()
if [ -n "${PIN:-}" ]; then
  pin=(taskset -c "$PIN")
  export TF_NUM_INTRAOP_THREADS=1 TF_NUM_INTEROP_THREADS=1
fi
while [ $# -ge 2 ]; do
  name=$1; args=$2; shift 2
  # a run still training in another process (a queue restarted under it): wait until that
  # process ends (not only its lock: it writes result.json after fit releases the folder).
  # A run with --restarts trains in its candidates' folders, each with a lock of its own.
  for lock in "runs/$name/.lock" "runs/$name"/candidate_seed*/.lock; do
    if [ -f "$lock" ] && ! flock -n "$lock" true; then
      owner=$(cat "$lock")
      echo "$(date -Is) wait for $name: process $owner is training it"
      while kill -0 "$owner" 2>/dev/null; do sleep 10; done
    fi
  done
  if [ -f "runs/$name/result.json" ]; then
    echo "$(date -Is) skip $name: runs/$name/result.json exists"
    continue
  fi
  echo "$(date -Is) start $name: $args"
  "${pin[@]}" .venv/bin/python -m iic_tutorial train $args --out "runs/$name" --quiet >> "runs/$name.log" 2>&1
  rc=$?  # (before $(date) below, which would reset it)
  echo "$(date -Is) end $name rc=$rc"
done

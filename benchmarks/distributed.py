"""Training on several devices, measured: the global-batch loss against its alternatives.

    python benchmarks/distributed.py            # about 2 minutes on 2 CPU cores

For 2, 4 and 8 logical CPU devices (tests/helpers/distributed_check.py in a fresh
process each) one train step of the fast recipe under MirroredStrategy is compared with
the same step on one device: with synchronized BatchNorm (the method alone: the IIC loss
of the global batch, counts all-reduced before the logs), with BatchNorm on each
replica's own share (the default), and the naive objective, the mean of per-replica IIC
losses. Writes iic_tutorial/pretrained/distributed.json, the one copy (package data:
chapter 7 and the engineering notes read it through iic_tutorial.pretrained.distributed()).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from iic_tutorial import _import_tensorflow_quietly  # noqa: E402
from iic_tutorial.runs import atomic_write_text, distributed_table, provenance  # noqa: E402

_import_tensorflow_quietly()  # provenance() asks TensorFlow for GPUs: without its notices
CHECK = ROOT / "tests" / "helpers" / "distributed_check.py"
OUT = ROOT / "iic_tutorial" / "pretrained" / "distributed.json"


def measure(replicas: int, naive: bool) -> dict:
    out = subprocess.run([sys.executable, str(CHECK), str(replicas), *(["--naive"] if naive else [])],
                         capture_output=True, text=True, timeout=900,
                         env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    lines = [line for line in out.stdout.splitlines() if line.startswith("RESULT ")]
    if out.returncode or not lines:
        raise SystemExit(f"{CHECK} {replicas} failed:\n{out.stderr[-3000:]}")
    return json.loads(lines[-1].removeprefix("RESULT "))


def main() -> int:
    reports = {str(n): measure(n, naive=n == 2) for n in (2, 4, 8)}
    result = {**provenance("python benchmarks/distributed.py"),
              "what": "one fast-recipe step (160 pairs, shipped weights) on N logical CPU devices "
                      "vs one device; naive: mean of per-replica IIC losses on the shipped model's "
                      "outputs for 1000 test images",
              "replicas": reports}
    atomic_write_text(OUT, json.dumps(result, indent=1))
    print(distributed_table(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())

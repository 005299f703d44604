"""What made a result: the git revision, the software, and the machine (CPU, cores,
threads, GPUs), probed where it runs. :func:`provenance` puts them together for every
result file.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import time
from pathlib import Path

from ..cpu import BF16_FLAGS, cpu_flags  # the train step reads them too: a leaf module
from ..cpu import cpuinfo as _cpuinfo

__all__ = [
    "provenance", "hardware", "software", "machine", "gpu_names", "cpu_name",
    "git_revision", "threads", "cpu_flags", "BF16_FLAGS", "benchmark_command"
]


def _usable_cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


def git_revision() -> str:
    """The checkout's short commit hash, with "-dirty" if tracked files changed ("unknown" outside git)."""
    try:
        root = Path(__file__).resolve().parent.parent
        out = subprocess.run(["git", "-C", str(root), "rev-parse", "--short", "HEAD"],
                             capture_output=True, text=True, timeout=10)
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10)
        if out.returncode != 0:
            return "unknown"
        return out.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def uncommitted(revision: str) -> list[str]:
    """The revisions of ``revision`` (one :func:`git_revision`, or several joined by ", " as a
    result records the checkouts a resumed run trained at) that had uncommitted changes: those
    ending in "-dirty", whose code no commit holds."""
    return [r for r in revision.split(", ") if r.endswith("-dirty")]


def require_committed(revision: str) -> None:
    """SystemExit, naming ``revision``, when this checkout had uncommitted changes: a score is
    published only from code a commit holds (the benchmarks that write into the package)."""
    if uncommitted(revision):
        raise SystemExit(f"this checkout ({revision}) has uncommitted changes: commit them, then score")


def hardware() -> str:
    """A short description of what ran the training: GPU names, or the CPU cores it could use.

    On a CPU it names the cores this process may run on (a ``taskset`` pin
    shows as "1 of 2 cores"), TF_NUM_INTRAOP_THREADS when set, and the
    processor (:func:`cpu_name`), since wall times are only comparable
    between runs that had the same share of the same kind of CPU.
    """
    gpus = gpu_names()
    if gpus:
        return f"{len(gpus)} GPU(s): " + ", ".join(gpus)
    total = os.cpu_count()
    usable = _usable_cores()
    text = f"CPU only, {usable} of {total} cores" if usable != total else f"CPU only, {total} cores"
    threads = os.environ.get("TF_NUM_INTRAOP_THREADS")
    if threads:
        text += f", {threads} TensorFlow thread(s)"
    text = f"{text}, {platform.processor() or platform.machine()}"
    name = cpu_name()
    return f"{text}, {name}" if name else text


def gpu_names() -> list[str]:
    """The model of each GPU TensorFlow sees ("Tesla T4"; its device name where none is given)."""
    import tensorflow as tf

    names = []
    for gpu in tf.config.list_physical_devices("GPU"):
        try:
            details = tf.config.experimental.get_device_details(gpu)
        except (ValueError, RuntimeError):
            details = {}
        names.append(details.get("device_name") or gpu.name)
    return names


def software() -> dict:
    """The versions a result depends on: Python, TensorFlow, Keras, NumPy."""
    import keras
    import numpy as np
    import tensorflow as tf

    return {"python": platform.python_version(), "tensorflow": tf.__version__,
            "keras": keras.__version__, "numpy": np.__version__}


def machine() -> dict:
    """What ran a result, as fields: CPU name, cores (all / usable), TensorFlow threads, GPUs.

    ``onednn_max_cpu_isa`` is set when ``ONEDNN_MAX_CPU_ISA`` made oneDNN act
    as a lower CPU than the one named. (:func:`hardware` says the same in a
    sentence, the form older results have.)
    """
    return {"cpu": cpu_name() or platform.processor() or platform.machine(),
            "cores": os.cpu_count(), "usable_cores": _usable_cores(),
            "tf_threads": os.environ.get("TF_NUM_INTRAOP_THREADS"),
            "onednn_max_cpu_isa": os.environ.get("ONEDNN_MAX_CPU_ISA"),
            "gpus": gpu_names()}


def cpu_name(cpuinfo: str | os.PathLike = "/proc/cpuinfo") -> str:
    """The processor as ``/proc/cpuinfo`` names it, with its family and model numbers.

    ``"AMD EPYC (family 26, model 2; bf16: AVX512-BF16)"``: a virtual machine
    often hides the full model name, so the numbers are kept too, and the
    bfloat16 hardware (AMX tiles or AVX-512-BF16 instructions,
    :data:`BF16_FLAGS`), which sets the speed of ``precision="bf16"``. Read
    from the first processor of ``cpuinfo``; empty where it cannot be read or
    names no model.
    """
    fields = _cpuinfo(cpuinfo)
    name = fields.get("model name", "")
    if not name:
        return ""
    numbers = [f"{label} {fields[key]}" for key, label in (("cpu family", "family"), ("model", "model"))
               if key in fields]
    flags = set(fields.get("flags", "").split())
    bf16 = [label for flag, label in BF16_FLAGS.items() if flag in flags]
    details = ", ".join(numbers) + (f"; bf16: {' + '.join(bf16)}" if bf16 else "")
    return f"{name} ({details})" if details else name


def threads() -> dict:
    """The thread settings a timing depends on: usable cores and TensorFlow's thread pools."""
    import tensorflow as tf

    return {"cores": os.cpu_count(), "usable_cores": _usable_cores(),
            "intra_op_threads": tf.config.threading.get_intra_op_parallelism_threads() or "default",
            "inter_op_threads": tf.config.threading.get_inter_op_parallelism_threads() or "default",
            "TF_NUM_INTRAOP_THREADS": os.environ.get("TF_NUM_INTRAOP_THREADS"),
            "TF_NUM_INTEROP_THREADS": os.environ.get("TF_NUM_INTEROP_THREADS")}


def benchmark_command(script: str, argv: list[str] | None = None) -> str:
    """The command a benchmark was run with, as a result records it: ``python benchmarks/SCRIPT
    ARG ...``, its arguments as given (``argv``; None: this process's, ``sys.argv[1:]``), --out too."""
    words = sys.argv[1:] if argv is None else argv
    return " ".join(["python", f"benchmarks/{script}", *map(str, words)])


def provenance(command: str) -> dict:
    """What made a result now: command, revision, hardware (a sentence), date, software, machine.

    ``software``: :func:`software`; ``machine``: :func:`machine` (the hardware
    as fields). A revision ending in "-dirty" means tracked files had changed:
    such a result cannot be traced to a commit.
    """
    return {"command": command, "revision": git_revision(), "hardware": hardware(),
            "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "software": software(),
            "machine": machine()}

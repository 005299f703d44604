"""A run's provenance: what made a result file, where and when.

Every result this project writes (``python -m iic_tutorial train``, the
benchmarks) records the same four fields through :func:`provenance`, so a
number in the book can always be traced to the command that produced it.
"""

from __future__ import annotations

import os
import platform
import subprocess
import time
from pathlib import Path

__all__ = ["provenance", "hardware", "git_revision", "threads", "cpu_flags", "atomic_write_text", "atomic_save_weights",
           "speed_table", "mean_std", "scoreboard", "HEADLINE", "REPORTED"]


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


def hardware() -> str:
    """A short description of what ran the training: GPU names, or the CPU cores it could use.

    On a CPU it names the cores this process may run on (a ``taskset`` pin
    shows as "1 of 2 cores") and TF_NUM_INTRAOP_THREADS when set, since wall
    times are only comparable between runs that had the same share.
    """
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        return f"{len(gpus)} GPU(s): " + ", ".join(g.name for g in gpus)
    total = os.cpu_count()
    usable = _usable_cores()
    text = f"CPU only, {usable} of {total} cores" if usable != total else f"CPU only, {total} cores"
    threads = os.environ.get("TF_NUM_INTRAOP_THREADS")
    if threads:
        text += f", {threads} TensorFlow thread(s)"
    return f"{text}, {platform.processor() or platform.machine()}"


def cpu_flags() -> set[str]:
    """The CPU's feature flags (``/proc/cpuinfo`` on Linux; empty where it cannot be read)."""
    try:
        with open("/proc/cpuinfo") as f:
            line = next((line for line in f if line.startswith("flags")), "")
    except OSError:
        return set()
    return set(line.partition(":")[2].split())


def threads() -> dict:
    """The thread settings a timing depends on: usable cores and TensorFlow's thread pools."""
    import tensorflow as tf

    return {"cores": os.cpu_count(), "usable_cores": _usable_cores(),
            "intra_op_threads": tf.config.threading.get_intra_op_parallelism_threads() or "default",
            "inter_op_threads": tf.config.threading.get_inter_op_parallelism_threads() or "default",
            "TF_NUM_INTRAOP_THREADS": os.environ.get("TF_NUM_INTRAOP_THREADS"),
            "TF_NUM_INTEROP_THREADS": os.environ.get("TF_NUM_INTEROP_THREADS")}


def provenance(command: str) -> dict:
    """``{"command", "revision", "hardware", "date"}`` for a result made by ``command`` now."""
    return {"command": command, "revision": git_revision(), "hardware": hardware(),
            "date": time.strftime("%Y-%m-%dT%H:%M:%S%z")}


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` to ``path`` through a temporary file and a rename.

    A process killed at any moment leaves either the previous complete file
    or the new complete one, never a half-written file.
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "w") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


def atomic_save_weights(model, path: str | os.PathLike) -> Path:
    """``model.save_weights(path)`` through a temporary file and a rename (see :func:`atomic_write_text`)."""
    path = Path(path)
    if not path.name.endswith(".weights.h5"):
        raise ValueError(f"weights files end in .weights.h5; got {path}")
    tmp = path.with_name(f".{os.getpid()}.partial.{path.name}")
    try:
        model.save_weights(str(tmp))
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


def speed_table(result: dict) -> str:
    """The Markdown table of a ``benchmarks/step_speed.py`` result (README and chapter 7 show it).

    One row per timed train step: seconds per step of 1000 pairs (median of the
    interleaved rounds), images through the network per second, achieved
    GFLOP/s and the speed-up over the article's published code in the same run.
    """
    lines = ["| train step, 1000 pairs | s/step | images/s | GFLOP/s | vs the article's code |",
             "|---|---|---|---|---|"]
    for r in result["rows"]:
        lines.append(f"| {r['step']} | {r['s_per_step']:.3f} | {r['images_per_s']:.0f} "
                     f"| {r['gflop_per_s']:.0f} | {r['speedup_vs_article_code']:.2f}x |")
    return "\n".join(lines)


def mean_std(values) -> str:
    """'mean ± std' in percent (sample std, n - 1), or the single value when n = 1."""
    import numpy as np

    v = 100 * np.asarray(values, dtype=float)
    if len(v) == 1:
        return f"{v[0]:.1f} %"
    return f"{v.mean():.2f} ± {v.std(ddof=1):.2f} %"


#: The experiments of the scoreboard, in its order, with their description.
HEADLINE = (("article_a1", "article recipe, alpha = 1"),
            ("article_a10", "article recipe, alpha = 10"),
            ("article100_a1", "article recipe, alpha = 1, 100 epochs of the 60k training images"),
            ("article100_a10", "article recipe, alpha = 10, 100 epochs of the 60k training images"),
            ("final", "fast recipe"),
            ("erase", "fast recipe + random erasing (the shipped model's recipe)"),
            ("erase2c", "the same, seed 0, alone on both cores (the recipe's timing)"),
            ("bf16_erase", "the same recipe in bf16 with the fused BatchNorm"))

#: Figures quoted from the article and the paper (not measured here).
REPORTED = (
    ("article (reported)", "plain IIC, alpha = 1, article recipe, ~100 epochs", "≈ 85 %"),
    ("article (reported)", "alpha = 10, article recipe, ~100 epochs", "97.5 %"),
    ("paper (reported)", "official code, 5 sub-heads, lowest loss, all 70k images", "99.2 %"),
)


def scoreboard(runs: list[dict], shipped: dict | None = None) -> str:
    """The Markdown scoreboard: the article's and the paper's figures beside this project's runs.

    ``runs``: collected results (``iic_tutorial.pretrained.experiment_results()``);
    one row per experiment of :data:`HEADLINE` that has runs -- mean ± std of the
    final test and all-70k accuracy over its seeds, its steps and mean wall time --
    then the shipped model (``shipped``: ``pretrained_info()``) and the best run.
    The README (``benchmarks/collect.py``) and chapter 9 print it.
    """
    import numpy as np

    from .pretrained import experiment_groups

    rows = ["| source | setting | accuracy |", "|---|---|---|"]
    rows += [f"| {who} | {what} | {acc} |" for who, what, acc in REPORTED]
    found = experiment_groups(runs)
    for name, label in HEADLINE:
        group = found.get(name)
        if not group:
            continue
        steps = "/".join(str(s) for s in sorted({r["steps"] for r in group}))
        minutes = np.mean([r["wall_time_s"] for r in group]) / 60
        rows.append(f"| ours | {label}, {steps} steps ({minutes:.0f} min), {len(group)} seed(s) "
                    f"| {mean_std([r['test_accuracy'] for r in group])} test, "
                    f"{mean_std([r['all70k_accuracy'] for r in group])} all 70k |")
    if shipped is not None:
        rows.append(f"| ours | shipped model (`load_pretrained()`, run {shipped['run']}, chosen "
                    f"without labels), inference mode | {100 * shipped['test_accuracy']:.2f} % "
                    f"test, {100 * shipped['all70k_accuracy']:.2f} % all 70k |")
    if runs:
        best = max(runs, key=lambda r: r["test_accuracy"])
        rows.append(f"| ours | highest final test accuracy of any run ({best['name']}) "
                    f"| {100 * best['test_accuracy']:.2f} % |")
    return "\n".join(rows)

"""Speed levers of an fp32 train step, side by side: what makes training faster where bf16 is absent.

    python benchmarks/fp32_levers.py                         # one core (0), oneDNN capped at AVX2
    python benchmarks/fp32_levers.py --cores 0,1 --threads 1,2 --onednn 1
    python benchmarks/fp32_levers.py --isa AVX512_CORE --onednn 1 --out iic_tutorial/pretrained/fp32_levers_avx512.json

Most readers' CPUs (and every GPU) train in fp32. A lever that changes the process --
oneDNN on or off (``TF_ENABLE_ONEDNN_OPTS``), the number of TensorFlow threads -- can
only be set before TensorFlow starts, so each variant is a worker process of its own,
pinned to the same cores. The workers take turns: in every round each worker times
``--steps`` train steps while the others wait, so a slow moment of this noisy machine
hits all of them alike. Each row gives the median and the fastest of its rounds, and
its ratio to the baseline (the first ``--onednn`` value and thread count) as the median of the
per-round ratios -- robust to a burst of other work during one round. The ratios are
what travels to other machines.

``--isa AVX2`` (the default) sets ``ONEDNN_MAX_CPU_ISA=AVX2`` in every worker: oneDNN
then uses only the AVX2 kernels, as on a CPU without AVX-512 -- an emulation, not such
a CPU (caches, clocks and memory stay this machine's). TensorFlow's Eigen kernels
(oneDNN off) are compiled for AVX2 in the pip wheels and ignore the cap.

Rows:
- ``long_band`` (the 99 % recipe's step: 200 images x 5 views, the x branch once per
  image) and ``TrainConfig.article()`` (1000 images, x and its view), each with oneDNN
  on and off, and with every ``--threads`` count;
- the article's published code (``benchmarks/article_code.py``), with oneDNN on and off:
  the reference of the target "``TrainConfig.article()`` at least 2x the article's code";
- one evaluation as ``train --eval-every`` runs it (BatchNorm recalibrated on 5000
  training images, then the 10k test images and the 5000 dev images scored), in
  seconds and as a share of a run at several evaluation cadences.
Writes JSON (default ``iic_tutorial/pretrained/fp32_levers.json``, package data the book reads); not a pass/fail test.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "iic_tutorial" / "pretrained" / "fp32_levers.json"  # package data: the book reads it
CADENCES = (100, 200, 500, 1000)


# ----------------------------------------------------------------------------- worker
def worker(kind: str, recipe: str) -> None:
    """Serve timing requests on stdin: ``steps N`` -> seconds of N steps; ``eval`` -> one evaluation."""
    sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]
    from iic_tutorial import _import_tensorflow_quietly

    _import_tensorflow_quietly()
    import dataclasses

    import tensorflow as tf

    from iic_tutorial.augment import AugmentConfig, compose
    from iic_tutorial.data import as_images, dev_indices, load_mnist
    from iic_tutorial.training import IICTrainer, TrainConfig, evaluate, recalibrate_batchnorm

    (x_train, y_train), (x_test, y_test) = load_mnist()
    x = as_images(x_train[:5000])
    if kind == "article code":
        from article_code import ArticleIIC

        net = ArticleIIC()
        X = tf.constant(x[:1000])
        X_ = tf.constant(compose(X, AugmentConfig.article(), 0).numpy())

        def step(i: int) -> None:
            net.train_on_batch(X, X_)
        evaluation = None
    else:
        config = dataclasses.replace(TrainConfig.named(recipe), precision="fp32")
        trainer = IICTrainer(config)
        m = config.images_per_step

        def step(i: int) -> None:
            start = (i * m) % (len(x) - m)
            trainer.train_step(x[start:start + m])

        dev = dev_indices()
        x_dev, y_dev = as_images(x_train[dev]), y_train[dev]
        x_eval = as_images(x_test)

        def evaluation() -> None:
            recalibrate_batchnorm(trainer.model, x)
            evaluate(trainer.model, x_eval, y_test)
            evaluate(trainer.model, x_dev, y_dev)

    done = 0
    for _ in range(4):  # trace, let oneDNN build its primitives, warm up (2 are not enough)
        step(done)
        done += 1
    print("ready", flush=True)
    for line in sys.stdin:
        words = line.split()
        if words[0] == "steps":
            t0 = time.perf_counter()
            for _ in range(int(words[1])):
                step(done)
                done += 1
            print(time.perf_counter() - t0, flush=True)
        elif words[0] == "eval":
            if evaluation is None:
                print("nan", flush=True)
                continue
            t0 = time.perf_counter()
            evaluation()
            print(time.perf_counter() - t0, flush=True)


# ----------------------------------------------------------------------------- driver
def start(name: str, kind: str, recipe: str, env: dict, cores: str) -> subprocess.Popen:
    cmd = ["taskset", "-c", cores, sys.executable, __file__, "--worker", kind, "--recipe", recipe]
    p = subprocess.Popen(cmd, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                         stderr=subprocess.DEVNULL)  # TensorFlow's start-up chatter, six times
    line = p.stdout.readline().strip()
    if line != "ready":
        raise RuntimeError(f"worker {name!r} did not start (said {line!r}); run it alone to see why")
    return p


def ask(p: subprocess.Popen, request: str) -> float:
    p.stdin.write(request + "\n")
    p.stdin.flush()
    return float(p.stdout.readline())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--recipe", default="long_band", help=argparse.SUPPRESS)
    parser.add_argument("--cores", default="0", help="cores every worker is pinned to (taskset list)")
    parser.add_argument("--threads", default="1", help="TensorFlow intra-op thread counts to compare")
    parser.add_argument("--onednn", default="1,0", help="TF_ENABLE_ONEDNN_OPTS values to compare")
    parser.add_argument("--isa", default="AVX2", help="ONEDNN_MAX_CPU_ISA for every worker, or 'native'")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=2, help="steps per worker and round")
    parser.add_argument("--evals", type=int, default=3, help="timed evaluations of the long_band worker")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    if args.worker:
        worker(args.worker, args.recipe)
        return 0

    sys.path.insert(0, str(ROOT))
    from iic_tutorial.runs import atomic_write_text, provenance

    thread_counts = [int(t) for t in args.threads.split(",")]
    base = {k: v for k, v in os.environ.items()
            if k not in ("TF_ENABLE_ONEDNN_OPTS", "ONEDNN_MAX_CPU_ISA", "TF_NUM_INTRAOP_THREADS")}
    base.update(TF_CPP_MIN_LOG_LEVEL="2", TF_NUM_INTEROP_THREADS="1")
    if args.isa != "native":
        base["ONEDNN_MAX_CPU_ISA"] = args.isa
    specs = []  # (name, kind, recipe, env)
    for n in thread_counts:
        for onednn in args.onednn.split(","):
            env = {**base, "TF_ENABLE_ONEDNN_OPTS": onednn, "TF_NUM_INTRAOP_THREADS": str(n)}
            lib = "oneDNN" if onednn == "1" else "Eigen (oneDNN off)"
            specs.append((f"long_band, {lib}, {n} thread(s)", "package", "long_band", env))
            specs.append((f"TrainConfig.article(), {lib}, {n} thread(s)", "package", "article", env))
            specs.append((f"article code, {lib}, {n} thread(s)", "article code", "article", env))

    workers = {}
    try:
        for name, kind, recipe, env in specs:
            print(f"starting {name}", flush=True)
            workers[name] = start(name, kind, recipe, env, args.cores)
        times: dict[str, list[float]] = {name: [] for name in workers}
        for r in range(args.rounds):
            for name, p in workers.items():
                times[name].append(ask(p, f"steps {args.steps}") / args.steps)
            print(f"round {r + 1}/{args.rounds}: " + ", ".join(
                f"{t[-1]:.2f}" for t in times.values()), flush=True)
        evals = {}
        for name, p in workers.items():
            if name.startswith("long_band"):
                evals[name] = [ask(p, "eval") for _ in range(args.evals)]
    finally:
        for p in workers.values():
            p.stdin.close()
            p.wait(timeout=60)

    def ratio(reference: str, name: str) -> float:
        """Median over rounds of (reference's time / name's time) in the same round."""
        return statistics.median(a / b for a, b in zip(times[reference], times[name]))

    rows = []
    for name, kind, recipe, env in specs:
        s = statistics.median(times[name])
        lib = "oneDNN" if env["TF_ENABLE_ONEDNN_OPTS"] == "1" else "Eigen (oneDNN off)"
        n = int(env["TF_NUM_INTRAOP_THREADS"])
        first = "oneDNN" if args.onednn.split(",")[0] == "1" else "Eigen (oneDNN off)"
        base_name = f"{name.split(',')[0]}, {first}, {thread_counts[0]} thread(s)"
        row = {"step": name, "s_per_step": round(s, 4), "fastest_s_per_step": round(min(times[name]), 4),
               "speedup_vs_baseline": round(ratio(base_name, name), 3),
               "speedup_vs_article_code_same_settings": round(
                   ratio(f"article code, {lib}, {n} thread(s)", name), 3),
               "all_s_per_step": [round(t, 4) for t in times[name]]}
        if name in evals:
            e = statistics.median(evals[name])
            row["evaluation_s"] = round(e, 2)
            row["evaluation_in_steps"] = round(e / s, 1)
            row["evaluation_share_at_eval_every"] = {c: round(e / (e + c * s), 4) for c in CADENCES}
        rows.append(row)
    command = "python benchmarks/fp32_levers.py " + " ".join(argv if argv is not None else sys.argv[1:])
    result = {**provenance(command.strip()), "isa_cap": None if args.isa == "native" else args.isa,
              "cores": args.cores, "rounds": args.rounds, "steps_per_round": args.steps,
              "precision": "fp32", "rows": rows}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(args.out, json.dumps(result, indent=1))
    for row in rows:
        extra = f", one evaluation {row['evaluation_s']} s" if "evaluation_s" in row else ""
        print(f"{row['step']:<48} {row['s_per_step']:.3f} s/step  x{row['speedup_vs_baseline']:.2f}"
              f"  vs article code x{row['speedup_vs_article_code_same_settings']:.2f}{extra}")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

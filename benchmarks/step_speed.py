"""Seconds per training step, side by side in ONE process: the article's code against this package.

    python benchmarks/step_speed.py            # ~2-3 min on 2 cores; writes iic_tutorial/pretrained/step_speed.json
    python benchmarks/step_speed.py --reps 3   # quicker, noisier

Every step trains on 1000 pairs (z, z'). The steps timed:

- ``article code``: the seed article's ``train_on_batch`` as published
  (``benchmarks/article_code.py``: Keras BatchNorm, its own IIC, Adam 1e-4), given
  1000 images and 1000 ready-made views (its augmentation is not timed);
- ``TrainConfig.article()`` and ``TrainConfig.fast()`` through ``IICTrainer.train_step``
  (their in-graph augmentation included), each with Keras's or the fused BatchNorm
  and in fp32 or bf16 (``TrainConfig.precision``); the fastest once more with the
  in-graph input checks of ``iic_loss`` on (``validate_inputs``), to show their cost;
- the article's code under the same bf16 graph rewrite, for reference.

The steps are timed in interleaved rounds (one step of each per round, after warm-up),
so a slow moment of this noisy machine hits all of them alike; the result is the median
of the rounds, and the ratios to the article's code are the result: absolute times
depend on the machine and on what else runs on it. GFLOP/s counts the multiply-adds of
the convolutions and dense layers (2 FLOP each) times 3 for forward and backward.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from iic_tutorial import _import_tensorflow_quietly  # noqa: E402

_import_tensorflow_quietly()
import tensorflow as tf  # noqa: E402

from article_code import ArticleIIC  # noqa: E402

from iic_tutorial.augment import AugmentConfig, compose  # noqa: E402
from iic_tutorial.model import create_model  # noqa: E402
from iic_tutorial.runs import atomic_write_text, cpu_flags, provenance, speed_table, threads  # noqa: E402
from iic_tutorial.training import IICTrainer, TrainConfig  # noqa: E402
from iic_tutorial.training.step import _cpu_has_bf16, onednn_bf16 as _onednn_bf16  # noqa: E402

#: The one copy of the result: package data, which chapter 7 and the engineering notes read
#: (iic_tutorial.pretrained.step_speed(), in Colab too).
OUT = ROOT / "iic_tutorial" / "pretrained" / "step_speed.json"


def forward_flop_per_image(model) -> float:
    """FLOP of one forward pass: 2 x the multiply-adds of every Conv2D and Dense layer."""
    total = 0.0
    for layer in model.layers:
        kind = type(layer).__name__
        if kind == "Conv2D":
            h, w, c_out = layer.output.shape[1:]
            kh, kw, c_in, _ = layer.kernel.shape
            total += 2.0 * h * w * c_out * kh * kw * c_in
        elif kind == "Dense":
            total += 2.0 * np.prod(layer.kernel.shape)
    return total


def article_step(x: np.ndarray, x_view: np.ndarray, bf16: bool):
    """A callable that runs one step of the article's published code."""
    net = ArticleIIC()
    X, X_ = tf.constant(x[:1000]), tf.constant(x_view)

    def run():
        with _onednn_bf16(bf16):
            return [float(v) for v in net.train_on_batch(X, X_)]
    return run


def package_step(config: TrainConfig, x: np.ndarray):
    """A callable that runs one IICTrainer.train_step of ``config``."""
    trainer = IICTrainer(config)
    batch = x[:config.images_per_step]
    return lambda: trainer.train_step(batch)["loss"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reps", type=int, default=5, help="timed rounds (default 5)")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)

    from iic_tutorial.data import as_images, load_mnist

    (x_train, _), _ = load_mnist(limit=1000)
    x = as_images(x_train)
    x_view = compose(tf.constant(x), AugmentConfig.article(), 0).numpy()
    flop = forward_flop_per_image(create_model())

    cases = {"article code, fp32": (article_step(x, x_view, False), 2000)}
    for name, recipe, images in (("TrainConfig.article()", TrainConfig.article(), 2000),
                                 ("TrainConfig.fast()", TrainConfig.fast(), 1200)):
        for precision in ("fp32", "bf16"):
            for fused in (False, True):
                bn = "fused BN" if fused else "Keras BN"
                config = dataclasses.replace(recipe, precision=precision, fused_batchnorm=fused)
                cases[f"{name}, {precision}, {bn}"] = (package_step(config, x), images)
    fastest = dataclasses.replace(TrainConfig.fast(), precision="bf16", fused_batchnorm=True)
    cases["TrainConfig.fast(), bf16, fused BN, validate_inputs"] = (
        package_step(dataclasses.replace(fastest, validate_inputs=True), x), 1200)
    cases["article code, bf16"] = (article_step(x, x_view, True), 2000)

    for run, _ in cases.values():  # trace, optimise and warm up every step first
        run(), run()
    times: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(args.reps):
        for name, (run, _) in cases.items():
            t0 = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - t0)

    ref = float(np.median(times["article code, fp32"]))
    rows = []
    for name, (_, images) in cases.items():
        s = float(np.median(times[name]))
        rows.append({"step": name, "s_per_step": round(s, 4), "pairs_per_s": round(1000 / s, 1),
                     "images_per_s": round(images / s, 1),
                     "gflop_per_s": round(3 * flop * images / s / 1e9, 1),
                     "speedup_vs_article_code": round(ref / s, 3),
                     "all_times_s": [round(t, 4) for t in times[name]]})
    result = {**provenance("python benchmarks/step_speed.py " + " ".join(argv or sys.argv[1:])),
              "threads": threads(),
              "cpu_flags": sorted(f for f in cpu_flags() if f.startswith(("avx512", "amx", "avx2", "fma"))),
              "cpu_has_bf16": _cpu_has_bf16(),
              "reps": args.reps, "forward_mflop_per_image": round(flop / 1e6, 2),
              "pairs_per_step": 1000, "rows": rows}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(args.out, json.dumps(result, indent=1))
    print(speed_table(result))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

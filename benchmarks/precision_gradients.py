"""How far apart are the fp32 and bf16 gradients of one train step, next to the step's own noise?

    python benchmarks/precision_gradients.py                 # writes iic_tutorial/pretrained/precision_gradients.json
    python benchmarks/precision_gradients.py --weights runs/long_band_fp32_s1/model.weights.h5

``long_band`` trained in fp32 and in bf16 (oneDNN's bfloat16 rewrite, CPUs with
AVX512-BF16) from the same seed ends in different places; the bf16 step also takes
P and the loss in float64. This script asks which part of the numerics moves a step,
and by how much, against a yardstick: the gradient of the same weights on the same
images with another draw of the views (the noise every step has anyway).

For a network (at initialisation, seeded like a run, and at the weights given), one
batch of 200 training images and its views, the gradient of the step's loss (the mean
of both heads' IIC losses) with respect to every trainable weight, in four numerics:
``fp32, P float64`` (the reference: fp32 network, P and the loss in float64),
``fp32, P float32`` (what ``precision="fp32"`` trains), ``bf16, P float64`` (what
``precision="bf16"`` trains), ``bf16, P float32``; and ``fp32, P float64, other views``
(the same images, the views of another step). Each is reported as its relative
distance to the reference, ||g - g_ref|| / ||g_ref||, and cosine. Needs a CPU on which
the bf16 rewrite runs (``training.step.bf16_runs_here``); writes JSON, not a test.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from iic_tutorial import _import_tensorflow_quietly  # noqa: E402

_import_tensorflow_quietly()
import tensorflow as tf  # noqa: E402

from iic_tutorial.data import as_images, load_mnist  # noqa: E402
from iic_tutorial.runs import atomic_write_text, provenance  # noqa: E402
from iic_tutorial.training import IICTrainer, TrainConfig  # noqa: E402
from iic_tutorial.training.evaluation import load_run_weights  # noqa: E402
from iic_tutorial.training.step import IICStep, bf16_runs_here, make_views, onednn_bf16  # noqa: E402

OUT = ROOT / "iic_tutorial" / "pretrained" / "precision_gradients.json"  # package data: the book reads it


def gradients(model, config: TrainConfig, x: tf.Tensor, seed: tuple[int, int], bf16: bool,
              p_float64: bool) -> np.ndarray:
    """The step's loss gradient, all trainable weights flattened into one float64 vector.

    The loss is the train step's own (``IICStep.losses``: both heads, the x outputs
    repeated for the copies of x'), with alpha and alpha_over as set (no schedule),
    P in float64 or not as asked, and no update.
    """
    step = IICStep(config, model, optimizer=None)  # only its loss: nothing is applied
    alpha = tf.constant(config.alpha, tf.float32)
    alpha_over = tf.constant(config.alpha_over or config.alpha, tf.float32)

    @tf.function
    def grad(x, seed):
        x_view, x_prime = make_views(config, x, seed)
        with tf.GradientTape() as tape:
            loss = step.losses(x_view, x_prime, alpha, alpha_over, p_float64=p_float64)[0]
        return tape.gradient(loss, model.trainable_variables)

    with onednn_bf16(bf16):
        g = grad(x, tf.constant(seed, tf.int64))
    return np.concatenate([np.asarray(v, np.float64).ravel() for v in g])


def compare(g: np.ndarray, ref: np.ndarray) -> dict:
    return {"relative_distance": float(np.linalg.norm(g - ref) / np.linalg.norm(ref)),
            "cosine": float(g @ ref / np.linalg.norm(g) / np.linalg.norm(ref))}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--weights", type=Path, action="append",
                        help="a run's model.weights.h5 (repeatable); default: the fp32 runs found in runs/")
    parser.add_argument("--seed", type=int, default=1, help="the run seed of the initial network")
    parser.add_argument("--batches", type=int, default=3, help="batches (and view draws) per network")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    if not bf16_runs_here():
        raise SystemExit("the bf16 rewrite does not run on this machine (it needs AVX512-BF16 or AMX "
                         "and oneDNN on): there is no bf16 gradient to compare")

    config = dataclasses.replace(TrainConfig.long_band(seed=args.seed), precision="fp32")
    (x_train, _), _ = load_mnist()
    x = as_images(x_train)
    networks = {f"initial network (seed {args.seed})": IICTrainer(config).model}
    for w in args.weights or sorted(ROOT.glob("runs/long_band_fp32_s*/model.weights.h5")):
        networks[f"trained: {w.parent.name}"] = load_run_weights(w)

    rows = []
    for name, model in networks.items():
        for b in range(args.batches):
            batch = tf.constant(x[b * 200:(b + 1) * 200])
            seed = (args.seed, 500 + b)
            ref = gradients(model, config, batch, seed, bf16=False, p_float64=True)
            row = {"network": name, "batch": b, "gradient_norm": float(np.linalg.norm(ref))}
            for label, bf16, p64, s in (("fp32, P float32", False, False, seed),
                                        ("bf16, P float64", True, True, seed),
                                        ("bf16, P float32", True, False, seed),
                                        ("fp32, P float64, other views", False, True,
                                         (args.seed, 10_000 + b))):
                row[label] = compare(gradients(model, config, batch, s, bf16, p64), ref)
            rows.append(row)
            print(name, b, {k: round(v["relative_distance"], 6) for k, v in row.items()
                            if isinstance(v, dict)}, flush=True)
    command = "python benchmarks/precision_gradients.py " + " ".join(argv if argv is not None else sys.argv[1:])
    result = {**provenance(command.strip()), "reference": "fp32, P float64", "rows": rows}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(args.out, json.dumps(result, indent=1))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

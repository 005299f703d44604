"""Segmentations that need no learning, on the evaluation scenes of chapter 12.

    taskset -c 0 python benchmarks/segmentation_baselines.py [--seeds 0 1 2]

* k-means (k = 2, scikit-learn, k-means++ start) on single pixels (their brightness) and
  on 5 x 5 patches around each pixel (25 values, reflected at the borders), fitted on
  100,000 pixels drawn from the training scenes of ``train-seg`` (no labels), one start per
  seed; it labels every pixel of the evaluation scenes;
* every pixel "background" (the larger class);
* the best brightness threshold, chosen *with* the labels (an upper bound for any rule
  that reads one pixel's brightness).

Each is scored as the IIC runs are (``iic_tutorial.segmentation.evaluation.scores``:
Hungarian matching, pixel accuracy, mIoU) on the same 200 scenes (seed ``EVAL_SEED``),
and written to ``iic_tutorial/segmentation/results/baselines.json`` with its provenance.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "iic_tutorial" / "segmentation" / "results" / "baselines.json"


def patches(x: np.ndarray, r: int) -> np.ndarray:
    """(n * H * W, (2r+1)^2): the (2r+1) x (2r+1) patch around every pixel of x (n, H, W, 1)."""
    img = np.pad(x[..., 0], ((0, 0), (r, r), (r, r)), mode="reflect")
    n, H, W = x.shape[:3]
    return np.stack([img[:, u:u + H, v:v + W] for u in range(2 * r + 1)
                     for v in range(2 * r + 1)], axis=-1).reshape(-1, (2 * r + 1) ** 2)


def main(argv: list[str] | None = None) -> dict:
    from sklearn.cluster import KMeans

    from iic_tutorial.runs import atomic_write_text, provenance
    from iic_tutorial.segmentation.evaluation import scores
    from iic_tutorial.segmentation.scenes import best_threshold
    from iic_tutorial.segmentation.train import EVAL_SEED, SegConfig, scene_sets

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--fit-pixels", type=int, default=100_000)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    config = SegConfig()
    train, test = scene_sets(config)
    methods = []
    for name, r in (("k-means on pixels", 0), ("k-means on 5 x 5 patches", 2)):
        f_train, f_test = patches(train.x, r), patches(test.x, r)
        runs = []
        for seed in args.seeds:
            rng = np.random.default_rng(seed)
            fit = f_train[rng.choice(len(f_train), args.fit_pixels, replace=False)]
            km = KMeans(2, init="k-means++", n_init=1, random_state=seed).fit(fit)
            s = scores(test.stroke, km.predict(f_test), 2)
            runs.append({"seed": seed, "pixel_accuracy": s["pixel_accuracy"], "miou": s["miou"],
                         "iou": s["iou"]})
        methods.append({"name": name, "runs": runs})
    everything = scores(test.stroke, np.zeros(test.stroke.shape, int), 2)
    methods.append({"name": "every pixel background", "runs": [
        {"seed": None, "pixel_accuracy": everything["pixel_accuracy"], "miou": everything["miou"],
         "iou": everything["iou"]}]})
    t = best_threshold(test.x, test.stroke)
    methods.append({"name": "best brightness threshold (chosen with the labels)",
                    "threshold": t["threshold"],
                    "runs": [{"seed": None, "pixel_accuracy": t["pixel_accuracy"],
                              "miou": t["miou"]}]})
    result = {**provenance("python benchmarks/segmentation_baselines.py "
                           + shlex.join(argv if argv is not None else sys.argv[1:])),
              "eval_scenes": config.eval_scenes, "eval_seed": EVAL_SEED,
              "stroke_fraction": float(test.stroke.mean()),
              "fit_on": f"{args.fit_pixels} pixels of the {config.num_scenes} training scenes",
              "methods": methods}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(args.out, json.dumps(result, indent=1))
    for m in methods:
        acc = np.mean([r["pixel_accuracy"] for r in m["runs"]])
        miou = np.mean([r["miou"] for r in m["runs"]])
        print(f"{m['name']}: pixel accuracy {100 * acc:.1f} %, mIoU {100 * miou:.1f} %")
    return result


if __name__ == "__main__":
    main()

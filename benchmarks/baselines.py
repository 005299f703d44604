"""k-means on raw pixels and on PCA features of MNIST: the baseline IIC is measured against.

    OMP_NUM_THREADS=1 taskset -c 0 python benchmarks/baselines.py [--fit all70k|test10k]
        [--seeds 0 1 2] [--n-init 1] [--pca 50]

Fits scikit-learn's ``KMeans`` (k = 10, k-means++ start, Lloyd iterations, ``--n-init``
starts of which the lowest inertia is kept) to MNIST images scaled to [0, 1]: once on the
784 raw pixels and once on their first ``--pca`` principal components (``PCA`` with the
exact SVD, fitted on the same images, not whitened). ``--fit all70k`` (the default) fits
on all 70,000 images, as IIC trains on them; ``--fit test10k`` on the 10k test images
only, for a quicker run. Each seed is one k-means start (its ``random_state``); the PCA
is deterministic and computed once. No label is used to fit anything.

Every clustering is scored as this book scores IIC: ``iic_tutorial.metrics.cluster_accuracy``
(clusters matched one-to-one to digits by the Hungarian method) and ``nmi``, on the 10k
test images and on all images fitted. Writes ``iic_tutorial/pretrained/baselines.json`` (package data) with the
provenance of ``iic_tutorial.runs.provenance``; chapter 8 prints its table.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "iic_tutorial" / "pretrained" / "baselines.json"  # the one copy: package data chapter 8 reads
FIT_ON = {"all70k": "all 70,000 images (60k training + 10k test)",
          "test10k": "the 10,000 test images"}


def summary(values) -> dict:
    """Mean and sample standard deviation (n - 1; 0 for one value) of a list of scores."""
    v = np.asarray(values, dtype=np.float64)
    return {"mean": float(v.mean()), "std": float(v.std(ddof=1)) if len(v) > 1 else 0.0}


def cluster(features: np.ndarray, seed: int, n_init: int, k: int = 10):
    """KMeans(k, k-means++, Lloyd, n_init starts, random_state=seed) -> (labels, n_iter, seconds)."""
    from sklearn.cluster import KMeans

    start = time.perf_counter()
    km = KMeans(n_clusters=k, init="k-means++", n_init=n_init, algorithm="lloyd",
                random_state=seed).fit(features)
    return km.labels_, int(km.n_iter_), time.perf_counter() - start


def score(y_all: np.ndarray, labels: np.ndarray, test: slice) -> dict:
    """Hungarian accuracy and NMI on the test images and on all images fitted."""
    from iic_tutorial.metrics import cluster_accuracy, nmi

    return {"test_accuracy": cluster_accuracy(y_all[test], labels[test]),
            "test_nmi": nmi(y_all[test], labels[test]),
            "all_accuracy": cluster_accuracy(y_all, labels),
            "all_nmi": nmi(y_all, labels)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--fit", choices=sorted(FIT_ON), default="all70k",
                        help="images to fit k-means (and PCA) on (default all70k)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--n-init", type=int, default=1,
                        help="k-means++ starts per seed, lowest inertia kept (default 1)")
    parser.add_argument("--pca", type=int, default=50, help="principal components (default 50)")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)

    import sklearn
    from sklearn.decomposition import PCA

    from iic_tutorial.data import load_mnist
    from iic_tutorial.runs import atomic_write_text, benchmark_command, provenance

    (x_train, y_train), (x_test, y_test) = load_mnist()
    if args.fit == "all70k":  # test images last, so the test set is the final 10k rows
        x = np.concatenate([x_train, x_test])
        y = np.concatenate([y_train, y_test])
    else:
        x, y = x_test, y_test
    test = slice(len(x) - len(x_test), len(x))
    pixels = x.reshape(len(x), -1).astype(np.float32) / 255.0

    start = time.perf_counter()
    pca = PCA(n_components=args.pca, svd_solver="full").fit(pixels)
    pca_s = time.perf_counter() - start
    features = {"pixels": pixels, "pca": pca.transform(pixels).astype(np.float32)}
    names = {"pixels": f"k-means on raw pixels ({pixels.shape[1]} features)",
             "pca": f"k-means on PCA features ({args.pca} components)"}

    methods = []
    for key, feats in features.items():
        runs = []
        for seed in args.seeds:
            labels, n_iter, seconds = cluster(feats, seed, args.n_init)
            runs.append({"seed": seed, **score(y, labels, test), "n_iter": n_iter,
                         "fit_s": round(seconds, 2),
                         "cluster_sizes": np.bincount(labels, minlength=10).tolist()})
            print(f"{names[key]}, seed {seed}: test accuracy "
                  f"{100 * runs[-1]['test_accuracy']:.2f} %, NMI {runs[-1]['test_nmi']:.4f} "
                  f"({n_iter} iterations, {seconds:.1f} s)", flush=True)
        methods.append({
            "name": names[key], "features": key, "dim": int(feats.shape[1]), "runs": runs,
            **{f"{m}_{stat}": value for m in ("test_accuracy", "test_nmi",
                                              "all_accuracy", "all_nmi")
               for stat, value in summary([r[m] for r in runs]).items()}})

    result = {
        **provenance(benchmark_command("baselines.py", argv)),
        "fit_on": FIT_ON[args.fit], "n_fit": len(x), "n_test": len(x_test),
        "k": 10, "n_init": args.n_init, "seeds": args.seeds,
        "pca_components": args.pca,
        "pca_explained_variance": float(pca.explained_variance_ratio_.sum()),
        "pca_fit_s": round(pca_s, 2),
        "scaling": "pixels / 255, no centring beyond what PCA does",
        "scores": "iic_tutorial.metrics.cluster_accuracy (Hungarian, one-to-one) and nmi",
        "sklearn": sklearn.__version__,
        "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
        "methods": methods,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(args.out, json.dumps(result, indent=1) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Choosing a trained run without labels: label-free scores of a model, compared across runs.

IIC never sees a label, and neither may the choice of which run to keep. Each
score here is computed from unlabelled training images ``x`` and views of
them, the same images and the same views for every model scored, so scores
compare across runs and across recipes (unlike a run's own training loss,
which depends on its alpha and on its view). ``benchmarks/selection.py``
measures how often each score picks the most accurate of the runs in
``runs/``; ``benchmarks/ship_model.py`` ships by :data:`CRITERION`.
"""

from __future__ import annotations

import itertools
from typing import Callable

import numpy as np

from . import augment
from .augment import AugmentConfig, compose
from .experiments import identity
from .information import entropy, joint_distribution, mutual_information

__all__ = ["SCORES", "CRITERION", "IMAGES", "MARGIN", "GOOD", "label_free_scores", "views_of",
           "judge", "table", "group_of"]

#: The unlabelled images every candidate is scored on: the first IMAGES training images.
IMAGES = 10000

#: The views the scores use, of :data:`iic_tutorial.augment.VIEWS` (fixed, whatever a run
#: trained with): fast (rotation, zoom 1-1.5, shifts, intensity jitter), mild (zoom 1-1.1,
#: shifts of 1 pixel), article (rotation, distortion, binarisation, noise).
VIEWS: dict[str, Callable[[], AugmentConfig]] = {name: augment.VIEWS[name]
                                                 for name in ("fast", "mild", "article")}

#: Every score :func:`label_free_scores` returns, in words. Higher is better for all.
SCORES: dict[str, str] = {
    "mi_fast": "I(Z;Z') of the 10-cluster head, x' = the fast view (seeds 0 and 1), nats",
    "mi_mild": "I(Z;Z') of the 10-cluster head, x' = the mild view (zoom 1-1.1, 1 px), nats",
    "mi_article": "I(Z;Z') of the 10-cluster head, x' = the article's view, nats",
    "mi_views": "mean of mi_fast, mi_mild and mi_article, nats",
    "agreement_fast": "share of images whose cluster is the same for x and its fast view",
    "mi_over_fast": "I(Z;Z') of the 50-cluster head, x' = the fast view, nats",
    "H_Z": "entropy of the 10-cluster head's marginal P(z) on x, nats (ln 10 = 2.303 balanced)",
    "confidence": "mean largest probability of the 10-cluster head on x",
}

#: The score that ships the package's model (``benchmarks/ship_model.py``).
CRITERION = "mi_over_fast"

#: Pairs of runs closer than this in test accuracy count as neither ordered right nor wrong.
MARGIN = 0.005
#: Runs at least this accurate are "good": telling good runs apart is the hard part.
GOOD = 0.9


def views_of(x: np.ndarray, view: AugmentConfig, seed: int, batch: int = 1000) -> np.ndarray:
    """Views of the images x: float32 (n, 28, 28, 1) -> the same shape, seeded by (seed, i).

    Deterministic: the same x, view and seed give the same views on every call.
    """
    return np.concatenate([compose(x[i:i + batch], view, seed=[seed, i]).numpy()
                           for i in range(0, len(x), batch)])


def label_free_scores(model, x: np.ndarray, seeds: tuple[int, ...] = (0, 1)) -> dict[str, float]:
    """Every score of :data:`SCORES` for a two-head model on unlabelled images x.

    x: float32 (n, 28, 28, 1) in [0, 1], no labels; the model is evaluated as a
    reader uses it (BatchNorm in inference mode). I(Z;Z') uses the symmetrised
    joint P = (1/2n) sum_i (z_i z'_i^T + z'_i z_i^T) of the heads' soft outputs,
    as the IIC loss does. ``seeds``: the fast view's seeds (the other views use
    the first). Returns floats keyed by the names of :data:`SCORES`.
    """
    from .training.evaluation import scored_heads

    if not seeds:
        raise ValueError("seeds must name at least one augmentation seed for the fast view")

    def heads(images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return scored_heads(model, images)  # by name: with sub-heads, not two k-cluster heads

    z, z_over = heads(x)
    out: dict[str, list[float]] = {"mi_fast": [], "agreement_fast": [], "mi_over_fast": []}
    for seed in seeds:
        z_prime, z_prime_over = heads(views_of(x, VIEWS["fast"](), seed))
        out["mi_fast"].append(mutual_information(joint_distribution(z, z_prime)))
        out["agreement_fast"].append(float(np.mean(z.argmax(1) == z_prime.argmax(1))))
        out["mi_over_fast"].append(mutual_information(joint_distribution(z_over, z_prime_over)))
    scores = {name: float(np.mean(v)) for name, v in out.items()}
    for name in ("mild", "article"):
        z_prime = heads(views_of(x, VIEWS[name](), seeds[0]))[0]
        scores[f"mi_{name}"] = mutual_information(joint_distribution(z, z_prime))
    scores["mi_views"] = float(np.mean([scores[f"mi_{v}"] for v in VIEWS]))
    P_z = np.asarray(z, np.float64).mean(0)
    scores["H_Z"] = entropy(P_z / P_z.sum())  # (float32 rows sum to 1 only to ~1e-7)
    scores["confidence"] = float(np.asarray(z).max(1).mean())
    return {name: scores[name] for name in SCORES}


def group_of(name: str) -> str:
    """The experiment of a run saved without the ``experiment`` field, from its name.

    ``"long_band_s1"`` -> ``"long_band"`` (its seeds form one group); other names
    are their own group. The one rule is :func:`iic_tutorial.experiments.identity`'s.
    """
    return identity({"name": name})[0]


def judge(candidates: dict[str, dict], score: str) -> dict:
    """How well ``score`` (higher = chosen) ranks the candidates by their test accuracy.

    ``candidates``: run name -> ``{"test_accuracy": float, "scores": {score: float}}``
    and, where known, ``"experiment"`` (the experiment the run is a seed of).
    Returns the run the score picks and the most accurate run (``pick``, ``best``, their
    accuracies, ``regret`` = best - pick accuracy, as a fraction); the share of pairs
    of runs at least :data:`MARGIN` apart in accuracy that the score orders as the
    accuracy does (``pairs_ordered_right`` of ``pairs``; ``good_pairs_ordered_right``
    of ``good_pairs``: both runs at :data:`GOOD` or more); Spearman's rank correlation
    of score and accuracy; and for each experiment with several seeds (grouped by
    ``experiment``, or for older records by :func:`group_of`) its pick and best seed
    (``within_recipe``, with the count of experiments where they agree,
    ``within_recipe_right`` of ``within_recipe_groups``).
    """
    from scipy.stats import spearmanr

    if not candidates:
        raise ValueError("no candidates to judge: pass run name -> {'test_accuracy', 'scores'}")
    names = sorted(candidates)
    acc = {n: candidates[n]["test_accuracy"] for n in names}
    value = {n: candidates[n]["scores"][score] for n in names}
    pick, best = max(names, key=value.get), max(names, key=acc.get)
    pairs = [(a, b) for a, b in itertools.combinations(names, 2) if abs(acc[a] - acc[b]) >= MARGIN]
    right = sum((value[a] - value[b]) * (acc[a] - acc[b]) > 0 for a, b in pairs)
    good = [(a, b) for a, b in pairs if min(acc[a], acc[b]) >= GOOD]
    good_right = sum((value[a] - value[b]) * (acc[a] - acc[b]) > 0 for a, b in good)
    groups: dict[str, list[str]] = {}
    for n in names:  # by the experiment a candidate records; for older records, by its name
        groups.setdefault(candidates[n].get("experiment") or group_of(n), []).append(n)
    seeded = {g: m for g, m in groups.items() if len(m) > 1}
    within = {g: {"pick": max(m, key=value.get), "best": max(m, key=acc.get),
                  "regret": acc[max(m, key=acc.get)] - acc[max(m, key=value.get)]}
              for g, m in sorted(seeded.items())}
    return {"pick": pick, "pick_accuracy": acc[pick], "best": best, "best_accuracy": acc[best],
            "regret": acc[best] - acc[pick],
            "pairs_ordered_right": right / len(pairs) if pairs else None, "pairs": len(pairs),
            "good_pairs_ordered_right": good_right / len(good) if good else None,
            "good_pairs": len(good),
            "spearman": float(spearmanr([value[n] for n in names], [acc[n] for n in names])[0]),
            "within_recipe_right": sum(w["pick"] == w["best"] for w in within.values()),
            "within_recipe_groups": len(within), "within_recipe": within}


def table(result: dict) -> str:
    """One row per score of ``result["judged"]`` (what ``benchmarks/selection.py`` writes),
    the lowest regret first, as a Markdown table; accuracies and regrets in points."""
    rows = sorted(result["judged"].items(), key=lambda kv: (kv[1]["regret"], kv[0]))
    lines = ["| score | picks (test acc.) | regret (points) | pairs ordered right | "
             f"of them, runs >= {100 * GOOD:.0f} % | Spearman | best seed of a recipe |",
             "|---|---|---|---|---|---|---|"]
    for name, j in rows:
        good = (f"{100 * j['good_pairs_ordered_right']:.0f} % of {j['good_pairs']}"
                if j["good_pairs"] else "-")
        lines.append(f"| {name} | {j['pick']} ({100 * j['pick_accuracy']:.2f} %) | "
                     f"{100 * j['regret']:.2f} | {100 * j['pairs_ordered_right']:.0f} % of {j['pairs']} | "
                     f"{good} | {j['spearman']:+.2f} | "
                     f"{j['within_recipe_right']} of {j['within_recipe_groups']} |")
    return "\n".join(lines)

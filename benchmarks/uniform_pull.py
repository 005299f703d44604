"""Does the pull towards equal clusters hold the errors left on all 70k? Finished runs trained on.

    python benchmarks/uniform_pull.py runs/NAME [runs/NAME ...] [--alphas 2/1 1/1 0.6/0.6]
                                      [--steps 500] [--every 250] [--out FILE]

On all 70k images the good runs of ``long_band_sub5`` and ``long_band_late`` keep two groups
in other digits' clusters (nines written like a g in the eights', ones with a foot in the
twos'), and their clusters are nearer equal sizes than the digits are: the ones' cluster is
short of ones, the eights' holds more than the eights. The IIC loss with weight alpha on the
marginal entropies (:func:`iic_tutorial.losses.iic_loss`) is, for a network whose two views
always agree (P diagonal),

    L = H(Z, Z') - alpha (H(Z) + H(Z')) = (1 - 2 alpha) H(Z),

so every alpha above 1/2 rewards equal cluster sizes, 3 H(Z) at the recipe's alpha = 2, and
alpha = 1/2 is indifferent to them. If that pull holds the groups, a lower alpha lets them go.

For each finished run folder this restores the last checkpoint of the network it trained
(``NAME/candidate_seedS`` of a run with restarts), sets alpha (and the 50-cluster head's
alpha_over) to each value of ``--alphas`` and trains ``--steps`` more steps on all 70k
images, the run's own settings otherwise (its learning rate, precision, views and seed); the
first value, the recipe's own, is the control: the same extra steps without a change. Every
``--every`` steps it scores the chosen sub-heads (lowest recent loss, no labels) on all 70k,
the 10k test images and the dev split (labels only score) and counts, on all 70k, the nines
in the eights' cluster, the ones in the twos', the sevens in any other cluster, and each
cluster's size. Nothing is written to the run folders. Writes
``iic_tutorial/pretrained/uniform_pull.json``, the one copy (package data the book reads,
``iic.pretrained.benchmark("uniform_pull")``), or ``--out``.
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
OUT = ROOT / "iic_tutorial" / "pretrained" / "uniform_pull.json"


def alpha_pair(text: str) -> tuple[float, float]:
    """``"A/B"``: alpha of the 10-cluster head and alpha_over of the 50-cluster head (``"A"``: both)."""
    try:
        parts = [float(p) for p in text.split("/")]
    except ValueError:
        parts = []
    if len(parts) not in (1, 2) or min(parts) < 0:
        raise argparse.ArgumentTypeError(f"expected ALPHA or ALPHA/ALPHA_OVER, numbers >= 0; got {text!r}")
    return (parts[0], parts[-1])


def scores(trainer, x: np.ndarray, y: np.ndarray, dev: np.ndarray, n_train: int) -> dict:
    """Accuracies and the groups of the trainer's chosen sub-heads (BatchNorm as fit left it)."""
    from iic_tutorial.metrics import cluster_accuracy, confusion_matrix, group_counts
    from iic_tutorial.training.evaluation import scored_heads

    z, _ = scored_heads(trainer.export_model(), x)
    clusters = z.argmax(axis=1)
    C = confusion_matrix(y, clusters)  # row: digit; column c: the cluster matched to digit c
    return {"step": int(trainer.step.numpy()),
            "all70k_accuracy": float(np.trace(C) / C.sum()),
            "test_accuracy": cluster_accuracy(y[n_train:], clusters[n_train:]),
            "dev_accuracy": cluster_accuracy(y[dev], clusters[dev]),
            **group_counts(C),
            "sevens_elsewhere": int(C[7].sum() - C[7, 7]),
            "errors": int(C.sum() - np.trace(C)),
            "cluster_sizes": C.sum(axis=0)[:10].tolist(),
            "subheads": list(trainer.best_subheads())}


def all70k() -> tuple[tuple, tuple]:
    """``((x, y, dev, n_train), (x_test, y_test))``: all 70k images and digits (training images
    first), the dev split's indices among them, the number of training images, and the test
    images alone -- what :func:`scores` and :func:`train_on` take."""
    from iic_tutorial.data import dev_indices, load_mnist

    (x_train, y_train), (x_test, y_test) = load_mnist()
    x = np.concatenate([x_train, x_test])
    y = np.concatenate([y_train, y_test]).astype(np.int64)
    return (x, y, dev_indices(len(x_train)), len(x_train)), (x_test, y_test)


def train_on(trainer, scored: tuple, test: tuple, steps: int, every: int, label: str) -> list[dict]:
    """Train ``steps`` more steps on all 70k images, :func:`scores` every ``every``; the scores.

    ``scored``: ``(x, y, dev, n_train)``, the arguments of :func:`scores`; ``test``: ``(x_test,
    y_test)``, which the evaluation of ``fit`` scores (it recalibrates BatchNorm, as every run's
    scores do). Prints a line per scoring, starting with ``label``.
    """
    x, y, dev, n_train = scored
    records, begin = [], int(trainer.step.numpy())
    for end in range(begin + every, begin + steps + 1, every):
        trainer.fit(x, num_steps=end, x_eval=test[0], y_eval=test[1], eval_every=every,
                    progress=False, verbose=False)
        records.append(r := scores(trainer, x, y, dev, n_train))
        print(f"{label} step {r['step']}: {100 * r['all70k_accuracy']:.2f} % all 70k, "
              f"{100 * r['test_accuracy']:.2f} % test, dev {100 * r['dev_accuracy']:.2f}; "
              f"9s in 8's {r['nines_in_eights']}, 1s in 2's {r['ones_in_twos']}, 7s elsewhere "
              f"{r['sevens_elsewhere']}; sizes {r['cluster_sizes']}", flush=True)
    return records


def main(argv: list[str] | None = None) -> int:
    from iic_tutorial.runs import runs_parser

    parser = runs_parser(__doc__, OUT)
    parser.add_argument("--alphas", nargs="+", type=alpha_pair, default=[(2.0, 1.0), (1.0, 1.0), (0.6, 0.6)],
                        metavar="A[/A_OVER]",
                        help="alpha (and alpha_over) of each arm; the first is the control "
                             "(default: 2/1, the recipe's, then 1/1 and 0.6/0.6)")
    parser.add_argument("--steps", type=int, default=500, help="steps each arm trains on (default 500)")
    parser.add_argument("--every", type=int, default=250, help="steps between scorings (default 250)")
    args = parser.parse_args(argv)
    if args.steps < 1 or args.every < 1 or args.steps % args.every:
        parser.error(f"--steps ({args.steps}) must be a positive multiple of --every ({args.every})")

    from iic_tutorial.runs import finished_result

    for run in args.runs:  # before any data is loaded
        finished_result(run)

    from iic_tutorial.runs import atomic_write_text, benchmark_command, provenance
    from iic_tutorial.training import IICTrainer, restore
    from iic_tutorial.training.restarts import trained_folder

    scored, test = all70k()
    y = scored[1]  # all 70k digits: their counts go into the result
    runs = {}
    for run in args.runs:
        folder = trained_folder(run)
        arms = []
        for alpha, alpha_over in args.alphas:
            state = restore(folder)  # every arm from the same checkpoint
            if not arms:
                recipe = state.config
            state.config = dataclasses.replace(state.config, alpha=alpha, alpha_over=alpha_over)
            trainer = IICTrainer(state.config, state=state)
            records = [scores(trainer, *scored)] if not arms else []
            t0 = time.perf_counter()
            records += train_on(trainer, scored, test, args.steps,
                                args.every, f"{run.name} alpha {alpha}/{alpha_over}")
            arms.append({"alpha": alpha, "alpha_over": alpha_over,
                         "seconds": round(time.perf_counter() - t0, 1), "scores": records})
        arms[0]["start"] = arms[0]["scores"].pop(0)  # the checkpoint as the run ended
        runs[run.name] = {"checkpoint": folder.name, "recipe_alpha": [recipe.alpha, recipe.alpha_over],
                          "start": arms[0].pop("start"), "arms": arms}
    out = {**provenance(benchmark_command("uniform_pull.py", argv)),
           "digit_counts": np.bincount(y, minlength=10).tolist(), "steps": args.steps,
           "every": args.every, "runs": runs}
    atomic_write_text(args.out, json.dumps(out, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

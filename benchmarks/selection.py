"""Which label-free score picks the most accurate run? Measured on every run at hand.

    python benchmarks/selection.py [runs/NAME ...]     # default: every finished run in runs/

Each candidate (a finished run folder of ``python -m iic_tutorial train``, and the
shipped model) is scored by every score of ``iic_tutorial.selection.SCORES`` on the
same 10,000 unlabelled training images and the same views, and by its accuracy on the
10k test images (inference mode; used here only to judge the scores). For each score:
the run it picks among all candidates (across recipes) and the regret (best accuracy
minus the pick's), the share of pairs of runs it orders as their accuracy does (pairs
whose accuracies differ by at least 0.5 points; all pairs, and the pairs of runs at 90 %
or more, which are the hard ones), its Spearman correlation with the
accuracy, and within each experiment of several seeds (the ``experiment`` its result
records) how often it picks that experiment's best seed. Writes ``iic_tutorial/pretrained/selection.json``, the one
copy (package data the book reads, ``iic_tutorial.pretrained.selection()``); scores of a
candidate already in that file (same name, steps and date) are reused, and the candidates
it holds whose run folders are no longer at hand stay in it (their scores were taken on
the same images and views; a change of those, or of the scores, starts the file afresh),
so the judgement grows with every run ever scored. Each
candidate scored records the revision that scored it (``scored_revision``).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
OUT = ROOT / "iic_tutorial" / "pretrained" / "selection.json"  # the one copy, which the book reads


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="*", type=Path)
    args = parser.parse_args(argv)
    runs = args.runs or sorted(p.parent for p in (ROOT / "runs").glob("*/result.json"))

    from iic_tutorial.data import as_images, load_mnist
    from iic_tutorial.experiments import identity
    from iic_tutorial.pretrained import PRETRAINED, load_pretrained, pretrained_info
    from iic_tutorial.runs import atomic_write_text, finished_result, provenance
    from iic_tutorial.selection import IMAGES, MARGIN, SCORES, judge, label_free_scores, table
    from iic_tutorial.training import IICTrainer, evaluate
    from iic_tutorial.training.restarts import trained_folder  # a run with restarts: its chosen candidate

    (x_train, _), (x_test, y_test) = load_mnist()
    unlabelled = as_images(x_train[:IMAGES])
    images = f"the first {IMAGES} training images (no labels)"
    previous = json.loads(OUT.read_text()) if OUT.exists() else {}
    old = {name: c for name, c in previous.get("candidates", {}).items()  # the same measurement
           if previous.get("images") == images and set(c.get("scores", {})) == set(SCORES)}
    candidates: dict[str, dict] = {}
    where = provenance("python benchmarks/selection.py " + " ".join(map(str, args.runs)))

    def add(name: str, load_model, about: dict) -> None:
        cached = old.get(name, {})
        if cached and all(cached.get(k) == about.get(k) for k in ("steps", "date")):
            candidates[name] = cached
        else:
            model = load_model()
            candidates[name] = {**about, "scores": label_free_scores(model, unlabelled),
                                "test_accuracy": evaluate(model, x_test, y_test)["acc"],
                                "scored_revision": where["revision"]}
        c = candidates[name]
        print(f"{name}: test {100 * c['test_accuracy']:.2f} %  " +
              "  ".join(f"{k} {v:.4f}" for k, v in c["scores"].items()), flush=True)
        write()  # after every candidate: an interrupted run keeps what it measured

    def write() -> dict:
        pool = {**old, **candidates}  # scored before and not at hand: kept
        result = {**where, "images": images, "margin": MARGIN, "scores": SCORES,
                  "candidates": pool, "judged": {s: judge(pool, s) for s in SCORES}}
        atomic_write_text(OUT, json.dumps(result, indent=1) + "\n")
        return result

    for run in runs:
        result = finished_result(run)
        add(run.name, lambda: IICTrainer.restore(trained_folder(run)).export_model(),
            {"steps": result["steps"], "date": result["date"], "command": result["command"],
             "experiment": identity({**result, "name": run.name})[0]})
    for name in PRETRAINED:  # a shipped model whose run was scored (at hand or before) counts once
        info = pretrained_info(name)
        if info["run"] not in {**old, **candidates}:
            add(f"shipped:{info['run']}", lambda: load_pretrained(name),
                {"steps": info["steps"], "date": info["date"], "command": info["command"]})

    print(table(write()))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Score finished runs on the dev split, from their saved weights, into their result files.

    python benchmarks/dev_accuracy.py runs/NAME [runs/NAME ...]

Each run folder's ``model.weights.h5`` is loaded into the network its result records
(``training.evaluation.load_run_weights``, as ``python -m iic_tutorial evaluate --weights``
does), scored on ``data.dev_indices()`` (BatchNorm in inference mode, as the test accuracy),
and ``dev_accuracy``, ``final_dev_confusion`` (digits x matched clusters, as the test
``final_confusion``) and ``dev_split`` are written into ``runs/NAME/result.json``, which
``benchmarks/collect.py`` then publishes. For

- runs made before the split existed, or with an earlier rule (every 12th training image,
  which held only one of MNIST's two writer groups): the curve's ``dev_acc`` points, measured
  on the earlier rule, are removed, since no choice may read them as the dev split's;
- runs made before evaluations recorded the dev split's confusion (``dev_confusion``): a
  choice that counts a group of mistakes on the dev labels (nines in the eights' cluster)
  can then read those runs too. The last evaluation scores the same weights, so the two
  agree where both exist (``dev_scored_at`` names the revision that scored them here).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from iic_tutorial import _import_tensorflow_quietly

_import_tensorflow_quietly()

from iic_tutorial.data import DEV_RULE, dev_indices, load_mnist  # noqa: E402
from iic_tutorial.runs import atomic_write_text, git_revision, require_committed  # noqa: E402
from iic_tutorial.training import evaluate  # noqa: E402
from iic_tutorial.training.evaluation import load_run_weights  # noqa: E402


def rescore(run: Path, x_dev, y_dev) -> float:
    """Write the dev accuracy and confusion of ``run``'s weights into its result.json; return
    the accuracy (a fraction)."""
    path = run / "result.json"
    result = json.loads(path.read_text())
    model = load_run_weights(run / "model.weights.h5")  # the network result.json records
    scores = evaluate(model, x_dev, y_dev)
    if result.get("dev_split") != DEV_RULE:  # its curve's dev points were on another split
        for point in result["curve"]:
            point.pop("dev_acc", None)
    result["dev_accuracy"] = scores["acc"]
    result["final_dev_confusion"] = scores["confusion"]
    result["dev_split"] = DEV_RULE
    result["dev_scored_at"] = git_revision()
    atomic_write_text(path, json.dumps(result, indent=1))
    return result["dev_accuracy"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="+", type=Path, help="run folders holding result.json")
    args = parser.parse_args(argv)
    require_committed(git_revision())  # as collect.py
    (x_train, y_train), _ = load_mnist()
    dev = dev_indices()
    for run in args.runs:
        print(f"{run}: dev accuracy {100 * rescore(run, x_train[dev], y_train[dev]):.2f} %")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Same numbers before and after a change: a few steps of every recipe, bit for bit.

    PYTHONPATH=/path/to/other/checkout python benchmarks/ab_recipes.py run before.json
    python benchmarks/ab_recipes.py run after.json
    python benchmarks/ab_recipes.py compare before.json after.json results.json

``run`` trains ``--steps`` (default 3) steps of each named recipe, as the command line
builds it (``--recipe NAME``), on the first 4000 MNIST training images, and writes each
recipe's settings (``TrainConfig.to_dict()`` without the recipe's name), its per-step
losses (as ``float.hex``, so nothing is rounded) and a SHA-256 of every weight of the
network and of the optimizer after the last step. ``compare`` says, recipe by recipe,
whether two such files agree exactly. Run both sides on the same machine, one after the
other, pinned to the same core (``taskset -c 0``) with the same thread settings: the
check is that a refactoring changed no number, not that two machines agree.

A recipe that one side does not know by name is built from the options that spelled
it before it had one (:data:`SPELLED_OUT`): ``fast_erase``, the fast shipped model's
recipe, was ``--recipe fast --lr-drop 900 --erase 0.5``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

#: Recipes compared even where the checkout does not name them, and their options there.
SPELLED_OUT = {"fast_erase": ["--recipe", "fast", "--lr-drop", "900", "--erase", "0.5"]}


def _argv(name: str, known: tuple[str, ...]) -> list[str]:
    if name in known:
        return ["--recipe", name]
    if name in SPELLED_OUT:
        return SPELLED_OUT[name]
    raise ValueError(f"this checkout has no recipe {name!r} and no spelled-out form of it; "
                     f"known: {', '.join(known)}")


def _digest(variables) -> str:
    h = hashlib.sha256()
    for v in variables:
        h.update(v.path.encode() if hasattr(v, "path") else v.name.encode())
        h.update(v.numpy().tobytes())
    return h.hexdigest()


def run(out: Path, names: list[str] | None, steps: int) -> dict:
    """Train ``steps`` steps of each recipe and write what they computed to ``out``."""
    from iic_tutorial import _import_tensorflow_quietly

    _import_tensorflow_quietly()
    import iic_tutorial
    from iic_tutorial.__main__ import build_parser
    from iic_tutorial.data import as_images, load_mnist
    from iic_tutorial.runs import git_revision
    from iic_tutorial.training import RECIPES, IICTrainer
    from iic_tutorial.training.config import config_from_args

    known = tuple(RECIPES)
    names = names or sorted(set(known) | set(SPELLED_OUT))
    (x_train, _), _ = load_mnist()
    x = as_images(x_train[:4000])
    report = {"package": str(Path(iic_tutorial.__file__).parent), "revision": git_revision(),
              "steps": steps, "recipes": {}}
    for name in names:
        argv = _argv(name, known)
        config = config_from_args(build_parser().parse_args(["train", *argv, "--out", "x"]))
        trainer = IICTrainer(config)
        losses = []
        for step in range(steps):
            batch = x[trainer._batch_indices(len(x), step)]
            out_ = trainer.train_step(batch)
            losses.append([float(out_[k]).hex() for k in ("loss", "loss_k", "loss_over")])
        settings = {k: v for k, v in config.to_dict().items() if k != "recipe"}
        report["recipes"][name] = {
            "argv": argv, "recipe": config.recipe, "precision": trainer.precision,
            "settings": settings, "losses": losses,
            "weights_sha256": _digest(trainer.model.weights),
            "optimizer_sha256": _digest(trainer.optimizer.variables)}
        print(f"{name}: {' '.join(argv)}; loss of step {steps}: {float.fromhex(losses[-1][0]):.6f}")
    out.write_text(json.dumps(report, indent=1))
    return report


def compare(before: Path, after: Path, out: Path) -> bool:
    """Whether every recipe of ``before`` computed exactly what it computes in ``after``."""
    a, b = json.loads(before.read_text()), json.loads(after.read_text())
    rows = {}
    for name, old in a["recipes"].items():
        new = b["recipes"].get(name)
        if new is None:
            rows[name] = {"same": False, "why": "missing after"}
            continue
        checks = {key: old[key] == new[key] for key in
                  ("settings", "precision", "losses", "weights_sha256", "optimizer_sha256")}
        rows[name] = {"same": all(checks.values()), **checks,
                      "argv_before": old["argv"], "argv_after": new["argv"],
                      "loss_last_step": float.fromhex(new["losses"][-1][0])}
    same = bool(rows) and all(r["same"] for r in rows.values())
    result = {"same": same, "steps": a["steps"], "before": {k: a[k] for k in ("package", "revision")},
              "after": {k: b[k] for k in ("package", "revision")}, "recipes": rows,
              "new_recipes": sorted(set(b["recipes"]) - set(a["recipes"]))}
    out.write_text(json.dumps(result, indent=1))
    for name, r in rows.items():
        print(f"{name}: {'identical' if r['same'] else 'DIFFERENT ' + json.dumps(r)}")
    return same


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run", help="train a few steps of each recipe; write what they computed")
    r.add_argument("out", type=Path)
    r.add_argument("--recipes", nargs="+", default=None, help="default: every recipe")
    r.add_argument("--steps", type=int, default=3)
    c = sub.add_parser("compare", help="compare two files of 'run'; write the verdict as JSON")
    c.add_argument("before", type=Path)
    c.add_argument("after", type=Path)
    c.add_argument("out", type=Path)
    args = parser.parse_args(argv)
    if args.command == "run":
        run(args.out, args.recipes, args.steps)
        return 0
    return 0 if compare(args.before, args.after, args.out) else 1


if __name__ == "__main__":
    sys.exit(main())

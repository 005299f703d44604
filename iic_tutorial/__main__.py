"""Command line: ``python -m iic_tutorial train ...`` and ``python -m iic_tutorial evaluate ...``.

Run ``python -m iic_tutorial --help`` (or ``train --help``) for every option.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

from . import _import_tensorflow_quietly

_import_tensorflow_quietly()  # before .augment imports TensorFlow: no C++ start-up notices

from .augment import TRANSFORMS, AugmentConfig  # noqa: E402
from .runs import atomic_save_weights, atomic_write_text, git_revision, hardware, provenance  # noqa: E402,F401

RECIPES = ("fast", "article")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def _non_negative_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The argparse parser of the command line (exposed for tests and docs)."""
    parser = argparse.ArgumentParser(
        prog="python -m iic_tutorial",
        description="Train and evaluate Invariant Information Clustering on MNIST.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="{train,evaluate}")

    t = sub.add_parser("train", help="train a model without labels (labels only monitor accuracy)",
                       description="Train IIC on all 70k MNIST images; evaluate on the 10k test set.")
    t.add_argument("--recipe", choices=RECIPES, default="fast",
                   help="starting settings: 'fast' (200 images x 5 copies, lr 4e-4, alpha 2 / 1) or "
                        "'article' (1000 pairs, lr 1e-4, alpha 1); the options below override "
                        "them (default: fast)")
    t.add_argument("--alpha", type=_non_negative_float, default=None,
                   help="weight of the marginal entropies of the 10-cluster head; 1 is the paper's "
                        "loss (default: the recipe's)")
    t.add_argument("--alpha-over", type=_non_negative_float, default=None,
                   help="the weight for the over-clustering head (default: the recipe's; fast: 1)")
    t.add_argument("--alpha-warmup", type=int, default=None,
                   help="steps over which the weight grows from 1 to --alpha (default 0)")
    t.add_argument("--subheads", type=_positive_int, default=None,
                   help="sub-heads per head, chosen among without labels (default 1)")
    t.add_argument("--lr", type=float, default=None, help="Adam learning rate")
    t.add_argument("--lr-drop", type=int, default=None, metavar="STEP",
                   help="divide the learning rate by 10 from this step on (default: never)")
    t.add_argument("--batch-size", type=_positive_int, default=None, help="pairs per step")
    t.add_argument("--copies", type=_positive_int, default=None, help="augmented copies per image")
    t.add_argument("--view", choices=("fast", "article"), default=None,
                   help="augmentation making x': the fast recipe's (rotation, zoom/shift, intensity) "
                        "or the article's four (rotation, distortion, binarisation, noise)")
    t.add_argument("--only", choices=TRANSFORMS, default=None,
                   help="keep only this transform of the recipe's view (ablation)")
    t.add_argument("--scale", type=_non_negative_float, nargs=2, default=None, metavar=("LOW", "HIGH"),
                   help="zoom range of the view's distortion (fast: 1 1.5)")
    t.add_argument("--shift", type=_non_negative_float, default=None, metavar="PX",
                   help="largest shift of the view's distortion, in pixels (fast: 3)")
    t.add_argument("--erase", type=_non_negative_float, default=None, metavar="P",
                   help="probability of random erasing (cutout) in the view (fast: 0)")
    t.add_argument("--erase-size", type=_non_negative_float, default=None, metavar="PX",
                   help="largest side of the erased rectangle, in pixels (default 12)")
    t.add_argument("--view-x", choices=("none", "mild"), default=None,
                   help="augmentation of x itself: none (x as it is) or mild (small zoom/shift)")
    t.add_argument("--no-over-clustering", action="store_true",
                   help="train only the k head (the over-clustering head is not in the loss)")
    t.add_argument("--precision", choices=("auto", "fp32", "bf16"), default=None,
                   help="numerics of the train step: bf16 runs convolutions and matmuls in "
                        "bfloat16 (P and the loss in float64), auto picks bf16 on a CPU with "
                        "bfloat16 hardware and fp32 elsewhere (default: auto)")
    t.add_argument("--batchnorm", choices=("fused", "keras"), default=None,
                   help="BatchNorm's training pass: TensorFlow's fused kernel (fast) or Keras's "
                        "own ops, as runs before the fused layer were trained (default fused)")
    t.add_argument("--strategy", choices=("default", "mirrored"), default="default",
                   help="tf.distribute strategy: mirrored trains on every local GPU (the IIC loss "
                        "of the global batch, all-reduced before the logs); default: one device")
    t.add_argument("--train-on", choices=("all", "train"), default="all",
                   help="images to train on (without labels): all 70k, as the paper, or the 60k "
                        "training images only, as the article (default all)")
    t.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    length = t.add_mutually_exclusive_group(required=True)
    length.add_argument("--epochs", type=float, help="passes over the training images")
    length.add_argument("--steps", type=_positive_int, help="total optimisation steps")
    t.add_argument("--eval-every", type=_positive_int, default=None,
                   help="steps between evaluations (default: once per epoch)")
    t.add_argument("--limit", type=_positive_int, default=None,
                   help="use only the first N images of each split (quick runs)")
    t.add_argument("--out", type=Path, required=True,
                   help="output folder: checkpoint (resumed if present), history, weights, result.json")
    t.add_argument("--quiet", action="store_true", help="no progress bar")

    e = sub.add_parser("evaluate", help="score saved weights on the MNIST test set",
                       description="Load weights and report accuracy on the 10k MNIST test set.")
    e.add_argument("--weights", type=Path, default=None,
                   help="a .weights.h5 file from 'train' (default: the shipped pretrained model)")
    e.add_argument("--bn", choices=("inference", "batch"), default="inference",
                   help="BatchNorm statistics: moving averages (inference) or per batch")
    e.add_argument("--limit", type=_positive_int, default=None,
                   help="evaluate only the first N test images")
    e.add_argument("--json", action="store_true", help="print the result as JSON")
    return parser


def config_from_args(args: argparse.Namespace) -> "TrainConfig":
    """The TrainConfig that ``train`` options describe: the recipe, then each override.

    Raises ValueError (with the reason) for settings that do not fit together.
    """
    from .train import TrainConfig

    base = TrainConfig.fast(seed=args.seed) if args.recipe == "fast" else TrainConfig.article(seed=args.seed)
    changes = {k: v for k, v in {"alpha": args.alpha, "alpha_over": args.alpha_over, "alpha_warmup": args.alpha_warmup,
                                  "num_subheads": args.subheads,
                                  "lr_drop_step": args.lr_drop, "lr": args.lr, "batch_size": args.batch_size,
                                  "copies": args.copies, "precision": args.precision}.items()
               if v is not None}
    if args.batchnorm is not None:
        changes["fused_batchnorm"] = args.batchnorm == "fused"
    view = base.view
    if args.view is not None:
        view = changes["view"] = AugmentConfig() if args.view == "fast" else AugmentConfig.article()
    if args.only:
        view = changes["view"] = view.only(args.only)
    tweaks = {k: v for k, v in {"scale": args.scale and tuple(args.scale), "shift": args.shift,
                                "erase_p": args.erase, "erase_size": args.erase_size}.items()
              if v is not None}
    if tweaks:
        changes["view"] = dataclasses.replace(view, **tweaks)
    if args.view_x is not None:
        changes["view_x"] = None if args.view_x == "none" else AugmentConfig.mild()
    if args.no_over_clustering:
        changes["over_clustering"] = False
    return dataclasses.replace(base, **changes)


def _strategy(name: str):
    """The tf.distribute strategy a --strategy name means (None: the default, one device)."""
    if name == "default":
        return None
    import tensorflow as tf

    return tf.distribute.MirroredStrategy()


def _train(args: argparse.Namespace) -> int:
    import numpy as np

    from .data import load_mnist
    from .train import IICTrainer, evaluate

    try:
        config = config_from_args(args)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2

    out = args.out
    try:
        out.mkdir(parents=True, exist_ok=True)
        atomic_write_text(out / ".write-test", "")
        (out / ".write-test").unlink()
    except OSError as e:
        print(f"error: cannot write to --out {out}: {e.strerror or e}", file=sys.stderr)
        return 2
    (x_train, y_train), (x_test, y_test) = load_mnist(limit=args.limit)
    x_all = np.concatenate([x_train, x_test])  # IIC trains on every image, without labels
    x_fit = x_all if args.train_on == "all" else x_train
    if IICTrainer.exists(out):
        try:
            trainer = IICTrainer.restore(out, strategy=_strategy(args.strategy))
        except ValueError as e:
            print(f"error: {e}", file=sys.stderr)
            return 2
        if trainer.config != config:
            print(f"error: {out} holds a run with other settings; choose another --out", file=sys.stderr)
            return 2
        if trainer.history.get("train_on", "all") != args.train_on:
            print(f"error: {out} holds a run trained on --train-on "
                  f"{trainer.history.get('train_on', 'all')}; choose another --out", file=sys.stderr)
            return 2
        print(f"Resuming {out} at step {int(trainer.step.numpy())}")
    else:
        trainer = IICTrainer(config, strategy=_strategy(args.strategy))
        trainer.history["train_on"] = args.train_on
    # the code that trains is the code of now, not of when the run ends: record it at each start
    trainer.history.setdefault("revisions", []).append(git_revision())
    num_steps = args.steps or int(np.ceil(args.epochs * trainer.steps_per_epoch(len(x_fit))))
    try:
        trainer.fit(x_fit, num_steps=num_steps, x_eval=x_test, y_eval=y_test,
                    eval_every=args.eval_every, checkpoint_dir=out, progress=not args.quiet,
                    track_raw_bn=True)
    except RuntimeError as e:  # the folder is locked by another training
        print(f"error: {e}", file=sys.stderr)
        return 2
    except (FloatingPointError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    if trainer.interrupted:
        return 130  # fit said where the checkpoint is; the same command resumes
    model = trainer.export_model()
    atomic_save_weights(model, out / "model.weights.h5")
    final = trainer.history["evals"][-1]
    all70k = evaluate(model, x_all, np.concatenate([y_train, y_test]))
    result = {
        **provenance("python -m iic_tutorial " + " ".join(sys.argv[1:])),
        # every revision the run was started (or resumed) at, in order
        "revision": ", ".join(dict.fromkeys(trainer.history["revisions"])),
        "config": config.to_dict(),
        "precision": trainer.precision,
        "trained_on": f"{args.train_on} ({len(x_fit)} images; an epoch is one pass over them)",
        "steps": final["step"],
        "epochs": final["epoch"],
        "wall_time_s": final["wall_time"],
        "eval_time_s": round(trainer.eval_time, 3),
        "final_loss": final["loss"],
        "final_loss_k": final["loss_k"],
        "test_accuracy": final["acc"],
        "test_nmi": final["nmi"],
        "test_accuracy_over_many_to_one": final["acc_over"],
        "all70k_accuracy": all70k["acc"],
        "all70k_nmi": all70k["nmi"],
        "curve": [{k: r.get(k) for k in ("step", "epoch", "wall_time", "alpha", "loss", "loss_k",
                                         "loss_over", "mi", "mi_over", "H", "H_over", "acc", "acc_raw_bn",
                                         "nmi", "acc_over")}
                  for r in trainer.history["evals"]],
    }
    atomic_write_text(out / "result.json", json.dumps(result, indent=1))
    print(f"Test accuracy {100 * final['acc']:.2f} %, all 70k {100 * all70k['acc']:.2f} %; "
          f"wrote {out / 'result.json'}")
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from .data import load_mnist
    from .model import create_model, load_weights
    from .train import evaluate

    if args.weights is None:
        from .pretrained import load_pretrained

        model = load_pretrained()
    else:
        try:
            model = load_weights(create_model(), args.weights)
        except (FileNotFoundError, ValueError) as e:
            print(f"error: {e}", file=sys.stderr)
            return 2
    _, (x_test, y_test) = load_mnist(limit=args.limit)
    result = evaluate(model, x_test, y_test, bn=args.bn)
    if args.json:
        print(json.dumps({k: v for k, v in result.items()}, indent=1))
    else:
        print(f"{len(y_test)} test images, BatchNorm {args.bn}: accuracy {100 * result['acc']:.2f} %, "
              f"NMI {result['nmi']:.3f}, over-clustering (many-to-one) {100 * result['acc_over']:.2f} %")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status (2 for bad arguments)."""
    args = build_parser().parse_args(argv)
    return _train(args) if args.command == "train" else _evaluate(args)


if __name__ == "__main__":
    sys.exit(main())

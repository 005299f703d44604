"""Command line: ``python -m iic_tutorial train ...`` and ``python -m iic_tutorial evaluate ...``.

Run ``python -m iic_tutorial --help`` (or ``train --help``) for every option.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

from . import _import_tensorflow_quietly

_import_tensorflow_quietly()  # before .augment imports TensorFlow: no C++ start-up notices

from . import recipes  # noqa: E402
from .pretrained import DEFAULT, PRETRAINED  # noqa: E402
from .segmentation import cli as seg_cli  # noqa: E402
from .runs import (atomic_save_weights, atomic_write_text, git_revision, hardware,  # noqa: E402,F401
                   provenance, training_result, uncommitted)
from .training.config import (RECIPE_STEPS, add_config_arguments, config_from_args,  # noqa: E402,F401
                              non_negative_float, positive_int)

#: The --strategy words: how many devices a run trains on (tf.distribute).
STRATEGIES = ("default", "mirrored", "multiworker")


def build_parser() -> argparse.ArgumentParser:
    """The argparse parser of the command line (exposed for tests and docs)."""
    parser = argparse.ArgumentParser(
        prog="python -m iic_tutorial",
        description="Train and evaluate Invariant Information Clustering on MNIST.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="{train,evaluate}")

    t = sub.add_parser("train", help="train a model without labels (labels only monitor accuracy)",
                       description="Train IIC on all 70k MNIST images; evaluate on the 10k test set.")
    add_config_arguments(t)
    t.add_argument("--strategy", choices=STRATEGIES, default="default",
                   help="tf.distribute strategy: mirrored trains on every local GPU, multiworker "
                        "on the machines that TF_CONFIG names (start the same command on each; "
                        "the chief, task 0, writes --out); either way the IIC loss is that of "
                        "the global batch, all-reduced before the logs (default: one device)")
    t.add_argument("--train-on", choices=("all", "train"), default="all",
                   help="images to train on (without labels): all 70k, as the paper, or the 60k "
                        "training images only, as the article (default all)")
    length = t.add_mutually_exclusive_group()
    length.add_argument("--epochs", type=float, help="passes over the training images")
    length.add_argument("--steps", type=positive_int,
                        help="total optimisation steps (default: the recipe's length, for a "
                             "recipe that has one: " + ", ".join(
                                 f"{name} {steps}" for name, steps in RECIPE_STEPS.items()) + ")")
    t.add_argument("--eval-every", type=positive_int, default=None,
                   help="steps between evaluations (default: the recipe's cadence, for a recipe "
                        "that has one: " + ", ".join(
                            f"{name} {recipes.eval_every(name)}" for name in recipes.RECIPES
                            if recipes.eval_every(name)) + "; else once per epoch)")
    t.add_argument("--experiment", default=None, metavar="NAME",
                   help="the registered experiment this run is a seed of "
                        "(iic_tutorial.experiments), recorded in result.json; refused unless "
                        "the settings are those of its command for --seed; "
                        "benchmarks/run.py sets it")
    t.add_argument("--limit", type=positive_int, default=None,
                   help="use only the first N images of each split (quick runs)")
    t.add_argument("--out", type=Path, required=True,
                   help="output folder: checkpoint (resumed if present), history, weights, result.json")
    t.add_argument("--quiet", action="store_true", help="no progress bar")

    e = sub.add_parser("evaluate", help="score saved weights on the MNIST test set",
                       description="Load weights and report accuracy on the 10k MNIST test set.")
    e.add_argument("--weights", type=Path, default=None,
                   help="a .weights.h5 file from 'train' (default: a shipped model, --pretrained)")
    e.add_argument("--pretrained", choices=sorted(PRETRAINED), default=DEFAULT,
                   help=f"which shipped model to score without --weights (default: {DEFAULT}); "
                        + "; ".join(f"{n}: {what}" for n, what in PRETRAINED.items()))
    e.add_argument("--bn", choices=("inference", "batch"), default="inference",
                   help="BatchNorm statistics: moving averages (inference) or per batch")
    e.add_argument("--limit", type=positive_int, default=None,
                   help="evaluate only the first N test images")
    e.add_argument("--json", action="store_true", help="print the result as JSON")
    seg_cli.add_parser(sub)  # train-seg: IIC for segmentation (iic_tutorial.segmentation.cli)
    return parser


def _strategy(name: str):
    """The tf.distribute strategy a --strategy name means (None: the default, one device)."""
    if name == "default":
        return None
    import tensorflow as tf

    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    # reads the cluster and this process's task from the TF_CONFIG environment variable
    return tf.distribute.MultiWorkerMirroredStrategy()


def _worker_folder(out: Path, strategy) -> Path | None:
    """Where this process keeps its checkpoints: --out for the chief, None for other workers.

    Under MultiWorkerMirroredStrategy every worker trains (and saves: the
    steps' collective ops need them all); only the chief -- the task of type
    "chief", or worker 0 where there is none -- writes the run's folder.
    """
    import tensorflow as tf

    if not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        return None
    resolver = strategy.cluster_resolver
    kind, index = resolver.task_type, resolver.task_id
    has_chief = "chief" in resolver.cluster_spec().as_dict()
    if kind == "chief" or (kind == "worker" and index == 0 and not has_chief) or kind is None:
        return None
    return out / f".worker-{kind}-{index}"


def length_in_steps(args: argparse.Namespace, steps_per_epoch: float) -> int:
    """The run's total steps: ``--steps``, ``--epochs`` x steps per epoch (rounded up), or the recipe's.

    The recipe's length is ``RECIPE_STEPS[args.recipe]``; a recipe without one
    raises ValueError (say --steps or --epochs).
    """
    if args.epochs is not None:
        return int(math.ceil(args.epochs * steps_per_epoch))
    if args.steps is not None:
        return args.steps
    if args.recipe not in RECIPE_STEPS:
        raise ValueError(f"give --steps or --epochs: the recipe {args.recipe!r} has no length of "
                         f"its own (recipes that have one: {', '.join(RECIPE_STEPS)})")
    return RECIPE_STEPS[args.recipe]


def _too_short(num_steps: int, restart_steps: int) -> int:
    print(f"error: the run is {num_steps} steps, no longer than the candidates' "
          f"{restart_steps} (--restart-steps); give more --steps or fewer --restart-steps",
          file=sys.stderr)
    return 2


def _train(args: argparse.Namespace) -> int:
    """Parse -> train (the library: ``IICTrainer.open`` and ``fit``) -> write the result."""
    import numpy as np

    from .data import dev_indices, load_mnist
    from .training import IICTrainer, evaluate
    from .training import restarts as rs

    try:
        steps = length_in_steps(args, 1.0)  # a missing length is said before TensorFlow starts
        config = config_from_args(args)
        if args.experiment is not None:  # recorded only for a seed of it, checked before training
            from .experiments import check

            check(args.experiment, args, build_parser().parse_args)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if args.epochs is None and config.restarts > 1 and steps <= config.restart_steps:
        return _too_short(steps, config.restart_steps)  # said before TensorFlow starts too
    strategy = _strategy(args.strategy)  # before any TensorFlow op (multiworker needs that)
    worker = _worker_folder(args.out, strategy)
    out = worker or args.out
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
    num_steps = length_in_steps(args, config.steps_per_epoch(len(x_fit)))
    if config.restarts > 1 and num_steps <= config.restart_steps:
        return _too_short(num_steps, config.restart_steps)
    dev = dev_indices(len(x_train))  # its labels may guide choices; the test labels only score
    revision = git_revision()
    if uncommitted(revision):
        print(f"warning: the checkout has uncommitted changes ({revision}): this run's result "
              "cannot be traced to a commit", file=sys.stderr)
    try:
        trainer = IICTrainer.open(out, config, strategy, notes={"train_on": args.train_on},
                                  revision=revision)
        trainer.fit(x_fit, num_steps=num_steps, x_eval=x_test, y_eval=y_test,
                    eval_every=args.eval_every or recipes.eval_every(args.recipe), checkpoint_dir=out,
                    progress=not args.quiet, track_raw_bn=True, dev=(x_train[dev], y_train[dev]))
    except (ValueError, RuntimeError) as e:  # a precision this machine cannot run, a folder of
        print(f"error: {e}", file=sys.stderr)  # another run, or locked by another training
        return 2
    except (FloatingPointError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    if trainer.interrupted:
        return 130  # fit said where the checkpoint is
    if worker is not None:
        print(f"Worker done at step {int(trainer.step.numpy())}; the chief writes {args.out}")
        return 0
    model = trainer.export_model()
    atomic_save_weights(model, out / "model.weights.h5")
    final = trainer.history["evals"][-1]
    all70k = evaluate(model, x_all, np.concatenate([y_train, y_test]))
    result = training_result(
        trainer, "python -m iic_tutorial " + " ".join(sys.argv[1:]), all70k=all70k,
        trained_on=f"{args.train_on} ({len(x_fit)} images; an epoch is one pass over them)",
        experiment=args.experiment, seed=config.seed)
    if trainer.choice is not None:  # the recipe's settings, and every candidate's training time
        result = rs.whole_run(result, trainer.choice, config)
    atomic_write_text(out / "result.json", json.dumps(result, indent=1))
    print(f"Test accuracy {100 * final['acc']:.2f} %, all 70k {100 * all70k['acc']:.2f} %, "
          f"dev {100 * final['dev_acc']:.2f} %; wrote {out / 'result.json'}")
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from .data import load_mnist
    from .training import evaluate
    from .training.evaluation import load_run_weights

    if args.weights is None:
        from .pretrained import load_pretrained

        model = load_pretrained(args.pretrained)
    else:
        try:
            model = load_run_weights(args.weights)
        except (FileNotFoundError, ValueError) as e:
            print(f"error: {e}", file=sys.stderr)
            return 2
    _, (x_test, y_test) = load_mnist(limit=args.limit)
    result = evaluate(model, x_test, y_test, bn=args.bn)
    if args.json:
        print(json.dumps({k: v for k, v in result.items()}, indent=1))
    else:
        from .metrics import SCORES

        print(f"{len(y_test)} test images, BatchNorm {args.bn}: "
              + ", ".join(score.text(result[name]) for name, score in SCORES.items()))
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status (2 for bad arguments)."""
    args = build_parser().parse_args(argv)
    if args.command == "train-seg":
        return seg_cli.run(args, argv)
    return _train(args) if args.command == "train" else _evaluate(args)


if __name__ == "__main__":
    sys.exit(main())

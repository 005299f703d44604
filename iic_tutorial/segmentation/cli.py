"""``python -m iic_tutorial train-seg``: train IIC for segmentation on the toy scenes.

    python -m iic_tutorial train-seg --seed 0 --out runs/seg_s0

Every option but ``--out`` and ``--quiet`` is a field of
:class:`~iic_tutorial.segmentation.train.SegConfig` (its help line is the field's). The
folder gets checkpoints every ``--eval-every`` steps (the same command resumes a killed
run from the last one), then ``model.weights.h5`` and ``result.json``: the provenance
fields of every result of this project (:func:`iic_tutorial.runs.provenance`), the
settings, the scores of the last evaluation and the curve.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import shlex
import sys
from pathlib import Path

__all__ = ["add_parser", "run", "segmentation_result"]


def add_parser(sub) -> argparse.ArgumentParser:
    """Add the ``train-seg`` subcommand to an ``add_subparsers()`` object; returns its parser."""
    from .train import SegConfig  # noqa: F401 - fields listed below without TensorFlow

    p = sub.add_parser("train-seg", help="train IIC for segmentation on toy scenes of MNIST digits",
                       description="Train per-pixel IIC on 64 x 64 scenes of MNIST digits over "
                                   "textured backgrounds; labels only score the evaluations.")
    for f in dataclasses.fields(SegConfig):
        option = f"--{f.name.replace('_', '-')}"
        if f.type in ("bool", bool):
            p.add_argument(option, action="store_true", help=f.metadata["help"])
        else:
            kind = {"int": int, "float": float}.get(f.type, f.type)
            p.add_argument(option, dest=f.name, type=kind, default=f.default,
                           help=f"{f.metadata['help']} (default {f.default})")
    p.add_argument("--out", type=Path, required=True,
                   help="run folder: checkpoints (resumed if present), weights, result.json")
    p.add_argument("--quiet", action="store_true", help="no per-evaluation log lines")
    return p


def segmentation_result(trainer, command: str) -> dict:
    """The result.json of a finished run: provenance, settings, final scores, curve."""
    from ..runs import provenance
    from .train import EVAL_SEED

    final = trainer.history[-1]
    return {**provenance(command),
            "revision": ", ".join(dict.fromkeys(trainer.revisions)),
            "config": trainer.config.to_dict(),
            "steps": final["step"], "wall_time_s": final["wall_time"],
            "eval_scenes": trainer.config.eval_scenes, "eval_seed": EVAL_SEED,
            "final_loss": final["loss"],
            "pixel_accuracy": final["pixel_accuracy"], "miou": final["miou"],
            "iou": final["iou"], "mapping": final["mapping"],
            "digit_pixel_accuracy": final.get("digit_pixel_accuracy"),
            "digit_miou": final.get("digit_miou"),
            "curve": trainer.history}


def run(args: argparse.Namespace, argv: list[str] | None = None) -> int:
    """Train (or resume) the run of ``args``; write weights and result.json. Returns 0."""
    from ..runs import atomic_save_weights, atomic_write_text
    from .train import SegConfig, SegTrainer, scene_sets

    from dataclasses import fields
    config = SegConfig(**{f.name: getattr(args, f.name) for f in fields(SegConfig)})
    out = Path(args.out)
    if (out / "state.json").is_file():
        trainer = SegTrainer.restore(out)
        if trainer.config != config:
            stored = trainer.config.to_dict()
            diff = {k: (stored[k], v) for k, v in config.to_dict().items() if stored[k] != v}
            print(f"error: {out} holds a run with other settings (stored, asked): {diff}; "
                  "resume with the same command or choose another --out", file=sys.stderr)
            return 2
        print(f"resuming {out} from step {int(trainer.step.numpy())}")
    else:
        trainer = SegTrainer(config)
    train, test = scene_sets(config)
    trainer.fit(train, test, out=out, log=None if args.quiet else print)
    command = "python -m iic_tutorial " + shlex.join(argv if argv is not None else sys.argv[1:])
    atomic_save_weights(trainer.model, out / "model.weights.h5")
    result = segmentation_result(trainer, command)
    atomic_write_text(out / "result.json", json.dumps(result, indent=1))
    print(f"pixel accuracy {100 * result['pixel_accuracy']:.2f} %, mIoU "
          f"{100 * result['miou']:.2f} % after {result['steps']} steps "
          f"({result['wall_time_s'] / 60:.1f} min); wrote {out / 'result.json'}")
    return 0

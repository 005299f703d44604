"""Self-labelling as a second stage: finished runs trained on with SCAN's last step.

    python benchmarks/self_label.py runs/NAME [runs/NAME ...] [--weights 1]
                                    [--threshold 0.99] [--steps 500] [--every 250] [--out FILE]

SCAN's last step trains a clustering network on its own sure answers: an image its
10-cluster head assigns with a probability above a threshold takes that cluster as its
label, and the network learns it from strong views of the image (cross-entropy). Here the
images are x, the views x' (``TrainConfig.self_label``, :func:`iic_tutorial.losses.self_label_loss`),
added with a weight to the IIC loss the run trained with. Read first
(``benchmarks/second_stage.py``): the good runs assign nearly all of the two groups of
mistakes left on all 70k above 0.99, so the stage would take them as labels; this measures
what it does.

For each finished run folder this restores the last checkpoint of the network it trained
(``NAME/candidate_seedS`` of a run with restarts) and trains ``--steps`` more steps on all
70k images, the run's own settings otherwise (learning rate, precision, views, seed): once
without the stage (the control: the same extra steps) and once per weight of ``--weights``
with it. Every ``--every`` steps it scores the chosen sub-heads as ``benchmarks/uniform_pull.py``
does (``train_on``: all 70k, the 10k test images, the dev split, the two groups and the
sevens; labels only score). Nothing is written to the run folders. Writes
``iic_tutorial/pretrained/self_label.json`` (package data the book reads,
``iic.pretrained.benchmark("self_label")``), or ``--out``.
"""

from __future__ import annotations

import dataclasses
import json
import sys
import time
from pathlib import Path


ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]
OUT = ROOT / "iic_tutorial" / "pretrained" / "self_label.json"


def main(argv: list[str] | None = None) -> int:
    from iic_tutorial.runs import runs_parser
    from iic_tutorial.training.config import non_negative_float

    parser = runs_parser(__doc__, OUT)
    parser.add_argument("--weights", nargs="+", type=non_negative_float, default=[1.0],
                        help="weights of the stage's cross-entropy, one arm each, after the "
                             "control (default: 1)")
    parser.add_argument("--threshold", type=float, default=0.99,
                        help="the probability above which a cluster becomes a label (default 0.99, SCAN's)")
    parser.add_argument("--steps", type=int, default=500, help="steps each arm trains on (default 500)")
    parser.add_argument("--every", type=int, default=250, help="steps between scorings (default 250)")
    args = parser.parse_args(argv)
    if args.steps < 1 or args.every < 1 or args.steps % args.every:
        parser.error(f"--steps ({args.steps}) must be a positive multiple of --every ({args.every})")
    if not 0 <= args.threshold < 1:
        parser.error(f"--threshold is a probability in [0, 1); got {args.threshold}")

    from iic_tutorial.runs import finished_result, require_committed

    for run in args.runs:  # before any data is loaded
        finished_result(run)

    from uniform_pull import all70k, scores, train_on

    from iic_tutorial.runs import atomic_write_text, benchmark_command, provenance
    from iic_tutorial.training import IICTrainer, restore
    from iic_tutorial.training.restarts import trained_folder

    where = provenance(benchmark_command("self_label.py", argv))
    require_committed(where["revision"])  # as collect.py
    scored, test = all70k()
    runs = {}
    for run in args.runs:
        folder = trained_folder(run)
        arms, start = [], None
        for weight in [0.0, *args.weights]:
            state = restore(folder)  # every arm from the same checkpoint
            state.config = dataclasses.replace(state.config, self_label=weight,
                                               self_label_threshold=args.threshold)
            trainer = IICTrainer(state.config, state=state)
            if start is None:
                start = scores(trainer, *scored)
            t0 = time.perf_counter()
            records = train_on(trainer, scored, test, args.steps,
                               args.every, f"{run.name} self_label {weight:g}")
            arms.append({"self_label": weight, "seconds": round(time.perf_counter() - t0, 1),
                         "scores": records})
        runs[run.name] = {"checkpoint": folder.name, "start": start, "arms": arms}
    out = {**where, "threshold": args.threshold, "steps": args.steps, "every": args.every, "runs": runs}
    atomic_write_text(args.out, json.dumps(out, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Seed restarts: train a few candidates briefly, keep the one with the lowest loss.

The official IIC code trains five sub-heads and keeps the one with the lowest
loss; its own log shows the lowest loss naming a 99.2 % sub-head over three
stuck at 97.9 %. A sub-head cannot leave a grouping that is in the trunk's
features, so a recipe with ``restarts = n > 1`` restarts the whole network
instead: ``n`` candidates with the seeds ``seed * n + 0 ... n - 1`` train
``restart_steps`` steps each, and the one whose mean loss over its last
:data:`WINDOW` steps is the lowest trains on. No label is used to choose.

With ``restart_above`` set, the candidates train one after another and the
first whose loss is at or below it trains on without the others starting
(:func:`good_enough`): a restart then costs time only when a start went
wrong, as a trunk that mixes digits does -- its loss is already high at step
1000, and no sub-head on it recovers.

``IICTrainer(config).fit(...)`` runs the candidates (:func:`train_candidates`),
with a checkpoint folder in its sub-folders ``candidate_seedS`` (each resumable),
and writes the choice to ``restarts.json`` there; the command line's
``--restarts`` is that. The choice and its accounting are plain functions of the
candidates' histories, tested on their own.
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from ..files import atomic_write_text
from .config import RESTART_WINDOW, TrainConfig

__all__ = ["WINDOW", "candidate_seeds", "candidate_config", "candidate_folder", "trained_folder",
           "window_start", "restart_loss", "good_enough", "choose", "evaluation_at", "decide", "shift_curve",
           "train_candidates", "whole_run"]

#: Steps at the end of the candidate phase whose mean loss decides (the loss of one step is noisy).
WINDOW = RESTART_WINDOW


def candidate_seeds(config: TrainConfig) -> list[int]:
    """The candidates' seeds: ``[seed * restarts + i for i in range(restarts)]``.

    Distinct for distinct seeds (seed 0: 0, 1, 2; seed 1: 3, 4, 5 with 3
    restarts), so the seeds of a recipe never share a candidate.
    """
    return [config.seed * config.restarts + i for i in range(config.restarts)]


def candidate_config(config: TrainConfig, seed: int) -> TrainConfig:
    """The settings a candidate trains with: ``config`` with its own seed and no restarts."""
    return dataclasses.replace(config, seed=seed, restarts=1, restart_above=None)


def candidate_folder(seed: int) -> str:
    """The name of a candidate's folder inside the run's folder."""
    return f"candidate_seed{seed}"


def trained_folder(out: str | Path) -> Path:
    """The checkpoint folder that holds a run's trained network, for ``IICTrainer.restore``.

    ``out`` itself for a run with one start; for a run with restarts (``out``
    holds ``restarts.json`` and no ``state.json``), the folder of the candidate
    it chose, which trained on to the run's end.
    """
    out = Path(out)
    choice = out / "restarts.json"
    if (out / "state.json").exists() or not choice.exists():
        return out
    return out / candidate_folder(json.loads(choice.read_text())["chosen"])


def window_start(restart_steps: int, window: int = WINDOW) -> int:
    """The first step whose loss counts: ``restart_steps - window + 1``, or step 1 if that is earlier."""
    return restart_steps - min(window, restart_steps) + 1


def restart_loss(history: Mapping, restart_steps: int, window: int = WINDOW) -> float:
    """Mean minimised loss (nats) of steps ``restart_steps - window + 1 ... restart_steps``.

    history: an IICTrainer's history (``history["loss"]``: one value per step,
    step 1 first). Only the candidate phase counts, so the value does not
    change once the chosen candidate trains on. Raises ValueError if the
    history holds fewer than ``restart_steps`` steps.
    """
    losses = np.asarray(history["loss"][:restart_steps], dtype=float)
    if len(losses) < restart_steps:
        raise ValueError(f"the candidate has trained {len(losses)} steps; the choice needs "
                         f"{restart_steps} (train it on first)")
    return float(losses[window_start(restart_steps, window) - 1:].mean())


def good_enough(loss: float, config: TrainConfig) -> bool:
    """Whether a candidate of loss ``loss`` (nats, :func:`restart_loss`) trains on without the next starting.

    True when ``config.restart_above`` is set and ``loss <= restart_above``;
    a NaN loss is never good enough. Without ``restart_above`` every
    candidate trains (False).
    """
    return config.restart_above is not None and bool(loss <= config.restart_above)


def choose(losses: Mapping[int, float]) -> int:
    """The seed whose candidate has the lowest loss (the first of equals, in seed order).

    Raises ValueError for an empty mapping or a loss that is not finite (a
    candidate whose loss is NaN has failed; it must not be chosen, nor pass
    for the best because NaN compares false).
    """
    if not losses:
        raise ValueError("no candidates to choose from")
    bad = {seed: loss for seed, loss in losses.items() if not np.isfinite(loss)}
    if bad:
        raise ValueError(f"candidate loss is not finite: {bad}; these candidates failed")
    return min(sorted(losses), key=lambda seed: losses[seed])


def evaluation_at(records: Sequence[Mapping], step: int) -> Mapping | None:
    """The evaluation record (an entry of ``history["evals"]`` or of a curve) at ``step``, or None."""
    return next((r for r in records if r["step"] == step), None)


def decide(candidates: Mapping[int, Any], restart_steps: int,
           restart_above: float | None = None) -> dict:
    """The choice among trained candidates, as ``restarts.json`` records it.

    candidates: seed -> its IICTrainer, each trained at least ``restart_steps``
    steps (with ``restart_above``, the ones that started: the first seeds of
    :func:`candidate_seeds`). Returns the seeds, ``restart_steps``,
    ``restart_above``, ``window``, every candidate's
    loss (:func:`restart_loss`, nats; keys are the seeds as strings), the
    ``chosen`` seed (:func:`choose`), each candidate's test accuracy and
    confusion matrix at the choice (labels only monitor: they do not choose)
    and the training and evaluation seconds of the candidates not chosen.
    """
    losses = {seed: restart_loss(c.history, restart_steps) for seed, c in candidates.items()}
    chosen = choose(losses)
    at_choice = {str(seed): evaluation_at(c.history["evals"], restart_steps) or {}
                 for seed, c in candidates.items()}
    others = [c for seed, c in candidates.items() if seed != chosen]
    return {
        "seeds": list(candidates), "restart_steps": restart_steps, "restart_above": restart_above,
        "window": WINDOW,
        "loss": {str(seed): loss for seed, loss in losses.items()}, "chosen": chosen,
        "test_accuracy": {seed: e.get("acc") for seed, e in at_choice.items()},
        "test_confusion": {seed: e.get("confusion") for seed, e in at_choice.items()},
        "others_wall_time_s": sum(c.wall_time for c in others),
        "others_eval_time_s": sum(c.eval_time for c in others),
    }


def shift_curve(curve: Sequence[Mapping], others_s: float, restart_steps: int) -> list[dict]:
    """The chosen candidate's curve on the clock of the whole recipe.

    Every point's ``wall_time`` gains ``others_s``, the seconds the candidates
    that were not chosen trained, as if they had trained first; and a point
    of the candidate phase (step <= ``restart_steps``) takes the time of the
    choice, the end of that phase: before it, no model is the recipe's. So a
    time to an accuracy counts every step the recipe trained, and does not
    depend on the order the candidates ran in. Raises ValueError if the curve
    has no point at ``restart_steps`` (``fit`` evaluates at the end of each
    call, so the candidate phase always leaves one).
    """
    point = evaluation_at(curve, restart_steps)
    if point is None:
        raise ValueError(f"the curve has no evaluation at step {restart_steps}, where the "
                         f"candidates were compared")
    choice = point["wall_time"]
    return [{**p, "wall_time": others_s + (choice if p["step"] <= restart_steps else p["wall_time"])}
            for p in curve]


def whole_run(result: dict, choice: Mapping, config: TrainConfig) -> dict:
    """A run's result (``runs.training_result`` of the chosen candidate) as the recipe's.

    It records the recipe's settings (``config``, whose seed the candidates'
    derive from), the choice (``restarts``), and every candidate's training
    and evaluation seconds: the curve on the whole recipe's clock
    (:func:`shift_curve`) and the times with the other candidates' added.
    """
    return {**result, "config": config.to_dict(), "restarts": dict(choice),
            "curve": shift_curve(result["curve"], choice["others_wall_time_s"], config.restart_steps),
            "wall_time_s": result["wall_time_s"] + choice["others_wall_time_s"],
            "eval_time_s": result["eval_time_s"] + choice["others_eval_time_s"]}


def train_candidates(trainer: Any, x: np.ndarray, num_steps: int,
                     checkpoint_dir: str | os.PathLike | None, options: Mapping) -> Any | None:
    """Train a run's candidates to ``restart_steps``, one after another; the one chosen, or None.

    trainer: the :class:`~iic_tutorial.training.IICTrainer` of a config with
    ``restarts > 1``; each candidate is a trainer of the same class
    (:func:`candidate_config`), opened with the trainer's notes and revision
    (``IICTrainer.open``) in ``checkpoint_dir/candidate_seedS`` when a folder
    is given -- a candidate that is there already resumes, and one that has
    its steps is not trained again; with ``config.restart_above``, the
    candidates after the first that is :func:`good_enough` never start.
    ``options``: the rest of ``fit``'s
    arguments. Sets ``trainer.choice`` (:func:`decide`, also written to
    ``checkpoint_dir/restarts.json``) and returns the chosen candidate, or
    None if a candidate was interrupted (Ctrl-C). ValueError for a run no
    longer than its candidates.
    """
    config = trainer.config
    if num_steps <= config.restart_steps:
        raise ValueError(f"the run is {num_steps} steps, no longer than the candidates' "
                         f"{config.restart_steps} (restart_steps); give more steps or fewer "
                         "restart_steps")
    kind = type(trainer)
    candidates = {}
    for seed in candidate_seeds(config):
        settings = candidate_config(config, seed)
        folder = None if checkpoint_dir is None else Path(checkpoint_dir) / candidate_folder(seed)
        if folder is None:
            candidate = kind(settings, strategy=trainer.strategy)
            candidate.history.update(trainer.notes)
            if trainer.revision is not None:
                candidate.history.setdefault("revisions", []).append(trainer.revision)
        else:
            candidate = kind.open(folder, settings, trainer.strategy, trainer.notes, trainer.revision)
        if int(candidate.step.numpy()) < config.restart_steps:
            candidate.fit(x, num_steps=config.restart_steps, checkpoint_dir=folder, **options)
            if candidate.interrupted:
                return None
        candidates[seed] = candidate
        if good_enough(restart_loss(candidate.history, config.restart_steps), config):
            break
    trainer.choice = choice = decide(candidates, config.restart_steps, config.restart_above)
    if checkpoint_dir is not None:
        atomic_write_text(Path(checkpoint_dir) / "restarts.json", json.dumps(choice, indent=1))
    print(f"Candidates' mean loss over steps {window_start(config.restart_steps)}-"
          f"{config.restart_steps}: " + ", ".join(f"seed {s} {v:.4f}" for s, v in choice["loss"].items())
          + f"; seed {choice['chosen']} trains on"
          + ("" if config.restart_above is None else f" (restart above {config.restart_above})"))
    return candidates[choice["chosen"]]

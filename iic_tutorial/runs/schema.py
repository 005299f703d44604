"""What a training run's result.json holds (:func:`result_fields`, one
:func:`curve_fields` point per evaluation), and :func:`training_result`, which builds
it. The scores in both come from :data:`iic_tutorial.metrics.SCORES`: a new score
is an entry there, not here.
"""

from __future__ import annotations

from .probe import git_revision, provenance
from .. import metrics
from ..data import DEV_RULE

__all__ = ["training_result", "result_fields", "curve_fields", "THRESHOLDS"]


def result_fields() -> dict[str, str]:
    """What a training run's result.json holds: field -> what it is, in the file's order.

    ``benchmarks/collect.py`` adds ``name``, ``time_to_accuracy_s``,
    ``best_test_accuracy``, ``final_confusion``, ``final_dev_confusion`` (for runs made
    before evaluations recorded it: scored from the run's weights by
    ``benchmarks/dev_accuracy.py``, which records the revision it scored at as
    ``dev_scored_at``; else None) and P per curve point. A run with
    restarts (``TrainConfig.restarts > 1``) adds ``restarts``: the candidates, their
    losses and the choice (``restarts.json``); its wall times count every candidate's
    training. Each score of :data:`~iic_tutorial.metrics.SCORES` gives ``test_<field>``
    (the 10k test images) and ``all70k_<field>`` (all 70k images).
    """
    scores = metrics.SCORES.values()
    return {
        "command": "the command line that made it", "revision": "every git revision it ran at",
        "hardware": "what trained it", "date": "when it finished (UTC)",
        "software": "Python, TensorFlow, Keras and NumPy versions (runs.software)",
        "machine": "CPU, cores, threads, GPUs as fields (runs.machine)",
        "experiment": "the registered experiment it is a seed of (iic_tutorial.experiments), or None",
        "seed": "its seed (config.seed; a run with restarts: the seed its candidates derive from)",
        "config": "TrainConfig.to_dict()", "precision": "the step's numerics (fp32 or bf16)",
        "trained_on": "which images, and so what an epoch is",
        "steps": "optimisation steps", "epochs": "passes over the training images",
        "wall_time_s": "training seconds (evaluations and checkpoints not counted)",
        "eval_time_s": "seconds of evaluations and checkpoints",
        "final_loss": "the minimised loss of the last step", "final_loss_k": "its 10-cluster part",
        **{f"test_{s.field}": f"{s.about} on the 10k test images" for s in scores},
        **{f"all70k_{s.field}": f"{s.about} on all 70k images" for s in scores},
        "dev_accuracy": "Hungarian accuracy on the dev split (data.dev_indices), the labels "
                        "choices may read",
        "dev_split": "the dev split's rule (data.DEV_RULE), or None without a dev accuracy",
        "curve": "one point per evaluation (curve_fields())",
    }


def curve_fields() -> tuple[str, ...]:
    """One point of a result's curve: the keys of an evaluation record of ``fit``
    (``Evaluation``) that a result keeps, in order (:func:`iic_tutorial.metrics.curve_keys`:
    the label-free ones, every score of :data:`~iic_tutorial.metrics.SCORES`, then the
    accuracy before BatchNorm's recalibration and on the dev split)."""
    return tuple(metrics.curve_keys())


#: Accuracies whose time to reach a result records (time_to_accuracy_s).
THRESHOLDS = (0.90, 0.95, 0.975, 0.985, 0.99)


def training_result(trainer, command: str, trained_on: str, all70k: dict,
                    experiment: str | None = None, seed: int | None = None) -> dict:
    """The result.json of a finished training run (schema: :func:`result_fields`).

    trainer: the IICTrainer after ``fit`` with evaluations on the test set;
    trained_on: which images it trained on; all70k: ``evaluate`` of its
    exported model on all 70k images; experiment: the registered experiment the
    run is a seed of (None: a run of its own); seed: the run's seed (default the
    trainer's; a run with restarts gives the seed its candidates derive from).
    Tables group runs by these two fields, not by the run's folder name.
    """
    final = trainer.history["evals"][-1]
    result = {
        **provenance(command),
        "experiment": experiment,
        "seed": trainer.config.seed if seed is None else seed,
        # every revision the run was started (or resumed) at, in order
        "revision": ", ".join(dict.fromkeys(trainer.history.get("revisions", [git_revision()]))),
        "config": trainer.config.to_dict(),
        "precision": trainer.precision,
        "trained_on": trained_on,
        "steps": final["step"],
        "epochs": final["epoch"],
        "wall_time_s": final["wall_time"],
        "eval_time_s": round(trainer.eval_time, 3),
        "final_loss": final["loss"],
        "final_loss_k": final["loss_k"],
        **{f"test_{s.field}": final[name] for name, s in metrics.SCORES.items()},
        **{f"all70k_{s.field}": all70k[name] for name, s in metrics.SCORES.items()},
        "dev_accuracy": final.get("dev_acc"),
        "dev_split": DEV_RULE if final.get("dev_acc") is not None else None,
        "curve": [{k: r.get(k) for k in curve_fields()} for r in trainer.history["evals"]],
    }
    return result

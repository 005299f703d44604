"""What a training run's result.json holds (:data:`RESULT_FIELDS`, one
:data:`CURVE_FIELDS` point per evaluation), and :func:`training_result`, which builds
it.
"""

from __future__ import annotations

from .probe import git_revision, provenance
from ..data import DEV_RULE

__all__ = ["training_result", "RESULT_FIELDS", "CURVE_FIELDS", "THRESHOLDS"]


#: What a training run's result.json holds (``benchmarks/collect.py`` adds ``name``,
#: ``time_to_accuracy_s``, ``best_test_accuracy``, ``final_confusion`` and P per curve point).
#: A run with restarts (``TrainConfig.restarts > 1``) adds ``restarts``: the candidates, their
#: losses and the choice (``restarts.json``); its wall times count every candidate's training.
RESULT_FIELDS = {
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
    "test_accuracy": "Hungarian accuracy of the 10-cluster head on the 10k test images",
    "test_nmi": "its NMI", "test_accuracy_over_many_to_one": "50-cluster head, many-to-one",
    "all70k_accuracy": "Hungarian accuracy on all 70k images", "all70k_nmi": "its NMI",
    "dev_accuracy": "Hungarian accuracy on the dev split (data.dev_indices), the labels "
                    "choices may read",
    "dev_split": "the dev split's rule (data.DEV_RULE), or None without a dev accuracy",
    "curve": "one point per evaluation (CURVE_FIELDS)",
}


#: One point of a result's curve: an evaluation record of ``fit`` (``Evaluation``).
CURVE_FIELDS = ("step", "epoch", "wall_time", "alpha", "loss", "loss_k", "loss_over", "mi", "mi_over",
                "H", "H_over", "acc", "acc_raw_bn", "nmi", "acc_over", "dev_acc")


#: Accuracies whose time to reach a result records (time_to_accuracy_s).
THRESHOLDS = (0.90, 0.95, 0.975, 0.985, 0.99)


def training_result(trainer, command: str, trained_on: str, all70k: dict,
                    experiment: str | None = None, seed: int | None = None) -> dict:
    """The result.json of a finished training run (schema: :data:`RESULT_FIELDS`).

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
        "test_accuracy": final["acc"],
        "test_nmi": final["nmi"],
        "test_accuracy_over_many_to_one": final["acc_over"],
        "all70k_accuracy": all70k["acc"],
        "all70k_nmi": all70k["nmi"],
        "dev_accuracy": final.get("dev_acc"),
        "dev_split": DEV_RULE if final.get("dev_acc") is not None else None,
        "curve": [{k: r.get(k) for k in CURVE_FIELDS} for r in trainer.history["evals"]],
    }
    return result

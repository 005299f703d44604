"""What the package ships: the trained models (selected without labels) and every result.

``iic_tutorial/pretrained/`` holds each result once, as package data, so that an
installed wheel (Colab's) has what the book reads: ``runs/NAME.json`` for each
collected training run (:func:`experiment_results`, written by
``benchmarks/collect.py``) and ``<benchmark>.json`` for each benchmark
(:func:`benchmark` and the named readers below, written by its script).
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import keras

from .experiments import identity
from .model import create_model

__all__ = ["load_pretrained", "pretrained_info", "pretrained_history", "weights_path", "model_files",
           "PRETRAINED", "DEFAULT", "experiment_results", "runs_folder", "experiment_name",
           "experiment_groups", "head_restarts", "benchmark", "BENCHMARKS"]

#: The shipped models, by name: the recipe that trained each, and what the book uses it for.
#: Each was chosen without labels among the seeds of its recipe (``benchmarks/ship_model.py``).
PRETRAINED = {
    "long_band": "the long_band recipe (TrainConfig.long_band(): 4000 steps, a black band "
                 "across half of the views; chapter 11), the package's default",
    "fast": "the fast recipe with random erasing (1600 steps), the model that chapters 7-10 "
            "train, evaluate and take apart",
}
#: The model :func:`load_pretrained` returns when no name is given.
DEFAULT = "long_band"


def _folder() -> Path:
    return Path(str(resources.files("iic_tutorial") / "pretrained"))


def model_files(name: str = DEFAULT) -> dict[str, Path]:
    """The files of shipped model ``name`` in ``iic_tutorial/pretrained/``; ValueError if unknown.

    ``weights`` (``iic_mnist_<name>.weights.h5``), ``info`` (its provenance,
    ``iic_mnist_<name>.json``) and ``history`` (its training history,
    ``iic_mnist_<name>.history.json``): read here, written by
    ``benchmarks/ship_model.py``.
    """
    if name not in PRETRAINED:
        raise ValueError(f"no shipped model named {name!r}; the package ships "
                         + ", ".join(repr(n) for n in PRETRAINED))
    folder, stem = _folder(), f"iic_mnist_{name}"
    return {"weights": folder / f"{stem}.weights.h5", "info": folder / f"{stem}.json",
            "history": folder / f"{stem}.history.json"}


def _read_json(name: str, what: str, remedy: str):
    """The JSON file ``name`` of the package's pretrained folder; FileNotFoundError if absent."""
    path = _folder() / name
    if not path.is_file():
        raise FileNotFoundError(f"no {what} at {path}; {remedy}")
    return json.loads(path.read_text())


def weights_path(name: str = DEFAULT) -> Path:
    """Where shipped model ``name``'s weights lie: ``iic_tutorial/pretrained/iic_mnist_<name>.weights.h5``."""
    return model_files(name)["weights"]


def pretrained_info(name: str = DEFAULT) -> dict:
    """Provenance of shipped model ``name`` (:data:`PRETRAINED`): command, seed, revision, hardware, accuracy.

    Read from ``iic_tutorial/pretrained/iic_mnist_<name>.json``, written by
    ``benchmarks/ship_model.py --name NAME`` from a real run. Keys include
    ``run``, ``command``, ``config`` (the :class:`~iic_tutorial.training.TrainConfig`
    as a dict), ``steps``, ``wall_time_s``, ``selection`` (how it was chosen),
    ``test_accuracy`` (fraction of the 10k test images, inference mode),
    ``test_first2000_accuracy`` and ``all70k_accuracy``.
    """
    return _read_json(model_files(name)["info"].name, "provenance file",
                      "this install ships no trained model")


def load_pretrained(name: str = DEFAULT) -> keras.Model:
    """A shipped IIC model (weights inside the package, a few MB); ``name`` from :data:`PRETRAINED`.

    ``load_pretrained()`` is a ``long_band`` seed (``"long_band"``);
    ``load_pretrained("fast")`` is the fast recipe's, the one chapters 7-10 study.
    Returns a :func:`iic_tutorial.model.create_model` network (the network its
    run trained) whose BatchNorm statistics were recalibrated before saving, so
    it is meant to be used in inference mode: ``model(x, training=False)`` on
    float32 images in [0, 1] of shape ``(batch, 28, 28, 1)`` returns ``[Z
    (batch, 10), Z_over (batch, 50)]``. The accuracy it reaches is in
    :func:`pretrained_info`.
    """
    path = weights_path(name)
    if not path.is_file():
        raise FileNotFoundError(
            f"no shipped weights at {path}; reinstall iic-tutorial, or train your own with "
            "`python -m iic_tutorial train --out DIR`"
        )
    info = pretrained_info(name)
    model = create_model(k=info.get("k", 10), k_over=info.get("k_over", 50),
                         pooling=info["config"].get("pooling", "gap"))
    model.load_weights(str(path))
    return model


def pretrained_history(name: str = DEFAULT) -> dict:
    """The training history of shipped model ``name`` (the trainer's ``history``).

    Per-step ``loss``, ``loss_k``, ``loss_over`` and one record per evaluation in
    ``"evals"`` (step, wall time, alpha, I(Z;Z'), the joint P, accuracy with
    recalibrated and with stale BatchNorm statistics, NMI, confusion matrix).
    """
    return _read_json(model_files(name)["history"].name, "training history",
                      "this install ships no trained model")


def runs_folder() -> Path:
    """Where the collected runs lie: ``iic_tutorial/pretrained/runs/NAME.json``, one file a run.

    The one copy of each result (``benchmarks/collect.py runs/NAME`` writes it);
    package data, so an installed wheel (Colab's) has them too.
    """
    return _folder() / "runs"


def experiment_results() -> list[dict]:
    """Every collected training experiment (benchmarks/collect.py), one dict per run, by name.

    Each has ``name``, ``command``, ``config``, ``curve`` (per evaluation: step,
    wall time, loss, I(Z;Z'), test accuracy), final accuracies and
    ``time_to_accuracy_s``. Read from :func:`runs_folder`, one file per run,
    shipped inside the package so the book's results chapter also works in Colab.
    """
    paths = sorted(runs_folder().glob("*.json"))
    if not paths:
        raise FileNotFoundError(f"no experiment results in {runs_folder()}; "
                                "run benchmarks/collect.py runs/NAME")
    return [json.loads(path.read_text()) for path in paths]


def head_restarts() -> dict:
    """Fresh 10-cluster heads trained on a finished run's frozen trunk (benchmarks/head_restarts.py).

    Keys: ``run``, ``heads``, ``steps``, ``alpha``, ``lowest_loss_head`` and
    ``results``, one dict per head with its mean IIC ``loss`` over the last 50
    steps, ``test_accuracy`` (Hungarian, 10k test set) and ``largest_confusion``
    (``digit``, ``cluster_of``, ``count``).
    """
    return benchmark("head_restarts")


def step_speed() -> dict:
    """Seconds per training step, side by side (``benchmarks/step_speed.py``).

    Keys: the run's ``command``, ``revision``, ``hardware``, ``threads``,
    ``cpu_flags`` and ``rows``, one dict per timed step with ``step`` (its
    name), ``s_per_step``, ``images_per_s``, ``gflop_per_s`` and
    ``speedup_vs_article_code``. :func:`iic_tutorial.runs.speed_table`
    formats it.
    """
    return benchmark("step_speed")


def baselines() -> dict:
    """k-means on raw pixels and on PCA features, scored like IIC (``benchmarks/baselines.py``).

    Keys: the run's provenance, ``fit_on``, ``n_test``, ``seeds``, ``n_init``,
    ``pca_components``, ``pca_explained_variance`` and ``methods``, one dict per
    feature set with per-seed ``runs`` and ``test_accuracy_mean`` / ``_std``,
    ``test_nmi_mean`` / ``_std``.
    """
    return benchmark("baselines")


def distributed() -> dict:
    """One train step on several (logical CPU) devices against one device (``benchmarks/distributed.py``).

    Keys: the run's ``command``, ``revision``, ``hardware``, ``what`` and
    ``replicas``: per replica count (``"2"``, ``"4"``, ``"8"``) the loss and
    gradient differences with synchronized BatchNorm (``step``: ``float64``,
    ``float32``) and with BatchNorm per replica (``per_replica_batchnorm``),
    and (under ``"2"``) ``naive_minus_global``: the mean of per-shard IIC
    losses minus the global-batch loss, per shard count, in nats.
    :func:`iic_tutorial.runs.distributed_table` formats it.
    """
    return benchmark("distributed")


def selection() -> dict:
    """Label-free scores of every run at hand, judged by test accuracy (``benchmarks/selection.py``).

    Keys: the run's provenance, ``images``, ``margin``, ``scores`` (name ->
    what it measures, :data:`iic_tutorial.selection.SCORES`), ``candidates``
    (run name -> ``test_accuracy``, ``scores``, ``steps``, ``command``) and
    ``judged`` (score -> the run it picks, its ``regret`` in accuracy, the
    share of pairs of runs it orders right, Spearman's rho, and how often it
    picks the best seed of a recipe).
    """
    return benchmark("selection")


def subheads() -> dict:
    """Each sub-head of runs with several: test accuracy and training loss (``benchmarks/subheads.py``).

    Keys: the run's provenance, ``window`` (steps the losses average) and ``runs``:
    per run name the 10-cluster sub-heads' ``loss`` (mean IIC loss over the last
    ``window`` steps, nats), ``test_accuracy`` (fractions), ``chosen`` (the
    lowest-loss sub-head, the label-free choice), ``best`` (the most accurate)
    and ``steps``. ``benchmark("subheads_long_band")`` holds the same for the
    seeds of ``long_band`` with five sub-heads (experiment ``long_band_sub5``),
    ``benchmark("subheads_long_band_fp32")`` for its fp32 seeds (``long_band_sub5_fp32``),
    ``benchmark("subheads_long_band_late")`` for the seeds of ``long_band_late``.
    """
    return benchmark("subheads")


#: Every benchmark result shipped as package data, ``iic_tutorial/pretrained/<name>.json`` (one
#: copy, which Colab installs with the package): name -> the script, with the options that
#: make it this result rather than the script's default one, run from the repository's root.
BENCHMARKS: dict[str, str] = {
    "step_speed": "benchmarks/step_speed.py",
    "distributed": "benchmarks/distributed.py",
    "baselines": "benchmarks/baselines.py",
    "selection": "benchmarks/selection.py",
    "subheads": "benchmarks/subheads.py",
    "subheads_long_band": "benchmarks/subheads.py --out iic_tutorial/pretrained/subheads_long_band.json",
    "subheads_long_band_fp32": "benchmarks/subheads.py --out iic_tutorial/pretrained/subheads_long_band_fp32.json",
    "subheads_heldout_long_band": "benchmarks/subheads.py "
                                  "--out iic_tutorial/pretrained/subheads_heldout_long_band.json",
    "subheads_long_band_late": "benchmarks/subheads.py "
                               "--out iic_tutorial/pretrained/subheads_long_band_late.json",
    "head_restarts": "benchmarks/head_restarts.py",
    "early_loss": "benchmarks/early_loss.py",
    "crossed_sevens": "benchmarks/crossed_sevens.py",
    "second_stage": "benchmarks/second_stage.py",
    "self_label": "benchmarks/self_label.py",
    "uniform_pull": "benchmarks/uniform_pull.py",
    "fp32_levers": "benchmarks/fp32_levers.py",
    "fp32_levers_avx512": "benchmarks/fp32_levers.py --isa AVX512_CORE "
                          "--out iic_tutorial/pretrained/fp32_levers_avx512.json",
    "precision_gradients": "benchmarks/precision_gradients.py",
}


def benchmark(name: str) -> dict:
    """The result a benchmark wrote into the package: ``iic_tutorial/pretrained/<name>.json``.

    ``name``: a key of :data:`BENCHMARKS`, e.g. ``"fp32_levers"`` and
    ``"fp32_levers_avx512"`` (``benchmarks/fp32_levers.py``: fp32 step times by
    lever, oneDNN capped at AVX2 / AVX-512) or ``"precision_gradients"`` (how far
    the fp32 and bf16 gradients of one step lie apart); the functions named after
    the others (:func:`step_speed`, ...) say what their results hold. Each holds
    its provenance (command, revision, hardware, software). ValueError naming the
    benchmarks for another name; FileNotFoundError, with the command to run, if absent.
    """
    if name not in BENCHMARKS:
        raise ValueError(f"no benchmark result named {name!r}; the package's are "
                         f"{', '.join(BENCHMARKS)}")
    return _read_json(f"{name}.json", f"benchmark result {name!r}", f"run python {BENCHMARKS[name]}")


def experiment_name(run_name: str) -> str:
    """The experiment a run belongs to, for a result saved without the ``experiment`` field.

    ``"sweep_a5_s2"`` -> ``"sweep_a5"``; a name without that suffix is its own
    experiment. The one rule is :func:`iic_tutorial.experiments.identity`'s.
    """
    return identity({"name": run_name})[0]


def experiment_groups(runs: list[dict] | None = None) -> dict[str, list[dict]]:
    """Runs grouped by experiment (same settings, several seeds), each list sorted by seed.

    ``runs`` defaults to :func:`experiment_results`. Returns {experiment: [run, ...]};
    the experiment and seed of a run are its fields (:func:`iic_tutorial.experiments.identity`).
    """
    groups: dict[str, list[tuple[int, dict]]] = {}
    for run in experiment_results() if runs is None else runs:
        name, seed = identity(run)
        groups.setdefault(name, []).append((seed, run))
    return {name: [r for _, r in sorted(rs, key=lambda sr: sr[0])] for name, rs in sorted(groups.items())}

"""Evaluation: predictions, BatchNorm recalibration, accuracy, and the evaluation a fit runs.

Labels are only ever used here, to *monitor* a run; training never sees them.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Callable

import keras
import numpy as np

from ..data import as_images
from ..information import entropy, mutual_information
from ..metrics import confusion_matrix, scores
from ..model import head_names
from .state import TrainState

__all__ = ["predict", "predict_heads", "scored_heads", "recalibrate_batchnorm", "evaluate",
           "split_heads", "load_run_weights", "Evaluation"]


def _batchnorm_layers(model: keras.Model) -> list:
    return [layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]


def predict(
    model: keras.Model, x: np.ndarray, batch_size: int = 1000, bn: str = "inference"
) -> list[np.ndarray]:
    """Softmax outputs of every head for images x, in batches.

    x: (n, 28, 28[, 1]) uint8 or float in [0, 1]. ``bn="inference"`` uses
    BatchNorm's moving averages (``training=False``); ``bn="batch"`` uses the
    statistics of each batch, as the official IIC code evaluates, and leaves
    the moving averages untouched. Returns ``[Z (n, k), Z_over (n, k_over)]``.
    """
    if bn not in ("inference", "batch"):
        raise ValueError(f"bn must be 'inference' or 'batch'; got {bn!r}")
    x = as_images(x)
    batch = bn == "batch"  # training-mode calls update the moving averages: save them first
    saved = [[v.numpy() for v in layer.non_trainable_weights]
             for layer in _batchnorm_layers(model)] if batch else []
    outs: list[list[np.ndarray]] = []
    for start in range(0, len(x), batch_size):
        heads = model(x[start:start + batch_size], training=batch)
        outs.append([np.asarray(h) for h in heads])
    if batch:
        for layer, values in zip(_batchnorm_layers(model), saved):
            for v, value in zip(layer.non_trainable_weights, values):
                v.assign(value)
    return [np.concatenate(parts) for parts in zip(*outs)]


def predict_heads(
    model: keras.Model, x: np.ndarray, batch_size: int = 1000, bn: str = "inference"
) -> dict[str, np.ndarray]:
    """:func:`predict`'s outputs by name: ``{"Z": (n, k), "Z_over": (n, k_over)}``.

    With h sub-heads the keys are ``Z_1 .. Z_h, Z_over_1 .. Z_over_h``
    (:func:`~iic_tutorial.model.head_names` says which pair is scored).
    """
    return dict(zip(model.output_names, predict(model, x, batch_size, bn)))


def recalibrate_batchnorm(model: keras.Model, x: np.ndarray, batch_size: int = 1000) -> None:
    """Set every BatchNorm layer's moving mean/variance to its average batch statistics over x.

    Early in training the moving averages (momentum 0.99) lag far behind the
    weights, and inference-mode accuracy collapses to ~11 % even when the
    clusters are good. This runs x (unlabelled images, e.g. the training set)
    through the model in training mode with the momentum of batch b set to
    b / (b + 1), i.e. an exact running average, then restores the momentum.
    Afterwards ``model(x, training=False)`` matches batch-statistics outputs.
    """
    x = as_images(x)
    layers = _batchnorm_layers(model)
    momenta = [layer.momentum for layer in layers]
    try:
        for b, start in enumerate(range(0, len(x), batch_size)):
            for layer in layers:
                layer.momentum = b / (b + 1.0)
            model(x[start:start + batch_size], training=True)
    finally:
        for layer, m in zip(layers, momenta):
            layer.momentum = m


def split_heads(outputs: list) -> tuple:
    """``(z, z_over)``: the 10-cluster and the 50-cluster head among a network's outputs.

    A :func:`~iic_tutorial.model.create_model` network returns ``[Z, Z_over]``,
    or with h sub-heads ``[Z_1, ..., Z_h, Z_over_1, ..., Z_over_h]``: the first
    of each half (sub-head 1; :meth:`IICTrainer.export_model` exports the chosen
    pair as a two-output network). ValueError for an odd number of outputs.
    For outputs by name use :func:`predict_heads` and
    :func:`~iic_tutorial.model.head_names`; this reads positions, for a list
    that has lost its names.
    """
    if len(outputs) < 2 or len(outputs) % 2:
        raise ValueError(f"expected the outputs of a create_model network (k-cluster heads, then as "
                         f"many over-clustering heads); got {len(outputs)} outputs")
    return outputs[0], outputs[len(outputs) // 2]


def scored_heads(model: keras.Model | Callable, x: np.ndarray, batch_size: int = 1000,
                 bn: str = "inference") -> tuple[np.ndarray, np.ndarray]:
    """(z, z_over): the two heads a network is scored by, :func:`~iic_tutorial.model.head_names`.

    Softmax outputs for images x (:func:`predict`), ``(n, k)`` and ``(n, k_over)``.

    Two outputs under other names (a network built elsewhere, such as the
    article's code) or a plain callable without output names (a stand-in in a
    test) are unambiguous and read by position, as :func:`split_heads` does;
    more outputs than two must carry the names.
    """
    names = getattr(model, "output_names", None)
    if names is None or (len(names) == 2 and not {"Z", "Z_over"} <= set(names)):
        return split_heads(predict(model, x, batch_size, bn))
    k_head, over_head = head_names(model)
    heads = predict_heads(model, x, batch_size, bn)
    return heads[k_head], heads[over_head]


def load_run_weights(weights: str | os.PathLike) -> keras.Model:
    """A ``train`` run's weights file loaded into the network the run recorded.

    ``train --out DIR`` writes ``DIR/model.weights.h5`` beside ``DIR/result.json``
    (and ``DIR/state.json``, the checkpoint), which record the run's settings:
    ``k``, ``k_over`` and ``pooling`` decide the layers' shapes. Weights found
    without either file are taken to come from the default network.
    :func:`~iic_tutorial.model.load_weights` raises, saying why, for weights
    that do not fit.
    """
    from ..model import create_model, load_weights
    from .config import TrainConfig

    weights = Path(weights)
    model = None
    for record in (weights.parent / "result.json", weights.parent / "state.json"):
        try:
            config = TrainConfig.from_dict(json.loads(record.read_text())["config"])
        except (OSError, ValueError, KeyError, TypeError):
            continue
        model = create_model(config.k, config.k_over, pooling=config.pooling)
        break
    return load_weights(model or create_model(), weights)


def evaluate(
    model: keras.Model, x: np.ndarray, y: np.ndarray, bn: str = "inference", batch_size: int = 1000
) -> dict:
    """Every score of both heads against labels y (for monitoring only).

    Returns each score of :data:`~iic_tutorial.metrics.SCORES` by its key --
    ``"acc"`` and ``"nmi"``: Hungarian accuracy and NMI of the 10-cluster head;
    ``"acc_over"``: many-to-one accuracy of the 50-cluster head -- and
    ``"confusion"``, the 10-cluster head's confusion matrix (classes x
    clusters, matched order) as lists.
    """
    y = np.asarray(y)
    if y.ndim != 1 or len(y) != len(x):
        raise ValueError(f"y must hold one label per image: {len(x)} images but labels of shape {y.shape}")
    z, z_over = scored_heads(model, x, batch_size, bn)
    y = y.astype(np.int64)
    pred = z.argmax(1)
    return {**scores(y, {"Z": pred, "Z_over": z_over.argmax(1)}),
            "confusion": confusion_matrix(y, pred, k=z.shape[1]).tolist()}


class Evaluation:
    """The evaluation ``fit`` runs every ``eval_every`` steps: one record in ``history["evals"]``.

    ``evaluation(state, last)`` (``state``: the run's
    :class:`~iic_tutorial.training.state.TrainState`; ``last``: the latest
    step's output) records,
    without labels: step, epoch, wall time, the losses, the weight alpha, the
    joint P of the last batch of the chosen k sub-head, I(Z;Z') and H(Z) of
    both heads (nats); then recalibrates BatchNorm on ``recalibrate_on``
    training images (:func:`recalibrate_batchnorm`; the subset is seeded by
    (seed, step)) and, when ``y_eval`` is given, adds :func:`evaluate`'s
    accuracy on ``x_eval`` (with ``track_raw_bn``, also the accuracy before
    the recalibration, ``acc_raw_bn``) and, when ``dev = (x_dev, y_dev)`` is
    given, the accuracy on the dev split, ``dev_acc``, and its confusion matrix,
    ``dev_confusion`` (digits x clusters, matched order, as ``confusion``), which
    lets a choice count a group of mistakes without reading the test labels.
    """

    def __init__(self, x: np.ndarray, per_epoch: int, x_eval: np.ndarray | None = None,
                 y_eval: np.ndarray | None = None, recalibrate_on: int = 5000,
                 track_raw_bn: bool = False, dev: tuple[np.ndarray, np.ndarray] | None = None):
        if y_eval is not None and x_eval is None:
            raise ValueError("y_eval needs x_eval: the images whose labels they are")
        self.x, self.per_epoch = x, per_epoch
        self.x_eval, self.y_eval, self.dev = x_eval, y_eval, dev
        self.recalibrate_on, self.track_raw_bn = recalibrate_on, track_raw_bn

    def __call__(self, state: TrainState, last: dict) -> dict:
        step = state.steps_done
        history, config = state.history, state.config
        i, j = state.best_subheads()
        P = np.asarray(last["P"][i], dtype=np.float64)
        P_over = np.asarray(last["P_over"][j], dtype=np.float64)
        P, P_over = P / P.sum(), P_over / P_over.sum()
        record: dict = {
            "step": step,
            "subheads": [i, j],
            "epoch": step / self.per_epoch,
            "wall_time": round(state.wall_time, 3),
            "loss": history["loss"][-1],
            "loss_k": history["loss_k"][-1],
            "loss_over": history["loss_over"][-1],
            "alpha": config.alpha_at(step - 1),
            "mi": mutual_information(P),  # I(Z; Z') of the last batch, nats
            "mi_over": mutual_information(P_over),
            "H": entropy(P.sum(1)),  # H(Z): entropy of the marginal P_i, nats (max ln k)
            "H_over": entropy(P_over.sum(1)),
            "P": np.round(P, 6).tolist(),
        }
        if self.y_eval is not None and self.track_raw_bn:
            record["acc_raw_bn"] = evaluate(state.export_model(), self.x_eval, self.y_eval)["acc"]
        rng = np.random.default_rng([config.seed, step, 1])
        subset = rng.choice(len(self.x), size=min(self.recalibrate_on, len(self.x)), replace=False)
        recalibrate_batchnorm(state.model, self.x[np.sort(subset)])
        model = state.export_model()  # (with sub-heads, a copy: made once for both scores)
        if self.y_eval is not None:
            record.update(evaluate(model, self.x_eval, self.y_eval))
        if self.dev is not None:  # the labels choices may read (data.dev_indices)
            dev = evaluate(model, *self.dev)
            record["dev_acc"], record["dev_confusion"] = dev["acc"], dev["confusion"]
        history["evals"].append(record)
        return record

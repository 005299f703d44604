"""Fresh 10-cluster heads on a trained, frozen trunk: which grouping does IIC pick?

    python benchmarks/head_restarts.py runs/NAME [--heads 10] [--steps 300]

Takes a finished run (its checkpoint), freezes the trunk (BatchNorm recalibrated, inference
mode) and trains ``--heads`` new 10-cluster heads from different random initialisations on
its 256-d features, with the run's own view, alpha and 200 images x 5 copies per step,
Adam 1e-3. Then it scores every head on the 10k test set (labels for scoring only) and
names the head with the lowest IIC loss over the last 50 steps -- the label-free choice
of the official code's sub-heads. Writes iic_tutorial/pretrained/head_restarts.json, the
one copy (package data the book reads, ``iic_tutorial.pretrained.head_restarts()``); the
run it studied is its ``run`` field.

The question it answers: is an error of the trained model (e.g. a group of sevens in the
cluster of the twos) a matter of how the head groups the trunk's features, which a restart
or a sub-head could change, or is it in the features themselves?
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from iic_tutorial.runs import atomic_write_text

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "iic_tutorial" / "pretrained" / "head_restarts.json"  # the one copy


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run", type=Path, help="a run folder from python -m iic_tutorial train")
    parser.add_argument("--heads", type=int, default=10, help="number of fresh heads (default 10)")
    parser.add_argument("--steps", type=int, default=300, help="training steps (default 300)")
    args = parser.parse_args(argv)

    from iic_tutorial import _import_tensorflow_quietly

    _import_tensorflow_quietly()
    import keras
    import tensorflow as tf

    from iic_tutorial.data import as_images, load_mnist
    from iic_tutorial.metrics import cluster_accuracy, confusion_matrix, largest_confusion
    from iic_tutorial.model import cluster_head, pooling_of
    from iic_tutorial.runs import benchmark_command, provenance
    from iic_tutorial.training import IICTrainer, head_losses, make_views, recalibrate_batchnorm

    trainer = IICTrainer.restore(args.run)
    config, model = trainer.config, trainer.export_model()
    (x_train, _), (x_test, y_test) = load_mnist()
    x_all = as_images(np.concatenate([x_train, x_test]))
    recalibrate_batchnorm(model, x_all[:5000])
    trunk = keras.Model(model.input, model.get_layer(pooling_of(model)).output)
    keras.utils.set_random_seed(0)
    features = keras.Input(shape=trunk.output.shape[1:])
    heads = keras.Model(features, [cluster_head(features, config.k, f"H{i}") for i in range(args.heads)])
    optimizer = keras.optimizers.Adam(1e-3)
    copies, images = config.copies, config.images_per_step

    @tf.function
    def step(x, seed):
        # the run's own views (iic_tutorial.training.make_views), through the frozen trunk
        x_view, x_prime = make_views(config, x, seed)
        f, f_prime = trunk(x_view, training=False), trunk(x_prime, training=False)
        with tf.GradientTape() as tape:
            z, z_prime = heads(f, training=True), heads(f_prime, training=True)
            if config.view_x is None:  # x ran once per image: pair each output with its copies
                z = [tf.repeat(a, copies, axis=0) for a in z]
            losses, _ = head_losses(z, z_prime, [config.alpha] * args.heads)
            total = tf.reduce_sum(losses)  # the heads are independent: summing trains each alone
        grads = tape.gradient(total, heads.trainable_variables)
        optimizer.apply_gradients(zip(grads, heads.trainable_variables))
        return losses

    rng = np.random.default_rng(0)
    start, history = time.perf_counter(), []
    for s in range(args.steps):
        batch = x_all[rng.choice(len(x_all), images, replace=False)]
        history.append(step(tf.constant(batch), tf.constant([s, 7], tf.int64)).numpy())
    seconds = time.perf_counter() - start
    recent = np.mean(history[-50:], axis=0)
    z_test = heads.predict(trunk.predict(x_all[len(x_train):], batch_size=1000, verbose=0), verbose=0)
    rows = []
    for i in range(args.heads):
        pred = z_test[i].argmax(axis=1)
        digit, cluster, count = largest_confusion(confusion_matrix(y_test, pred, config.k))
        rows.append({"head": i, "loss": float(recent[i]), "test_accuracy": cluster_accuracy(y_test, pred),
                     "clusters_in_use": int(len(np.unique(pred))),
                     "largest_confusion": {"digit": digit, "cluster_of": cluster, "count": count}})
    chosen = int(np.argmin(recent))
    result = {
        "run": args.run.name,
        **provenance(benchmark_command("head_restarts.py", argv)),
        "heads": args.heads, "steps": args.steps, "train_time_s": round(seconds, 1),
        "alpha": config.alpha, "lowest_loss_head": chosen, "results": rows,
    }
    atomic_write_text(OUT, json.dumps(result, indent=1))
    for r in rows:
        c = r["largest_confusion"]
        print(f"head {r['head']}: loss {r['loss']:.3f}, accuracy {100 * r['test_accuracy']:.2f} %, "
              f"largest confusion {c['count']} x {c['digit']} -> {c['cluster_of']}"
              + ("   <- lowest loss" if r["head"] == chosen else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())

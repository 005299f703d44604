"""Run in a fresh process (logical CPU devices must be set before TensorFlow starts):

    python tests/helpers/distributed_check.py REPLICAS [--naive | --step-only]

Splits the CPU into REPLICAS logical devices and compares one training step under
MirroredStrategy on them with the same step on one device, from the same
weights (the shipped model's, with synchronized BatchNorm), in float32 and in float64.
Prints one JSON object: per dtype and replica count the largest difference of the
losses and the largest relative difference of the gradients; the gap between the IIC
loss of a whole batch and the naive mean of per-shard losses for 2, 4 and 8 shards
(with --naive); the same step with BatchNorm on each replica's own share (not synchronized);
whether a checkpoint saved under the strategy restores without one; and a short fit under
the strategy. With --step-only, only the step's comparison (in float32 and float64).
"""

import dataclasses
import json
import sys
import tempfile

import numpy as np
import tensorflow as tf

REPLICAS = int(sys.argv[1])
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * REPLICAS)

import keras  # noqa: E402

from iic_tutorial.augment import AugmentConfig, compose  # noqa: E402
from iic_tutorial.data import load_mnist, to_float  # noqa: E402
from iic_tutorial.losses import iic_loss  # noqa: E402
from iic_tutorial.model import create_model  # noqa: E402
from iic_tutorial.pretrained import load_pretrained, weights_path  # noqa: E402
from iic_tutorial.training import IICTrainer, TrainConfig  # noqa: E402

WEIGHTS = weights_path("fast")  # the weights benchmarks/distributed.py measured
DEVICES = [d.name for d in tf.config.list_logical_devices("CPU")]
config = dataclasses.replace(TrainConfig.fast(seed=0), batch_size=160, copies=5, precision="fp32")
# random images, not MNIST: MNIST's flat black background makes exact ties in max-pooling,
# and which tied pixel gets the gradient flips with round-off (an input change of 1e-6 moves
# MNIST gradients by several percent, on one device or several alike)
x = np.random.default_rng(0).random((config.images_per_step, 28, 28, 1), dtype=np.float32)


def one_step(strategy, synchronized: bool = True):
    """Loss and gradients of one step: Adam's first moments after it are (1 - beta_1) * g."""
    with (strategy or tf.distribute.get_strategy()).scope():
        model = create_model(seed=0, synchronized_batchnorm=synchronized)
        # the shipped weights: at initialisation the outputs are so near uniform that the
        # 50-cluster head's gradient (I grows like eps^4 there) is mostly round-off
        model.load_weights(str(WEIGHTS))
    trainer = IICTrainer(config, model=model, strategy=strategy)
    loss = trainer.train_step(x)["loss"]
    grads = [m.numpy() / (1 - trainer.optimizer.beta_1) for m in trainer.optimizer._momentums]
    names = [v.path for v in trainer.model.trainable_variables]
    return trainer, loss, grads, names


report: dict = {"replicas": len(DEVICES), "step": {}}
strategy = tf.distribute.MirroredStrategy(DEVICES)  # one instance: its collectives' keys
for dtype in ("float32", "float64"):
    keras.config.set_floatx(dtype)
    keras.config.set_dtype_policy(dtype)  # the policy is cached at first use: set it too
    _, loss1, grads1, names = one_step(None)
    trainer, loss_n, grads_n, _ = one_step(strategy)
    if dtype == "float32":
        distributed = trainer
    # conv biases feed BatchNorm, which removes them: their gradient is 0 up to round-off
    keep = [i for i, n in enumerate(names) if not (n.startswith("conv") and n.endswith("bias"))]
    report["step"][dtype] = {
        "loss_diff": abs(loss1 - loss_n),
        "gradient_rel_diff": float(max(np.abs(grads1[i] - grads_n[i]).max()
                                       / np.abs(grads1[i]).max() for i in keep))}
keras.config.set_floatx("float32")
keras.config.set_dtype_policy("float32")
if "--step-only" in sys.argv:
    print("RESULT " + json.dumps(report))
    sys.exit(0)

# BatchNorm with each replica's own statistics (the default): how far is the step from the
# single-device step? (float32; the synchronized layer's distance is report["step"]["float32"])
_, loss1, grads1, names = one_step(None)
_, loss_n, grads_n, _ = one_step(strategy, synchronized=False)
keep = [i for i, n in enumerate(names) if not (n.startswith("conv") and n.endswith("bias"))]
report["per_replica_batchnorm"] = {
    "loss_diff": abs(loss1 - loss_n),
    "gradient_rel_diff": float(max(np.abs(grads1[i] - grads_n[i]).max()
                                   / np.abs(grads1[i]).max() for i in keep))}

# a checkpoint written under the strategy restores on one device
with tempfile.TemporaryDirectory() as tmp:
    distributed.save(tmp)
    restored = IICTrainer.restore(tmp)
    report["restored_equal"] = all(
        np.array_equal(a.numpy(), b.numpy())
        for a, b in zip(distributed.model.weights, restored.model.weights))

# a whole fit under the strategy: steps, BatchNorm recalibration, evaluation, checkpoint
with tempfile.TemporaryDirectory() as tmp:
    images = to_float(load_mnist(limit=500)[0][0])
    fitted = IICTrainer(config, strategy=strategy)
    history = fitted.fit(images, num_steps=2, eval_every=2, x_eval=images[:200],
                         y_eval=load_mnist(limit=500)[0][1][:200], checkpoint_dir=tmp,
                         progress=False, verbose=False)
    report["fit_evals"] = [{k: e[k] for k in ("step", "acc", "mi")} for e in history["evals"]]

# the naive objective: the mean of per-shard IIC losses, on the shipped model's outputs
if "--naive" not in sys.argv:
    print("RESULT " + json.dumps(report))
    sys.exit(0)
model = load_pretrained("fast")
x_test = to_float(load_mnist(limit=1000)[1][0])
z = model(x_test, training=False)[0]
z_prime = model(compose(tf.constant(x_test), AugmentConfig.fast(), 1), training=False)[0]
report["global_loss"] = float(iic_loss(z, z_prime, 2.0))
report["naive_minus_global"] = {}
for n in (2, 4, 8):
    shards = np.split(np.arange(len(x_test)), n)
    naive = np.mean([float(iic_loss(tf.gather(z, s), tf.gather(z_prime, s), 2.0)) for s in shards])
    report["naive_minus_global"][str(n)] = naive - report["global_loss"]
print("RESULT " + json.dumps(report))

"""One process of the multi-worker check (tests/test_distributed.py starts them):

    python tests/helpers/multiworker_check.py single OUT.npz
    python tests/helpers/multiworker_check.py worker INDEX PORT_0 PORT_1 OUT.npz

``worker``: one of two MultiWorkerMirroredStrategy workers on 127.0.0.1 (TF_CONFIG is set
here, before TensorFlow starts); ``single``: the same training on one device. Both train
3 steps of the same global batch from the shipped weights, in float64 with synchronized
BatchNorm (so the only difference left is the method), and write the losses and the
weights to OUT.npz; worker 0 also saves a checkpoint and restores it without a strategy.
"""

import dataclasses
import json
import os
import sys
import tempfile

mode = sys.argv[1]
if mode == "worker":
    index, ports, out = int(sys.argv[2]), sys.argv[3:5], sys.argv[5]
    os.environ["TF_CONFIG"] = json.dumps({
        "cluster": {"worker": [f"127.0.0.1:{p}" for p in ports]},
        "task": {"type": "worker", "index": index}})
else:
    out = sys.argv[2]

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

strategy = tf.distribute.MultiWorkerMirroredStrategy() if mode == "worker" else None

import keras  # noqa: E402

from iic_tutorial.model import create_model  # noqa: E402
from iic_tutorial.pretrained import weights_path  # noqa: E402
from iic_tutorial.training import IICTrainer, TrainConfig  # noqa: E402

keras.config.set_floatx("float64")
keras.config.set_dtype_policy("float64")
config = dataclasses.replace(TrainConfig.fast(seed=0), batch_size=100, copies=5, precision="fp32",
                             synchronized_batchnorm=True)
x = np.random.default_rng(0).random((3, config.images_per_step, 28, 28, 1), dtype=np.float32)
with (strategy or tf.distribute.get_strategy()).scope():
    model = create_model(seed=0, synchronized_batchnorm=True)
    model.load_weights(str(weights_path("fast")))
trainer = IICTrainer(config, model=model, strategy=strategy)
losses = [trainer.train_step(batch)["loss"] for batch in x]
weights = [v.numpy() for v in trainer.model.trainable_variables]
report = {"losses": losses, "replicas": trainer.strategy.num_replicas_in_sync}
with tempfile.TemporaryDirectory() as tmp:
    trainer.save(tmp)  # every worker saves (the chief's folder is the run's)
    if mode == "single" or index == 0:
        restored = IICTrainer.restore(tmp)
        report["restored_equal"] = all(np.array_equal(a, b.numpy()) for a, b in
                                       zip(weights, restored.model.trainable_variables))
np.savez(out, *weights)
print("RESULT " + json.dumps(report), flush=True)

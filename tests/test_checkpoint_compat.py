"""Checkpoints written before the TrainState redesign (a8338c0) still restore.

Long runs started by an older revision are resumed with the same command, by today's
code. ``tests/data/checkpoint_81c9cdc/`` holds what revision 81c9cdc wrote (its README
says how): ``state.json``, the TensorFlow checkpoint's ``.index`` and its object graph.
The ``.data`` file (5.7 MB of weights and Adam's moments) is not committed, so the fast
tests check what a restore reads and matches; the slow one trains with the old code
from git and resumes that run for real.
"""

import inspect
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf
from tensorflow.core.protobuf import trackable_object_graph_pb2

from iic_tutorial.__main__ import build_parser, config_from_args, main
from iic_tutorial.training import IICTrainer, TrainConfig, TrainState, checkpoint

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = Path(__file__).resolve().parent / "data" / "checkpoint_81c9cdc"
COMMIT = "81c9cdc"
NAME = "ckpt-2-178235335939"  # the checkpoint files state.json names; step 2
GRAPH_KEY = "_CHECKPOINTABLE_OBJECT_GRAPH"


def options(steps: int = 2) -> list[str]:
    """The fixture's command (``train OPTIONS --out DIR``, see the README), trained to ``steps``."""
    return ["--steps", str(steps), "--batch-size", "20", "--limit", "100", "--eval-every", "1", "--quiet"]


def old_record() -> dict:
    return json.loads((FIXTURE / "state.json").read_text())


def command_config() -> TrainConfig:
    """The config today's command line makes of the fixture's command."""
    return config_from_args(build_parser().parse_args(["train", *options(), "--out", "unused"]))


def todays_checkpoint(tmp_path: Path) -> str:
    """Today's checkpoint of a new state for the old run's config (its prefix)."""
    checkpoint.save(TrainState.create(TrainConfig.from_dict(old_record()["config"])), tmp_path)
    return str(tmp_path / json.loads((tmp_path / "state.json").read_text())["checkpoint"])


def test_todays_resume_reads_the_old_state_json(tmp_path, monkeypatch):
    # the resume of the CLI (IICTrainer.open -> checkpoint.restore) up to TensorFlow's read of
    # the weights, which needs the .data file: that read is stood in for, at the step it had
    for f in FIXTURE.iterdir():
        shutil.copy(f, tmp_path)
    record, reads = old_record(), []

    class WeightsAtStep2:
        def __init__(self, state):
            self.state = state

        def read(self, prefix):
            reads.append(prefix)
            self.state.step.assign(2)
            return self

        def assert_consumed(self):
            return self

    monkeypatch.setattr(checkpoint, "_tf_checkpoint", WeightsAtStep2)
    assert checkpoint.exists(tmp_path)
    config = command_config()  # the same command: open() refuses a folder of other settings
    trainer = IICTrainer.open(tmp_path, config, notes={"train_on": "all"}, revision="today")
    assert reads == [str(tmp_path / NAME)]
    assert trainer.config == config == TrainConfig.from_dict(record["config"])
    assert (config.recipe, config.batch_size, config.seed, config.k, config.k_over) == ("fast", 20, 0, 10, 50)
    assert trainer.step.numpy() == 2 == record["step"]
    assert trainer.history["step"] == [1, 2] and [e["step"] for e in trainer.history["evals"]] == [1, 2]
    assert trainer.history["loss"] == record["history"]["loss"]
    assert trainer.history["revisions"] == [COMMIT, "today"]
    assert (trainer.wall_time, trainer.eval_time) == (record["wall_time"], record["eval_time"])
    # the next save writes the old settings back unchanged, with knobs added since (their
    # defaults keep the old behaviour) beside them
    saved = trainer.config.to_dict()

    def old_keys(new: dict, old: dict) -> dict:
        return {k: old_keys(new[k], v) if isinstance(v, dict) else new[k] for k, v in old.items()}

    assert old_keys(saved, record["config"]) == record["config"]
    assert saved["view"]["band_rows"] == [4.0, 24.0] and "band_rows" not in record["config"]["view"]


def test_todays_checkpoint_has_the_old_variables_and_shapes(tmp_path):
    old = tf.train.load_checkpoint(str(FIXTURE / NAME))  # the .index alone answers this
    new = tf.train.load_checkpoint(todays_checkpoint(tmp_path))
    assert len(old.get_variable_to_shape_map()) == 96
    assert new.get_variable_to_shape_map() == old.get_variable_to_shape_map()
    assert new.get_variable_to_dtype_map() == old.get_variable_to_dtype_map()


def restore_pairs(old, new) -> dict[str, str | None]:
    """{today's key: the old key restored into it}, matched as ``tf.train.Checkpoint.read`` does.

    From the root, each of today's objects is paired with the old object at the same child
    name; each attribute (a variable's value) with the old one of the same name. An object
    reached along two paths must meet the same old object on both.
    """
    pairs, partner, queue = {}, {0: 0}, [0]
    while queue:
        n = queue.pop()
        o = partner[n]
        old_attributes = {a.name: a.checkpoint_key for a in old.nodes[o].attributes}
        for a in new.nodes[n].attributes:
            pairs[a.checkpoint_key] = old_attributes.get(a.name)
        old_children = {c.local_name: c.node_id for c in old.nodes[o].children}
        for c in new.nodes[n].children:
            match = old_children.get(c.local_name)
            if c.node_id in partner:
                assert partner[c.node_id] == match, f"object {c.local_name!r} met two old objects"
            elif match is not None:
                partner[c.node_id] = match
                queue.append(c.node_id)
    return pairs


def test_a_restore_maps_every_old_variable_to_its_own(tmp_path):
    old = trackable_object_graph_pb2.TrackableObjectGraph.FromString((FIXTURE / "object_graph.pb").read_bytes())
    reader = tf.train.load_checkpoint(todays_checkpoint(tmp_path))
    new = trackable_object_graph_pb2.TrackableObjectGraph.FromString(reader.get_tensor(GRAPH_KEY))
    old_keys = set(tf.train.load_checkpoint(str(FIXTURE / NAME)).get_variable_to_shape_map()) - {GRAPH_KEY}
    assert not any(node.slot_variables for node in [*old.nodes, *new.nodes])  # Keras keeps none
    pairs = restore_pairs(old, new)
    assert pairs == {key: key for key in old_keys}  # every variable found, each its own, all used


def named_values(state) -> dict[str, np.ndarray]:
    """Every variable of a state (or an old trainer) by its name, and the step.

    ``bn1/gamma``, ``optimizer/bn1_gamma_momentum`` (the optimizer's own name, ``adam`` or
    ``adam_3`` in a process that made three before, left out).
    """
    values = {v.path: v.numpy() for v in state.model.variables}
    values.update({"optimizer/" + v.path.split("/", 1)[-1]: v.numpy() for v in state.optimizer.variables})
    assert len(values) == len(state.model.variables) + len(state.optimizer.variables)  # names are unique
    return {"step": state.step.numpy(), **values}


# run by the old code: its own restore of the folder, every variable by its name
OLD_VALUES = f"""
import sys, numpy as np
from iic_tutorial.training import IICTrainer
{inspect.getsource(named_values)}
np.savez(sys.argv[2], **named_values(IICTrainer.restore(sys.argv[1])))
"""


@pytest.mark.slow
def test_a_run_of_the_old_code_resumes_with_the_same_command(tmp_path):
    # the old package from git trains with the fixture's command; today's restore gives every
    # variable, found by its name, the value the old code's own restore gives it; and the same
    # command, with --steps 3, trains on from step 2. (Names are the truth here: a restore maps
    # by structure, but a renamed layer would also orphan every .weights.h5 file, so it fails.)
    try:
        tar = subprocess.run(["git", "archive", COMMIT, "iic_tutorial"], cwd=ROOT,
                             capture_output=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip(f"commit {COMMIT} is not in this checkout (no git, or a shallow clone)")
    code, run = tmp_path / "old", tmp_path / "run"
    with tarfile.open(fileobj=io.BytesIO(tar)) as archive:
        archive.extractall(code, **({"filter": "data"} if hasattr(tarfile, "data_filter") else {}))
    env = {**os.environ, "PYTHONPATH": str(code)}
    for args in (["-m", "iic_tutorial", "train", *options(), "--out", str(run)],
                 ["-c", OLD_VALUES, str(run), str(tmp_path / "old.npz")]):
        old = subprocess.run([sys.executable, *args], cwd=code, env=env, capture_output=True, text=True,
                             timeout=600)
        assert old.returncode == 0, old.stderr[-2000:]

    with np.load(tmp_path / "old.npz") as f:
        expected = dict(f)
    restored = named_values(checkpoint.restore(run))
    assert sorted(restored) == sorted(expected) and len(expected) == 95  # 36 + 58 + the step
    for name, value in expected.items():
        assert np.array_equal(restored[name], value), name

    assert main(["train", *options(3), "--out", str(run)]) == 0
    state = json.loads((run / "state.json").read_text())
    assert state["step"] == 3 and state["history"]["step"] == [1, 2, 3]
    assert len(state["history"]["revisions"]) == 2  # the old code's start, then today's

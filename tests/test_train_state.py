"""The TrainState: checkpoints and evaluations without the trainer, restarts in the library,
heads read by name."""

import ast
import dataclasses
from pathlib import Path

import keras
import numpy as np
import pytest

from iic_tutorial.model import create_model, head_names
from iic_tutorial.training import IICTrainer, TrainConfig, TrainState, checkpoint, evaluate
from iic_tutorial.training.evaluation import Evaluation, predict_heads, split_heads

TRAINING = Path(__file__).resolve().parent.parent / "iic_tutorial" / "training"


def small_config(**changes):
    """The fast recipe at a size that trains in seconds: 50 images x 5 copies, fp32."""
    settings = {"batch_size": 250, "copies": 5, "alpha": 1.0, "alpha_over": None, "precision": "fp32",
                **changes}
    return dataclasses.replace(TrainConfig.fast(seed=0), **settings)


def _imports(path: Path) -> set[str]:
    """The modules a file imports, as written (``.loop``, ``..runs.files``, ``numpy``)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            names.add("." * node.level + (node.module or ""))
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def test_the_training_core_imports_neither_the_trainer_nor_the_reports():
    """State, checkpoint, evaluation and step stand below the trainer; nothing in training reads runs."""
    for name in ("state", "checkpoint", "evaluation", "step", "config", "restarts"):
        assert ".loop" not in _imports(TRAINING / f"{name}.py"), name
    for path in TRAINING.glob("*.py"):
        assert not any(m.startswith("..runs") for m in _imports(path)), path.name


def test_a_state_is_saved_restored_and_evaluated_without_a_trainer(tmp_path, digits):
    x, y = digits
    trainer = IICTrainer(small_config())
    last = [trainer.train_step(x[trainer._batch_indices(500, s)]) for s in range(2)][-1]
    state = trainer.state
    assert isinstance(state, TrainState) and state.steps_done == 2 and trainer.history is state.history
    checkpoint.save(state, tmp_path / "run")
    again = checkpoint.restore(tmp_path / "run")
    assert isinstance(again, TrainState) and again.steps_done == 2 and again.config == state.config
    assert again.history == state.history
    for a, b in zip(again.model.weights + again.optimizer.variables,
                    state.model.weights + state.optimizer.variables):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    dev = (x[300:500], y[300:500])  # a labelled split that choices may read, scored apart
    record = Evaluation(x[:500], 10, x[:300], y[:300], recalibrate_on=200, dev=dev)(again, last)
    assert record["step"] == 2 and again.history["evals"] == [record] and 0 <= record["acc"] <= 1
    C = np.array(record["dev_confusion"])  # digits x matched clusters: its diagonal is right
    assert C.shape == (10, 10) and C.sum() == 200 and (C.sum(axis=1) == np.bincount(y[300:500], minlength=10)).all()
    assert np.trace(C) / 200 == pytest.approx(record["dev_acc"])
    assert IICTrainer.restore(tmp_path / "run").state.steps_done == 2


def test_a_trainer_does_its_restarts(digits):
    """restarts = 2: candidates of seeds 2 and 3 (seed 1), the lowest loss trains on."""
    x = digits[0][:500]
    trainer = IICTrainer(small_config(seed=1, restarts=2, restart_steps=2))
    with pytest.raises(RuntimeError, match="restarts=2: it has no network until fit"):
        trainer.model
    with pytest.raises(ValueError, match="no longer than the candidates' 2"):
        trainer.fit(x, num_steps=2, progress=False, verbose=False)
    trainer.fit(x, num_steps=3, progress=False, verbose=False)
    choice = trainer.choice
    assert choice["seeds"] == [2, 3] and trainer.state.config.seed == choice["chosen"]
    assert choice["restart_above"] is None  # without a threshold every candidate trains
    assert trainer.config.restarts == 2 and trainer.state.config.restarts == 1
    assert int(trainer.step.numpy()) == 3
    plain = IICTrainer(dataclasses.replace(trainer.state.config))
    plain.fit(x, num_steps=3, progress=False, verbose=False)
    assert plain.history["loss"] == trainer.history["loss"]  # the chosen one is a plain run of its seed


def test_restart_above_stops_at_the_first_good_enough_candidate(digits):
    """restarts = 3 with restart_above: the seeds start in order until one's loss is <= it."""
    from iic_tutorial.training import restarts as rs

    x = digits[0][:500]

    def run(above):
        trainer = IICTrainer(small_config(seed=1, restarts=3, restart_steps=2, restart_above=above))
        trainer.fit(x, num_steps=3, progress=False, verbose=False)
        return trainer

    trainers = {-1e9: run(-1e9)}  # no loss is that low: seeds 3, 4, 5 all train
    losses = {int(s): v for s, v in trainers[-1e9].choice["loss"].items()}
    assert list(losses) == [3, 4, 5]
    for above in (max(losses.values()) + 1.0, sorted(losses.values())[1]):  # the first; the middle
        trainers[above] = run(above)
    for above, trainer in trainers.items():
        expected = []
        for seed in (3, 4, 5):  # the candidates a person would start, one after another
            expected.append(seed)
            if losses[seed] <= above:
                break
        choice = trainer.choice
        assert choice["seeds"] == expected and choice["restart_above"] == above
        assert choice["loss"] == {str(s): losses[s] for s in expected}  # a candidate is a plain run
        assert choice["chosen"] == min(expected, key=losses.get)
        assert rs.good_enough(losses[choice["chosen"]], trainer.config) == (
            min(losses[s] for s in expected) <= above)
        assert int(trainer.step.numpy()) == 3 and trainer.state.config.seed == choice["chosen"]


def test_heads_are_read_by_name(digits):
    x, y = digits[0][:200], digits[1][:200]
    model = create_model(seed=0)
    assert head_names(model) == ("Z", "Z_over")
    assert head_names(create_model(num_subheads=3)) == ("Z_1", "Z_over_1")
    swapped = keras.Model(model.input, [model.outputs[1], model.outputs[0]])  # Z_over first
    assert list(predict_heads(swapped, x)) == ["Z_over", "Z"]
    assert evaluate(swapped, x, y) == evaluate(model, x, y)
    z, z_over = split_heads([np.zeros((2, 10)), np.zeros((2, 50))])  # old callers: by position
    assert z.shape == (2, 10) and z_over.shape == (2, 50)
    unnamed = keras.Model(model.input, [keras.layers.Identity(name=f"h{i}")(o)
                                        for i, o in enumerate(model.outputs * 2)])
    with pytest.raises(ValueError, match="outputs are named Z and Z_over"):
        evaluate(unnamed, x, y)  # four outputs: which are the two scored heads is not guessed


def test_restarts_make_the_candidates_the_recorded_runs_made():
    """Every result with restarts: its candidates' seeds, folders and choice follow from its config."""
    import json

    from iic_tutorial.training import restarts as rs

    runs = Path(__file__).resolve().parent.parent / "iic_tutorial" / "pretrained" / "runs"
    paths = sorted(runs.glob("*.json"))
    records = [r for r in (json.loads(p.read_text()) for p in paths) if r.get("restarts")]
    assert records, "no result in results/runs records restarts"
    for r in records:
        config, choice = TrainConfig.from_dict(r["config"]), r["restarts"]
        seeds = rs.candidate_seeds(config)
        assert choice["seeds"] == seeds[:len(choice["seeds"])] and config.restart_steps == choice["restart_steps"]
        losses = [choice["loss"][str(s)] for s in choice["seeds"]]
        # every seed trains unless restart_above let an earlier one train on (the last started)
        assert choice["seeds"] == seeds or rs.good_enough(losses[-1], config)
        assert not any(rs.good_enough(v, config) for v in losses[:-1])
        assert rs.choose({int(s): v for s, v in choice["loss"].items()}) == choice["chosen"]
        assert rs.candidate_folder(choice["chosen"]) == f"candidate_seed{choice['chosen']}"

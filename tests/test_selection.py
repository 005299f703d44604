"""Label-free scores (iic_tutorial.selection) and how benchmarks/selection.py judges them."""

import json
from pathlib import Path

import numpy as np
import pytest

from conftest import load_benchmark
from iic_tutorial.augment import AugmentConfig
from iic_tutorial.pretrained import BENCHMARKS
from iic_tutorial.selection import SCORES, judge, label_free_scores, views_of

RESULT = Path(__file__).resolve().parent.parent / "iic_tutorial" / "pretrained" / "selection.json"


class Constant:
    """A 'model' that answers the same distribution for every image (two heads)."""

    def __init__(self, p, p_over):
        self.p, self.p_over = np.asarray(p, np.float32), np.asarray(p_over, np.float32)

    def __call__(self, x, training=False):
        n = len(x)
        return [np.tile(self.p, (n, 1)), np.tile(self.p_over, (n, 1))]

    layers = []


def test_a_model_that_ignores_its_input_scores_zero_information():
    p = np.array([0.7, 0.2, 0.1])
    scores = label_free_scores(Constant(p, np.full(5, 0.2)), np.zeros((30, 28, 28, 1), np.float32))
    assert set(scores) == set(SCORES)
    for name in ("mi_fast", "mi_mild", "mi_article", "mi_views", "mi_over_fast"):
        assert abs(scores[name]) < 1e-6, name
    assert scores["agreement_fast"] == 1.0  # always the same cluster, for x and for x'
    assert scores["H_Z"] == pytest.approx(-(p * np.log(p)).sum(), abs=1e-6)
    assert scores["confidence"] == pytest.approx(0.7, abs=1e-6)


def test_scores_of_the_shipped_model_are_computed_as_the_loss_computes_p(mnist):
    from iic_tutorial.data import as_images
    from iic_tutorial.pretrained import load_pretrained
    from iic_tutorial.training import predict

    model, x = load_pretrained(), as_images(mnist[0][0][:400])
    scores = label_free_scores(model, x, seeds=(3,))
    # the same number another way: P from the outer products, I = sum P ln(P / P_i P_j)
    z = predict(model, x)[0].astype(np.float64)
    z_prime = predict(model, views_of(x, AugmentConfig.fast(), 3))[0].astype(np.float64)
    P = (z[:, :, None] * z_prime[:, None, :]).mean(0)
    P = (P + P.T) / 2
    P_i, P_j = P.sum(1, keepdims=True), P.sum(0, keepdims=True)
    mask = P > 0
    assert scores["mi_fast"] == pytest.approx(float((P * np.log(P / (P_i * P_j)))[mask].sum()), abs=1e-6)
    assert scores["agreement_fast"] == pytest.approx(float(np.mean(z.argmax(1) == z_prime.argmax(1))))
    assert 1.5 < scores["mi_fast"] < np.log(10)  # a trained model: far from 0, below ln k


def test_views_are_the_same_for_the_same_seed_and_differ_for_another():
    x = np.random.default_rng(0).random((1500, 28, 28, 1), dtype=np.float32)
    a, b = views_of(x, AugmentConfig.fast(), 0), views_of(x, AugmentConfig.fast(), 0)
    np.testing.assert_array_equal(a, b)
    assert a.shape == x.shape and not np.array_equal(a, views_of(x, AugmentConfig.fast(), 1))


def test_selection_needs_a_seed():
    with pytest.raises(ValueError, match="at least one augmentation seed"):
        label_free_scores(Constant([1.0], [1.0]), np.zeros((2, 28, 28, 1), np.float32), seeds=())


def test_judge_counts_picks_pairs_and_recipes():
    accuracy = {"a_s0": 0.97, "a_s1": 0.95, "b_s0": 0.99, "b_s1": 0.85, "c": 0.30}
    score = {"a_s0": 2.0, "a_s1": 2.1, "b_s0": 2.2, "b_s1": 1.0, "c": 0.5}
    candidates = {n: {"test_accuracy": accuracy[n], "scores": {"s": score[n]}} for n in accuracy}
    j = judge(candidates, "s")
    assert (j["pick"], j["best"], j["regret"]) == ("b_s0", "b_s0", 0.0)
    # 10 pairs, all at least 0.5 points apart; only (a_s0, a_s1) is ordered wrongly
    assert j["pairs"] == 10 and j["pairs_ordered_right"] == pytest.approx(0.9)
    # of them between runs of 90 % or more: (a_s0, a_s1) wrong, (a_s0, b_s0) and (a_s1, b_s0) right
    assert j["good_pairs"] == 3 and j["good_pairs_ordered_right"] == pytest.approx(2 / 3)
    assert (j["within_recipe_right"], j["within_recipe_groups"]) == (1, 2)
    assert j["within_recipe"]["a"] == {"pick": "a_s1", "best": "a_s0", "regret": pytest.approx(0.02)}


def test_the_committed_selection_result_is_judged_from_its_own_candidates():
    if not RESULT.exists():
        pytest.skip("iic_tutorial/pretrained/selection.json is written by benchmarks/selection.py")
    result = json.loads(RESULT.read_text())
    assert set(result["judged"]) == set(SCORES)
    for name, judged in result["judged"].items():
        assert judged == json.loads(json.dumps(judge(result["candidates"], name))), name


@pytest.mark.slow
def test_ship_model_chooses_by_the_criterion_and_a_dry_run_writes_nothing(tmp_path, monkeypatch,
                                                                          capsys, digits):
    import dataclasses

    from iic_tutorial import selection
    from iic_tutorial.pretrained import _folder, weights_path
    from iic_tutorial.training import IICTrainer, TrainConfig

    from iic_tutorial.model import create_model

    ship = load_benchmark("ship_model")
    monkeypatch.setattr(selection, "IMAGES", 300)  # a quick score: 300 unlabelled images
    runs = []
    for seed, trained in ((0, False), (1, True)):  # one step from scratch / from the shipped weights
        config = dataclasses.replace(TrainConfig.fast(seed=seed), batch_size=100, precision="fp32")
        model = create_model(seed=seed)
        if trained:
            model.load_weights(str(weights_path("fast")))
        trainer = IICTrainer(config, model=model)
        trainer.fit(digits[0][:500], num_steps=1, progress=False, verbose=False)
        trainer.save(tmp_path / f"r{seed}")
        runs.append(tmp_path / f"r{seed}")
    shipped = {p.name: p.stat().st_mtime_ns for p in _folder().iterdir()}
    assert ship.main([*map(str, runs), "--name", "fast", "--dry-run"]) == 0
    out = capsys.readouterr().out
    values = {r: float(out.split(f"{r}: {selection.CRITERION} = ")[1].split()[0]) for r in runs}
    assert values[runs[0]] < 0.5 < 1.5 < values[runs[1]]  # near-uniform vs trained outputs
    assert f"chosen without labels: {runs[1]}" in out
    assert {p.name: p.stat().st_mtime_ns for p in _folder().iterdir()} == shipped


@pytest.mark.slow
def test_selection_keeps_the_models_scored_before_and_scores_each_model_once(tmp_path, monkeypatch,
                                                                           digits):
    import dataclasses

    from iic_tutorial import selection
    from iic_tutorial.pretrained import PRETRAINED, pretrained_info
    from iic_tutorial.training import IICTrainer, TrainConfig

    bench = load_benchmark("selection")
    monkeypatch.setattr(selection, "IMAGES", 300)  # a quick score: 300 unlabelled images
    monkeypatch.setattr(bench, "OUT", tmp_path / "selection.json")
    run = tmp_path / "runs" / "tiny_s0"  # the one run at hand: one step from scratch
    trainer = IICTrainer(dataclasses.replace(TrainConfig.fast(seed=0), batch_size=100,
                                             precision="fp32"))
    trainer.fit(digits[0][:500], num_steps=1, progress=False, verbose=False)
    trainer.save(run)
    (run / "result.json").write_text(json.dumps({"steps": 1, "date": "now", "command": "tiny"}))
    # scored before, folders gone: a run, and the runs of the shipped models
    before = {"steps": 4000, "date": "then", "command": "an older run", "test_accuracy": 0.99,
              "scores": {s: 1.0 + i for i, s in enumerate(SCORES)}}
    shipped_runs = {info["run"]: {**before, "steps": info["steps"], "date": info["date"]}
                    for info in map(pretrained_info, PRETRAINED)}
    gone = {"gone_s0": before, **shipped_runs}
    (tmp_path / "selection.json").write_text(json.dumps(
        {"images": "the first 300 training images (no labels)", "candidates": gone}))

    assert bench.main([str(run)]) == 0
    result = json.loads((tmp_path / "selection.json").read_text())
    assert set(result["candidates"]) == {*gone, "tiny_s0"}  # no shipped model scored twice
    assert all(result["candidates"][n] == c for n, c in gone.items())  # kept as they were
    tiny = result["candidates"]["tiny_s0"]
    assert tiny["scored_revision"] == result["revision"] and set(tiny["scores"]) == set(SCORES)
    assert tiny["scores"]["mi_fast"] < 0.5  # one step from scratch: near-uniform outputs
    assert result["judged"]["mi_fast"]["pick"] != "tiny_s0"
    assert result["judged"]["mi_fast"] == json.loads(json.dumps(
        judge(result["candidates"], "mi_fast")))


@pytest.mark.parametrize("name", [n for n in BENCHMARKS if n.startswith("subheads")])
def test_the_committed_subhead_results_choose_the_lowest_loss(name):
    from iic_tutorial.pretrained import benchmark, experiment_results

    result = benchmark(name)
    collected = {r["name"]: r for r in experiment_results()}
    assert result["runs"], f"iic_tutorial/pretrained/{name}.json holds no run"
    for name, run in result["runs"].items():
        h = len(run["loss"])
        assert h >= 2 and len(run["test_accuracy"]) == h, name
        assert run["chosen"] == int(np.argmin(run["loss"])), name  # the label-free choice
        assert run["best"] == int(np.argmax(run["test_accuracy"])), name
        assert all(0 <= a <= 1 for a in run["test_accuracy"]) and all(l < 0 for l in run["loss"])
        # the chosen sub-head is the network the run saved: its accuracy is the run's result's
        assert run["test_accuracy"][run["chosen"]] == pytest.approx(
            collected[name]["test_accuracy"], abs=1e-4), name
        assert run["steps"] == collected[name]["steps"], name

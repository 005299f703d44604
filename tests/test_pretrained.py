"""The shipped models: load, run in inference mode, and reach the accuracy they state."""

import numpy as np
import pytest

from iic_tutorial.metrics import cluster_accuracy
from iic_tutorial.pretrained import (
    DEFAULT,
    PRETRAINED,
    experiment_groups,
    experiment_name,
    experiment_results,
    load_pretrained,
    model_files,
    pretrained_history,
    pretrained_info,
    weights_path,
)

#: What each shipped model must reach on the 10k test set in inference mode: the default
#: (the best recipe) issue 11's bar, the fast recipe's the project's first target.
TARGET = {"long_band": 0.99, "fast": 0.975}


@pytest.fixture(scope="module", params=sorted(PRETRAINED))
def name(request):
    return request.param


@pytest.fixture(scope="module")
def model(name):
    return load_pretrained(name)


def test_every_shipped_model_has_a_target_and_its_files():
    assert set(TARGET) == set(PRETRAINED) and DEFAULT in PRETRAINED
    for name in PRETRAINED:
        assert weights_path(name) == model_files(name)["weights"]
        assert all(path.is_file() for path in model_files(name).values())
        assert pretrained_info(name)["run"]


def test_unknown_name_is_refused_with_the_names_shipped():
    with pytest.raises(ValueError, match="no shipped model named 'best'.*'long_band', 'fast'"):
        load_pretrained("best")


def test_default_is_the_most_accurate_shipped_model():
    accuracy = {n: pretrained_info(n)["test_accuracy"] for n in PRETRAINED}
    assert max(accuracy, key=accuracy.get) == DEFAULT
    assert pretrained_info()["run"] == pretrained_info(DEFAULT)["run"]


def test_outputs_in_inference_mode(model, digits):
    x, _ = digits
    z, z_over = model(x[:32], training=False)
    assert z.shape == (32, 10) and z_over.shape == (32, 50)
    np.testing.assert_allclose(z.numpy().sum(axis=1), 1, atol=1e-5)


def test_reaches_stated_accuracy_on_fixed_2k_subset(model, name, digits):
    x, y = digits  # the first 2000 test images
    z, _ = model(x, training=False)
    acc = cluster_accuracy(y, z.numpy().argmax(axis=1))
    info = pretrained_info(name)
    # the stated accuracy on this subset, measured when the model was shipped
    assert acc == pytest.approx(info["test_first2000_accuracy"], abs=0.002)


def test_reproduces_stated_accuracy_on_the_whole_test_set(model, name, mnist):
    _, (x_test, y_test) = mnist
    z, _ = model(x_test.astype(np.float32)[..., None] / 255.0, training=False)
    acc = cluster_accuracy(y_test.astype(np.int64), z.numpy().argmax(axis=1))
    assert acc == pytest.approx(pretrained_info(name)["test_accuracy"], abs=0.001)
    # the project's target for this shipped model, in inference mode
    assert acc >= TARGET[name]


def test_provenance_describes_a_real_run(name):
    info = pretrained_info(name)
    assert info["command"].startswith("python -m iic_tutorial train")
    assert f"--out runs/{info['run']} " in info["command"] + " "
    assert info["steps"] > 0 and info["wall_time_s"] > 0
    scores = info["label_free_scores"]  # chosen without labels: the best score of its candidates
    assert len(scores) >= 3 and max(scores, key=scores.get) == info["run"]
    history = pretrained_history(name)
    assert history["evals"][-1]["step"] == info["steps"]
    assert len(history["loss"]) == info["steps"]


def test_experiment_results_are_real_runs():
    runs = experiment_results()
    assert runs, "no collected experiments"
    for run in runs:
        assert run["command"].startswith("python -m iic_tutorial train")
        assert run["curve"][-1]["step"] == run["steps"]


@pytest.mark.parametrize("name, experiment", [
    ("sweep_a5_s2", "sweep_a5"), ("final_s0", "final"), ("view4_noise_s12", "view4_noise"),
    ("shipped", "shipped"), ("a_seed", "a_seed"), ("_s1", "_s1"),
])
def test_experiment_name_strips_only_a_seed_suffix(name, experiment):
    assert experiment_name(name) == experiment


def test_experiment_groups_sort_seeds_and_cover_every_run():
    fake = [{"name": n, "config": {"seed": s}} for n, s in
            [("b_s2", 2), ("b_s0", 0), ("a_s1", 1), ("b_s1", 1)]]
    groups = experiment_groups(fake)
    assert list(groups) == ["a", "b"]
    assert [r["name"] for r in groups["b"]] == ["b_s0", "b_s1", "b_s2"]
    shipped = experiment_groups()
    assert sum(len(v) for v in shipped.values()) == len(experiment_results())


def test_head_restarts_come_from_the_shipped_recipe():
    from iic_tutorial.pretrained import head_restarts

    r = head_restarts()
    assert r["command"].startswith("python benchmarks/head_restarts.py runs/")
    assert len(r["results"]) == r["heads"] and 0 <= r["lowest_loss_head"] < r["heads"]
    losses = [h["loss"] for h in r["results"]]
    assert losses[r["lowest_loss_head"]] == min(losses)
    for h in r["results"]:
        c = h["largest_confusion"]
        assert 0 <= h["test_accuracy"] <= 1 and c["digit"] != c["cluster_of"]

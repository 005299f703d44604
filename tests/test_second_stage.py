"""benchmarks/second_stage.py: how sure the 10-cluster head is of its mistakes, and the
50-cluster head's ceiling."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from conftest import load_benchmark
from iic_tutorial.data import dev_indices

SHIPPED = Path(__file__).resolve().parents[1] / "iic_tutorial" / "pretrained"
second_stage = load_benchmark("second_stage")


def outputs(nines_in_eights: int, ones_in_twos: int, sevens_unsure: int, seed: int = 0):
    """Softmax outputs of ten digits of 100 images: each digit in its own cluster (ids
    shuffled, as a network numbers them) with probability 1 - 1e-4; ``nines_in_eights``
    nines in the eights' cluster at 0.995, ``ones_in_twos`` ones in the twos' at 0.95 and
    ``sevens_unsure`` sevens in the ones' at 0.5 (the rest of each row spread evenly)."""
    y = np.repeat(np.arange(10), 100)
    cluster, p = y.copy(), np.full(len(y), 1 - 1e-4)
    for digit, into, n, prob in ((9, 8, nines_in_eights, 0.995), (1, 2, ones_in_twos, 0.95),
                                 (7, 1, sevens_unsure, 0.5)):
        rows = np.flatnonzero(y == digit)[:n]
        cluster[rows], p[rows] = into, prob
    ids = np.random.default_rng(seed).permutation(10)[cluster]
    Z = np.repeat(((1 - p) / 9)[:, None], 10, axis=1)
    Z[np.arange(len(y)), ids] = p
    return Z, y


def test_mistakes_above_each_threshold_are_counted_by_group():
    Z, y = outputs(nines_in_eights=6, ones_in_twos=4, sevens_unsure=3)
    ten = second_stage.confidence(Z, y, thresholds=(0.9, 0.99, 0.999))
    assert ten["mistakes"] == 13 and ten["accuracy"] == pytest.approx(987 / 1000)
    assert (ten["nines_in_eights"], ten["ones_in_twos"]) == (6, 4)
    at = ten["above"]
    assert (at["0.9"]["mistakes"], at["0.99"]["mistakes"], at["0.999"]["mistakes"]) == (10, 6, 0)
    assert (at["0.99"]["nines_in_eights"], at["0.99"]["ones_in_twos"]) == (6, 0)
    assert at["0.9"]["ones_in_twos"] == 4
    assert at["0.99"]["share"] == pytest.approx(993 / 1000)
    assert at["0.99"]["accuracy"] == pytest.approx(987 / 993)
    assert at["0.999"]["share"] == pytest.approx(987 / 1000) and at["0.999"]["accuracy"] == 1.0


def test_no_image_above_a_threshold_has_no_accuracy_and_bad_shapes_say_so():
    Z, y = outputs(0, 0, 0)
    assert second_stage.confidence(Z, y, thresholds=(0.99999,))["above"]["0.99999"] == {
        "share": 0.0, "accuracy": None, "mistakes": 0, "nines_in_eights": 0, "ones_in_twos": 0}
    with pytest.raises(ValueError, match=r"Z must be \(n, k\) outputs of the images y \(n,\); "
                                         r"got \(1000,\) and \(1000,\)"):
        second_stage.confidence(Z[:, 0], y)


def test_the_fifty_cluster_ceiling_names_each_cluster_by_its_most_frequent_digit():
    y = np.array([0, 0, 0, 1, 1, 1, 1, 2, 2, 2])
    z_over = np.array([5, 5, 7, 7, 7, 7, 9, 9, 9, 40])  # 5: 0 0; 7: 0 1 1 1; 9: 1 2 2; 40: 2
    assert second_stage.over_ceiling(z_over, y) == {"accuracy": pytest.approx(8 / 10), "clusters": 4}


def _run(tmp_path: Path) -> Path:
    """A finished run folder holding the shipped fast model's weights and a result naming its network."""
    run = tmp_path / "fast_s0"
    run.mkdir()
    shutil.copy(SHIPPED / "iic_mnist_fast.weights.h5", run / "model.weights.h5")
    config = json.loads((SHIPPED / "iic_mnist_fast.json").read_text())["config"]
    (run / "result.json").write_text(json.dumps({"config": config, "steps": 1600, "seed": 0,
                                                 "experiment": "erase", "precision": "fp32"}))
    return run


def test_a_run_is_read_from_its_weights(mnist, tmp_path):
    (x_train, y_train), _ = mnist
    dev = dev_indices()[:600]  # a part of the split: the same code, a tenth of the time
    e = second_stage.entry(_run(tmp_path), x_train[dev], y_train[dev])
    from iic_tutorial import load_pretrained  # the same network, scored another way
    from iic_tutorial.metrics import cluster_accuracy, contingency
    from iic_tutorial.training.evaluation import predict
    Z, Z_over = predict(load_pretrained("fast"), x_train[dev])[:2]
    assert e["ten"]["accuracy"] == pytest.approx(cluster_accuracy(y_train[dev], Z.argmax(1)))
    C = contingency(y_train[dev], Z_over.argmax(1))  # digits x 50-clusters
    assert e["fifty"]["accuracy"] == pytest.approx(C.max(axis=0).sum() / len(dev))
    assert (e["experiment"], e["seed"], e["steps"]) == ("erase", 0, 1600)


def test_a_checkout_with_uncommitted_changes_is_refused(monkeypatch, tmp_path):
    import iic_tutorial.runs.probe as probe

    monkeypatch.setattr(probe, "git_revision", lambda: "abc1234-dirty")
    out = tmp_path / "second_stage.json"
    with pytest.raises(SystemExit, match=r"abc1234-dirty\) has uncommitted changes: commit them"):
        second_stage.main([str(_run(tmp_path)), "--out", str(out)])
    assert not out.exists()

"""benchmarks/dev_accuracy.py: a finished run's weights scored on the dev split, into its result."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from conftest import load_benchmark
from iic_tutorial.data import DEV_RULE, dev_indices
from iic_tutorial.metrics import cluster_accuracy

SHIPPED = Path(__file__).resolve().parents[1] / "iic_tutorial" / "pretrained"


@pytest.fixture(scope="module")
def dev_accuracy():
    return load_benchmark("dev_accuracy")


def _run(tmp_path: Path, dev_split: str) -> Path:
    """A run folder holding the shipped fast model's weights and a result recording its network."""
    run = tmp_path / "run"
    run.mkdir()
    shutil.copy(SHIPPED / "iic_mnist_fast.weights.h5", run / "model.weights.h5")
    config = json.loads((SHIPPED / "iic_mnist_fast.json").read_text())["config"]
    curve = [{"step": 100, "acc": 0.9, "dev_acc": 0.5}]
    (run / "result.json").write_text(json.dumps({"config": config, "curve": curve, "dev_split": dev_split}))
    return run


@pytest.mark.parametrize("split", [DEV_RULE, "every 12th training image"])
def test_the_weights_dev_accuracy_and_confusion_go_into_the_result(dev_accuracy, mnist, tmp_path, split):
    (x_train, y_train), _ = mnist
    dev = dev_indices()[:600]  # a part of the split: the same code, a tenth of the time
    run = _run(tmp_path, split)
    acc = dev_accuracy.rescore(run, x_train[dev], y_train[dev])
    result = json.loads((run / "result.json").read_text())
    C = np.array(result["final_dev_confusion"])  # digits x matched clusters
    assert C.sum(axis=1).tolist() == np.bincount(y_train[dev], minlength=10).tolist()
    assert result["dev_accuracy"] == acc == pytest.approx(np.trace(C) / len(dev))
    from iic_tutorial import load_pretrained  # scored another way: the shipped model's predictions
    from iic_tutorial.training.evaluation import predict
    pred = predict(load_pretrained("fast"), x_train[dev])[0].argmax(1)
    assert acc == pytest.approx(cluster_accuracy(y_train[dev], pred))
    assert acc > 0.9 and result["dev_split"] == DEV_RULE and result["dev_scored_at"]
    # a curve point measured on the split the result names is kept; on an earlier one, removed
    assert ("dev_acc" in result["curve"][0]) == (split == DEV_RULE)


def test_a_checkout_with_uncommitted_changes_is_refused(dev_accuracy, monkeypatch, tmp_path):
    run = _run(tmp_path, DEV_RULE)
    before = (run / "result.json").read_text()
    monkeypatch.setattr(dev_accuracy, "git_revision", lambda: "abc1234-dirty")
    with pytest.raises(SystemExit, match=r"abc1234-dirty\) has uncommitted changes: commit them"):
        dev_accuracy.main([str(run)])
    assert (run / "result.json").read_text() == before  # nothing scored, nothing written

"""Scenes, network, training, checkpoints, scores and the train-seg command of segmentation IIC."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import numpy as np
import pytest

from iic_tutorial.segmentation.evaluation import scores
from iic_tutorial.segmentation.scenes import best_threshold, make_scenes


@pytest.fixture(scope="module")
def scenes(mnist):
    _, (x_test, y_test) = mnist
    return make_scenes(x_test[:500], y_test[:500], 40, seed=3)


def test_scenes_are_deterministic_and_their_truths_agree(scenes, mnist):
    _, (x_test, y_test) = mnist
    again = make_scenes(x_test[:500], y_test[:500], 40, seed=3)
    np.testing.assert_array_equal(again.x, scenes.x)
    assert scenes.x.shape == (40, 64, 64, 1) and scenes.x.dtype == np.float32
    assert 0 <= scenes.x.min() and scenes.x.max() <= 1
    np.testing.assert_array_equal(scenes.stroke == 1, scenes.digit > 0)
    assert 0.15 < scenes.stroke.mean() < 0.45  # strokes are a minority, not a sliver
    assert set(np.unique(scenes.digit)) <= set(range(11))
    assert len(np.unique(scenes.digit)) >= 8  # most digits appear


def test_a_threshold_cannot_segment_the_scenes(scenes):
    """Even chosen with the labels, the best brightness threshold is poor (mIoU < 0.5),
    since half of the scenes are inverted and the texture is as bright as the ink."""
    best = best_threshold(scenes.x, scenes.stroke)
    assert best["miou"] < 0.5
    assert best["pixel_accuracy"] < 0.8


def test_scores_match_clusters_and_compute_iou():
    truth = np.array([0, 0, 0, 1, 1, 1, 1, 0])
    clusters = 1 - truth  # perfect up to renaming
    s = scores(truth, clusters)
    assert s["pixel_accuracy"] == 1.0 and s["miou"] == 1.0 and s["mapping"] == {1: 0, 0: 1}
    clusters = np.array([1, 1, 0, 0, 0, 0, 0, 1])  # 1 of 8 wrong after matching
    s = scores(truth, clusters)
    assert s["pixel_accuracy"] == pytest.approx(7 / 8)
    # class 0: pred 0 at {0,1,7}, truth 0 at {0,1,2,7}: 3/4; class 1: pred {2..6}, truth {3..6}: 4/5
    assert s["iou"] == pytest.approx([3 / 4, 4 / 5])
    assert s["miou"] == pytest.approx((3 / 4 + 4 / 5) / 2)


def test_model_gives_per_pixel_softmax_at_input_resolution():
    from iic_tutorial.segmentation.model import create_segmentation_model

    model = create_segmentation_model(k=2, k_over=11, width=8)
    z, z_over = model(np.random.default_rng(0).uniform(size=(2, 64, 64, 1)).astype("float32"))
    assert z.shape == (2, 64, 64, 2) and z_over.shape == (2, 64, 64, 11)
    np.testing.assert_allclose(np.asarray(z).sum(-1), 1.0, atol=1e-5)
    assert not any("pool" in layer.name for layer in model.layers)
    with pytest.raises(ValueError, match="at least 2 clusters"):
        create_segmentation_model(k=1)


def test_view_and_mask(scenes):
    from iic_tutorial.segmentation.train import SegConfig, make_view

    config = SegConfig(invert_p=0.0, noise=0.0, contrast=0.0, brightness=0.0, max_degrees=0,
                       scale_low=1.0, scale_high=1.0, flip_p=0.0)
    x_view, A12, A21, mask = make_view(scenes.x[:4], config, np.random.default_rng(0))
    np.testing.assert_allclose(x_view, scenes.x[:4], atol=1e-5)  # the identity view
    assert mask.shape == (4, 64, 64) and mask.min() == 1
    config = SegConfig()
    x_view, A12, A21, mask = make_view(scenes.x[:4], config, np.random.default_rng(1))
    assert 0.3 < mask.mean() < 1 and x_view.shape == (4, 64, 64, 1)


def test_train_seg_checkpoints_resumes_and_writes_a_result(tmp_path, monkeypatch):
    from iic_tutorial.__main__ import main
    from iic_tutorial.segmentation.train import SegTrainer

    out = tmp_path / "seg"
    args = ["train-seg", "--steps", "2", "--batch-size", "2", "--num-scenes", "8",
            "--eval-scenes", "4", "--eval-every", "2", "--width", "8", "--out", str(out)]
    assert main(args) == 0
    first = json.loads((out / "result.json").read_text())
    for field in ("command", "revision", "hardware", "date", "config", "steps", "wall_time_s",
                  "pixel_accuracy", "miou", "digit_pixel_accuracy", "curve"):
        assert field in first
    assert first["steps"] == 2 and first["command"].startswith("python -m iic_tutorial train-seg")
    # the same command with more steps goes on from the checkpoint at step 2
    args[2] = "4"
    assert main(args) == 2  # another setting than the folder's: refused
    trainer = SegTrainer.restore(out)
    assert int(trainer.step.numpy()) == 2 and trainer.history[-1]["step"] == 2
    assert (out / "model.weights.h5").is_file()
    (out / "state.json").write_text("{not json")
    with pytest.raises(ValueError, match="not a readable training state"):
        SegTrainer.restore(out)


def test_a_resumed_run_trains_what_an_unbroken_one_does(scenes):
    """All randomness of a step comes from (seed, step): stop at 2, resume, end where one
    run of 4 steps ends."""
    from iic_tutorial.segmentation.train import SegConfig, SegTrainer

    config = SegConfig.smoke(steps=4, eval_every=2)
    train, test = scenes[:16], scenes[16:20]
    whole = SegTrainer(config)
    whole.fit(train, test, log=None)
    parts = SegTrainer(SegConfig.smoke(steps=2, eval_every=2))
    parts.fit(train, test, log=None)
    with tempfile.TemporaryDirectory() as d:
        parts.save(d)
        state = json.loads(Path(d, "state.json").read_text())
        state["config"]["steps"] = 4  # the same run, asked to go on to step 4
        Path(d, "state.json").write_text(json.dumps(state))
        resumed = SegTrainer.restore(d)
    resumed.fit(train, test, log=None)
    assert resumed.history[-1]["loss"] == pytest.approx(whole.history[-1]["loss"], abs=1e-4)

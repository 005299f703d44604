import dataclasses

import numpy as np
import pytest

from iic_tutorial.training import IICTrainer, TrainConfig, evaluate, predict, recalibrate_batchnorm


def small_config(**changes):
    """The fast recipe with alpha = 1 at a size that trains in seconds: 50 images x 5 copies."""
    settings = {"batch_size": 250, "copies": 5, "alpha": 1.0, "alpha_over": None, **changes}
    return dataclasses.replace(TrainConfig.fast(seed=0), **settings)


@pytest.fixture(scope="module")
def trained(digits):
    """A trainer after 30 real steps on 2000 MNIST images (labels only to monitor).

    In fp32 with Keras's BatchNorm: the numerics these checks of a 30-step model were
    written for (in bf16 the 50-cluster head is still near uniform after 30 steps).
    """
    x, y = digits
    trainer = IICTrainer(small_config(lr=1e-3, precision="fp32", fused_batchnorm=False))
    trainer.fit(x, num_steps=30, x_eval=x[:1000], y_eval=y[:1000], eval_every=15,
                track_raw_bn=True, progress=False, verbose=False)
    return trainer


def test_training_lowers_the_loss(trained):
    loss = np.array(trained.history["loss"])
    assert len(loss) == 30
    assert loss[-5:].mean() < loss[:5].mean() - 0.2
    assert all(np.isfinite(loss))


def test_history_records_evaluations(trained):
    evals = trained.history["evals"]
    assert [r["step"] for r in evals] == [15, 30]
    r = evals[-1]
    assert np.array(r["P"]).shape == (10, 10) and np.isclose(np.sum(r["P"]), 1, atol=1e-4)
    assert 0.1 <= r["acc"] <= 1 and 0 <= r["nmi"] <= 1
    assert np.array(r["confusion"]).sum() == 1000
    assert r["epoch"] == pytest.approx(30 / (2000 // 50))
    assert r["wall_time"] > 0


def test_train_step_changes_both_heads(digits):
    trainer = IICTrainer(small_config())
    before = {v.path: v.numpy().copy() for v in trainer.model.trainable_variables}
    trainer.train_step(digits[0][:50])
    changed = {p for p, v in ((v.path, v.numpy()) for v in trainer.model.trainable_variables)
               if not np.array_equal(v, before[p])}
    assert any(p.startswith("Z/") for p in changed), changed
    assert any(p.startswith("Z_over/") for p in changed), changed
    assert any(p.startswith("conv1/") for p in changed)


def test_without_over_clustering_its_head_is_untouched(digits):
    trainer = IICTrainer(small_config(over_clustering=False))
    head = trainer.model.get_layer("Z_over").kernel.numpy().copy()
    trainer.train_step(digits[0][:50])
    np.testing.assert_array_equal(trainer.model.get_layer("Z_over").kernel.numpy(), head)


def test_batchnorm_recalibration_fixes_inference_mode(trained, digits):
    """The pitfall: moving averages lag, so training=False disagrees with batch statistics."""
    x = digits[0]
    model = trained.model
    # spoil the moving averages the way a short run leaves them, then recalibrate
    for layer in model.layers:
        if layer.name.startswith("bn"):
            layer.moving_mean.assign(np.zeros(layer.moving_mean.shape, np.float32))
            layer.moving_variance.assign(np.ones(layer.moving_variance.shape, np.float32))
    z_batch = predict(model, x, bn="batch")[0]
    z_stale = predict(model, x, bn="inference")[0]
    assert np.mean(z_stale.argmax(1) == z_batch.argmax(1)) < 0.9
    recalibrate_batchnorm(model, x)
    z_fixed = predict(model, x, bn="inference")[0]
    assert np.mean(z_fixed.argmax(1) == z_batch.argmax(1)) > 0.97
    # predict(bn="batch") must not have changed the moving averages
    np.testing.assert_allclose(predict(model, x[:100], bn="inference")[0], z_fixed[:100], atol=1e-5)


def test_checkpoint_resume_continues_not_restarts(digits, tmp_path):
    x = digits[0][:500]
    straight = IICTrainer(small_config())
    straight.fit(x, num_steps=4, progress=False, verbose=False)

    first = IICTrainer(small_config())
    first.fit(x, num_steps=2, checkpoint_dir=tmp_path, progress=False, verbose=False)
    resumed = IICTrainer.restore(tmp_path)
    assert int(resumed.step.numpy()) == 2 and len(resumed.history["loss"]) == 2
    resumed.fit(x, num_steps=4, progress=False, verbose=False)
    assert int(resumed.step.numpy()) == 4
    np.testing.assert_allclose(resumed.history["loss"], straight.history["loss"], rtol=1e-4, atol=1e-5)
    for a, b in zip(resumed.model.get_weights(), straight.model.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-5)


def test_restore_missing_checkpoint_is_clear(tmp_path):
    with pytest.raises(FileNotFoundError, match="no checkpoint"):
        IICTrainer.restore(tmp_path)


def test_config_validation_and_round_trip():
    with pytest.raises(ValueError, match="multiple of copies"):
        TrainConfig(batch_size=1001, copies=5)
    with pytest.raises(ValueError, match="alpha and alpha_over must be >= 0"):
        TrainConfig(alpha=-1)
    c = TrainConfig.fast(alpha=10, seed=3)
    assert TrainConfig.from_dict(c.to_dict()) == c
    assert c.images_per_step == 200


def test_fast_recipe_with_erasing_is_what_the_shipped_command_trained():
    import json

    from iic_tutorial.pretrained import pretrained_info

    info = pretrained_info("fast")
    assert "--erase 0.5" in info["command"]
    # trained before the fused BatchNorm and the precision setting: Keras BN, fp32
    c = dataclasses.replace(TrainConfig.fast(seed=info["config"]["seed"], erase_p=0.5),
                            lr_drop_step=900, fused_batchnorm=False, precision="fp32")
    assert "fused_batchnorm" not in info["config"]
    assert c == TrainConfig.from_dict(json.loads(json.dumps(info["config"])))
    assert TrainConfig.fast().view.erase_p == 0  # the plain fast recipe does not erase


def test_long_band_recipe_is_what_the_default_shipped_command_trained():
    import json

    from iic_tutorial.pretrained import DEFAULT, pretrained_info
    from iic_tutorial.training.config import RECIPE_STEPS

    info = pretrained_info()
    assert DEFAULT == "long_band" and info["name"] == "long_band"
    # the seeds 0-2 of long_band were trained as --recipe long --band 0.5, before the recipe
    # had its name, so the stored name may be "long"; every other setting must be the recipe's
    shipped = TrainConfig.from_dict(json.loads(json.dumps(info["config"])))
    named = dataclasses.replace(TrainConfig.long_band(seed=shipped.seed), precision="bf16")
    assert named.same_settings(shipped)
    assert info["steps"] == RECIPE_STEPS["long_band"]


def test_fit_argument_errors(digits):
    trainer = IICTrainer(small_config())
    with pytest.raises(ValueError, match="num_epochs or num_steps"):
        trainer.fit(digits[0][:100])
    with pytest.raises(ValueError, match="y_eval needs x_eval"):
        trainer.fit(digits[0][:100], num_steps=1, y_eval=digits[1][:100])
    with pytest.raises(ValueError, match=r"must lie in \[0, 1\]"):
        trainer.fit(digits[0][:100] * 255, num_steps=1)


class _Oracle:
    """A stand-in network whose heads read the label written into pixel (0, 0) of each image.

    10-cluster head: one-hot of ``perm[label]``; 50-cluster head: one-hot of
    ``over[label] * 5 + (image index within its batch) % 5`` -- five clusters per class,
    or per merged class where ``over`` sends two labels to one.
    """

    def __init__(self, perm, over):
        self.perm, self.over = np.asarray(perm), np.asarray(over)

    def __call__(self, x, training=False):
        label = np.rint(np.asarray(x)[:, 0, 0, 0] * 10).astype(int)
        z = np.eye(10, dtype=np.float32)[self.perm[label]]
        z_over = np.eye(50, dtype=np.float32)[self.over[label] * 5 + np.arange(len(x)) % 5]
        return [z, z_over]


def test_evaluate_on_perfect_clusters_is_one():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 10, 300)
    x = np.zeros((300, 28, 28, 1), np.float32)
    x[:, 0, 0, 0] = y / 10
    r = evaluate(_Oracle(rng.permutation(10), np.arange(10)), x, y, batch_size=64)
    assert set(r) == {"acc", "nmi", "acc_over", "confusion"}
    assert r["acc"] == 1 and r["acc_over"] == 1 and abs(r["nmi"] - 1) < 1e-12
    np.testing.assert_array_equal(np.diag(r["confusion"]), np.bincount(y, minlength=10))

    # merge 7 into 1's five over-clusters: many-to-one gives each of them to its majority class
    merged = evaluate(_Oracle(np.arange(10), np.where(np.arange(10) == 7, 1, np.arange(10))), x, y,
                      batch_size=1000)
    sub = np.arange(len(y)) % 5
    lost = sum(min(((y == 1) & (sub == s)).sum(), ((y == 7) & (sub == s)).sum()) for s in range(5))
    assert lost > 0 and merged["acc"] == 1
    assert merged["acc_over"] == pytest.approx(1 - lost / len(y))


def test_evaluate_a_trained_network_is_consistent(trained, digits):
    r = evaluate(trained.model, digits[0][:200], digits[1][:200])
    confusion = np.array(r["confusion"])
    assert confusion.shape == (10, 10) and confusion.sum() == 200
    assert r["acc"] == pytest.approx(np.trace(confusion) / 200)  # matched order: hits on the diagonal
    assert 0 <= r["nmi"] <= 1 and 0 < r["acc_over"] <= 1


def test_subheads_are_chosen_by_lowest_recent_loss(digits):
    trainer = IICTrainer(small_config(num_subheads=2))
    trainer.fit(digits[0][:500], num_steps=2, progress=False, verbose=False)
    assert np.array(trainer.history["subhead_losses"]).shape == (2, 4)
    trainer.history["subhead_losses"] = [[-1.0, -2.0, -3.0, -0.5]] * 3  # k: 2nd best, over: 1st
    assert trainer.best_subheads() == (1, 0)
    exported = trainer.export_model()
    z, z_over = exported(digits[0][:8], training=False)
    np.testing.assert_allclose(z.numpy(), trainer.model(digits[0][:8], training=False)[1].numpy(), atol=1e-6)
    assert z_over.shape == (8, 50)


def test_lr_drop_divides_the_learning_rate_by_ten(digits):
    trainer = IICTrainer(small_config(lr_drop_step=2))
    trainer.fit(digits[0][:200], num_steps=1, progress=False, verbose=False)
    assert float(trainer.optimizer.learning_rate) == pytest.approx(4e-4)
    trainer.fit(digits[0][:200], num_steps=3, progress=False, verbose=False)
    assert float(trainer.optimizer.learning_rate) == pytest.approx(4e-5)


def test_alpha_over_weights_only_the_over_clustering_head(digits):
    x = digits[0][:50]
    same = IICTrainer(small_config(alpha=2.0))
    split = IICTrainer(small_config(alpha=2.0, alpha_over=1.0))
    a, b = same.train_step(x), split.train_step(x)
    assert a["loss_k"] == pytest.approx(b["loss_k"], rel=1e-5)  # same weights, same data
    assert b["loss_over"] > a["loss_over"] + 0.5  # alpha 1 drops (alpha - 1)(H + H') ~ 2 ln 50
    assert TrainConfig(alpha=2, alpha_over=1).alpha_at(0, over=True) == 1.0


def test_summary_is_one_short_line(trained):
    line = trained.summary()
    assert "\n" not in line and len(line) <= 80, line
    assert line.startswith("step 30 (") and "accuracy" in line


def test_bf16_is_scoped_to_its_own_steps_or_refused(digits):
    """Where bf16 runs, it changes the numerics of its own steps only; elsewhere it is refused."""
    from iic_tutorial.training.step import bf16_runs_here

    x = digits[0][:150]

    def losses(precision):
        trainer = IICTrainer(small_config(precision=precision))
        assert trainer.precision == precision  # what the result will record is what ran
        return [trainer.train_step(x[i * 50:(i + 1) * 50])["loss"] for i in range(3)]

    before = losses("fp32")
    if bf16_runs_here():
        bf16 = losses("bf16")
        assert bf16 != before  # the rewrite really ran
        assert np.allclose(bf16, before, atol=0.05)  # and is a small change of numerics
    else:  # an fp32-only CPU: asking for bf16 is an error, not an fp32 run recorded as bf16
        with pytest.raises(ValueError, match="does not run on this machine"):
            IICTrainer(small_config(precision="bf16"))
    assert losses("fp32") == before  # an fp32 trainer after the other: bit for bit the same


def test_under_bf16_the_joint_p_is_computed_in_float64():
    import tensorflow as tf

    from iic_tutorial.losses import joint_distribution
    from iic_tutorial.training.step import bf16_runs_here, onednn_bf16 as _onednn_bf16

    rng = np.random.default_rng(0)
    z = tf.nn.softmax(rng.normal(size=(1000, 10)) * 3).numpy()
    zp = tf.nn.softmax(rng.normal(size=(1000, 10)) * 3).numpy()
    exact = z.T @ zp
    exact = (exact + exact.T) / 2
    exact /= exact.sum()
    # the switch only where the rewrite runs: under an emulated lower ISA (ONEDNN_MAX_CPU_ISA)
    # TensorFlow would still rewrite, by the real CPU's flags, and oneDNN would abort
    runs = bf16_runs_here()
    with _onednn_bf16(runs):
        p64 = tf.function(joint_distribution)(z, zp).numpy()
        p32 = tf.function(joint_distribution)(z.astype(np.float32), zp.astype(np.float32)).numpy()
    np.testing.assert_allclose(p64, exact, rtol=1e-12)
    off = np.abs(p32 - exact).max() / exact.max()
    if runs:  # why the train step casts to float64: float32 P would be rounded
        assert off > 1e-3
    else:  # no rewrite here: float32 P is float32 round-off from the exact one
        assert off < 1e-5


def test_legacy_configs_read_as_they_were_trained():
    c = TrainConfig.fast().to_dict()
    for key in ("precision", "fused_batchnorm", "validate_inputs"):
        c.pop(key)
    old = TrainConfig.from_dict(c)
    assert old.precision == "fp32" and old.fused_batchnorm is False and old.validate_inputs is False
    with pytest.raises(ValueError, match="precision must be one of"):
        TrainConfig(precision="fp16")


@pytest.mark.parametrize("fused, update_rtol", [(False, 0.02), (True, 0.1)])
def test_the_step_equals_a_reference_step_written_from_the_paper(digits, fused, update_rtol):
    """Three fp32 steps of the fast recipe against tests/helpers/reference_step.py.

    The reference shares only the views and the layers with the package: the loss is
    the official IID_loss in float64, the update its own Adam on a Keras-BatchNorm copy.
    The losses agree to 1e-5 nats (steps 2 and 3 also check the updates before them);
    the weights' change to a few percent, since Adam's first steps divide each gradient
    by its own size and so magnify round-off where a gradient is near zero (measured:
    0.5-0.8 % with Keras's BatchNorm, 4 % with the fused one, whose float32 sums differ).
    """
    from helpers.reference_step import compare

    trainer = IICTrainer(small_config(alpha=2.0, alpha_over=1.0, precision="fp32",
                                      fused_batchnorm=fused))
    compare(trainer, digits[0][:150], steps=3, loss_atol=1e-5, update_rtol=update_rtol)


def test_two_runs_in_one_process_are_equal_bit_for_bit(digits):
    """Determinism: the same config twice gives the same losses and weights, to the last bit."""
    x = digits[0][:150]

    def run():
        trainer = IICTrainer(small_config(precision="fp32"))
        losses = [trainer.train_step(x[i * 50:(i + 1) * 50])["loss"] for i in range(3)]
        return losses, [v.numpy() for v in trainer.model.trainable_variables]

    (a, wa), (b, wb) = run(), run()
    assert a == b
    for u, v in zip(wa, wb):
        np.testing.assert_array_equal(u, v)


def test_auto_precision_is_the_default_and_picks_bf16_only_where_it_runs(monkeypatch):
    import iic_tutorial.training.step as train

    assert TrainConfig().precision == TrainConfig.fast().precision == "auto"
    monkeypatch.setattr(train, "_cpu_has_bf16", lambda: True)
    monkeypatch.setattr(train, "bf16_runs_here", lambda: True)
    assert train.resolve_precision("auto") == "bf16"
    assert train.resolve_precision("bf16") == "bf16"
    assert train.resolve_precision("fp32") == "fp32"
    monkeypatch.setattr(train, "_cpu_has_bf16", lambda: False)  # AVX-512 without bf16 hardware:
    assert train.resolve_precision("auto") == "fp32"  # bf16 is emulated there, slower than fp32
    assert train.resolve_precision("bf16") == "bf16"  # but it runs, so it may be asked for
    monkeypatch.setattr(train, "bf16_runs_here", lambda: False)  # an AVX2-only CPU
    assert train.resolve_precision("auto") == "fp32"
    with pytest.raises(ValueError, match="does not run on this machine.*use precision='fp32'"):
        train.resolve_precision("bf16")
    monkeypatch.setattr(train, "_cpu_has_bf16", lambda: True)
    monkeypatch.setattr(train, "bf16_runs_here", lambda: True)
    monkeypatch.setattr(train.tf.config, "list_physical_devices",
                        lambda kind=None: ["a GPU"] if kind == "GPU" else [])
    assert train.resolve_precision("auto") == "fp32"  # no GPU mixed precision measured yet
    with pytest.raises(ValueError, match="on a GPU this project trains in fp32"):
        train.resolve_precision("bf16")  # the oneDNN switch never runs on a GPU


@pytest.mark.parametrize("isa, cap", [("", ""), ("all", ""), ("AVX2", "below-avx512"),
                                      ("SSE41", "below-avx512"), ("AVX512_CORE", "avx512"),
                                      ("AVX512_CORE_VNNI", "avx512"), ("AVX512_CORE_BF16", "bf16"),
                                      ("AVX512_CORE_AMX", "bf16"), ("AVX10_1_512", "bf16")])
def test_an_emulated_lower_isa_is_followed(monkeypatch, isa, cap):
    """ONEDNN_MAX_CPU_ISA makes oneDNN a lower CPU; the precision checks take that CPU's path."""
    import iic_tutorial.training.step as train

    monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", isa)
    assert train._isa_cap() == cap
    monkeypatch.setattr(train, "cpu_flags", lambda: {"avx2", "avx512f", "avx512_bf16"})
    assert train._cpu_has_bf16() == (cap in ("", "bf16"))


def test_bf16_probe_agrees_with_what_the_rewrite_needs():
    """bf16_runs_here() is measured; it must agree with what TensorFlow's rewrite needs.

    The rewrite runs on a CPU with AVX-512 (bf16 hardware or not: without it oneDNN
    emulates), oneDNN on and no lower ISA emulated; where it runs, a convolution -- a
    second op, not the probe's matmul -- comes out rounded.
    """
    import os

    import tensorflow as tf

    from iic_tutorial.runs import cpu_flags
    from iic_tutorial.training.step import _isa_cap, bf16_runs_here, onednn_bf16

    flags = cpu_flags()
    expected = (("avx512f" in flags or not flags) and _isa_cap() != "below-avx512"
                and os.environ.get("TF_ENABLE_ONEDNN_OPTS", "1").lower() not in ("0", "false")
                and not tf.config.list_physical_devices("GPU"))
    assert bf16_runs_here() == expected
    if expected:
        rng = np.random.default_rng(5)
        x = tf.constant(rng.normal(size=(4, 12, 12, 3)).astype(np.float32))
        w = tf.constant(rng.normal(size=(3, 3, 3, 8)).astype(np.float32))
        fp32 = tf.function(lambda x, w: tf.nn.conv2d(x, w, 1, "SAME"))(x, w).numpy()
        with onednn_bf16(True):
            bf16 = tf.function(lambda x, w: tf.nn.conv2d(x, w, 1, "SAME"))(x, w).numpy()
        assert np.abs(bf16 - fp32).max() > 1e-4 * np.abs(fp32).max()


def test_evaluate_reads_the_10_and_the_50_cluster_head_of_a_model_with_subheads(digits):
    """With h sub-heads the outputs are Z_1..Z_h, Z_over_1..Z_over_h: not the first two."""
    from iic_tutorial.model import create_model
    from iic_tutorial.training.evaluation import split_heads

    model = create_model(seed=0, num_subheads=3)
    x, y = digits[0][:100], digits[1][:100]
    outs = predict(model, x)
    z, z_over = split_heads(outs)
    assert z.shape == (100, 10) and z_over.shape == (100, 50)
    r = evaluate(model, x, y)
    assert len(r["confusion"]) == 10
    from iic_tutorial.metrics import cluster_accuracy

    assert r["acc_over"] == cluster_accuracy(y, outs[3].argmax(1), many_to_one=True)
    with pytest.raises(ValueError, match="got 3 outputs"):
        split_heads(outs[:3])


@pytest.mark.parametrize("subheads", [1, 2])
def test_self_labelling_adds_its_weighted_cross_entropy_to_the_loss(digits, subheads):
    """The loss with self_label = w is the IIC loss plus w times the mean over the 10-cluster
    sub-heads of the views' cross-entropy with the sure clusters of x, computed here from the
    network's own outputs; the IIC parts are unchanged."""
    import tensorflow as tf

    from iic_tutorial.training.step import IICStep, make_views

    config = small_config(precision="fp32", num_subheads=subheads)
    trainer = IICTrainer(config)
    x = tf.constant(digits[0][:50])
    x_view, x_prime = make_views(config, x, tf.constant([0, 0], dtype=tf.int64))
    one = [o.numpy().astype(np.float64) for o in trainer.model(x_view, training=True)]
    views = [o.numpy().astype(np.float64) for o in trainer.model(x_prime, training=True)]
    # a young network is sure of nothing: at least half of each sub-head's images above t
    t = min(float(np.median(z.max(axis=1))) for z in one[:subheads])
    labelled = IICStep(dataclasses.replace(config, self_label=0.5, self_label_threshold=t),
                       trainer.model, trainer.optimizer)
    ce = []
    for z, z_prime in zip(one[:subheads], views[:subheads]):
        z = np.repeat(z, config.copies, axis=0)
        sure = z.max(axis=1) > t
        assert sure.any()
        ce.append(-np.log(z_prime[sure, z[sure].argmax(axis=1)]).mean())
    with_labels = labelled.losses(x_view, x_prime, 1.0, 1.0)
    without = trainer.step_fn.losses(x_view, x_prime, 1.0, 1.0)
    assert float(with_labels[1]) == pytest.approx(float(without[1]), abs=1e-6)  # loss_k
    assert float(with_labels[0] - without[0]) == pytest.approx(0.5 * np.mean(ce), rel=1e-4)


def test_self_labelling_settings_are_checked():
    with pytest.raises(ValueError, match=r"self_label_threshold a probability in \[0, 1\); got 0.0, 1.0"):
        TrainConfig(self_label_threshold=1.0)
    assert "self_label=1" in TrainConfig.fast(self_label=1.0).describe()

import keras
import numpy as np
import pytest

from iic_tutorial.model import create_model


@pytest.fixture(scope="module")
def model():
    return create_model(seed=0)


def test_outputs_are_two_softmax_heads(model, digits):
    z, z_over = model(digits[0][:8], training=False)
    assert z.shape == (8, 10) and z_over.shape == (8, 50)
    np.testing.assert_allclose(z.numpy().sum(axis=1), 1, atol=1e-5)
    np.testing.assert_allclose(z_over.numpy().sum(axis=1), 1, atol=1e-5)


def test_architecture_is_the_articles(model):
    convs = [l for l in model.layers if l.name.startswith("conv")]
    assert [c.filters for c in convs] == [32, 64, 128, 256]
    assert all(c.kernel_size == (3, 3) and c.padding == "same" for c in convs)
    assert len([l for l in model.layers if l.name.startswith("bn")]) == 4
    assert len([l for l in model.layers if l.name.startswith("pool")]) == 3
    assert model.get_layer("Z_dense1").units == 128 and model.get_layer("Z_dense2").units == 64
    assert model.get_layer("Z_over_dense1").units == 128
    # trunk: 320 + 18,496 + 73,856 + 295,168 conv params; BN 4 * (32+64+128+256) * 4
    trunk = 320 + 18496 + 73856 + 295168 + 4 * 480
    heads = (256 * 128 + 128 + 128 * 64 + 64) * 2 + (64 * 10 + 10) + (64 * 50 + 50)
    assert model.count_params() == trunk + heads


def test_custom_k_and_seed_reproducible():
    a = create_model(k=3, k_over=7, seed=1)
    b = create_model(k=3, k_over=7, seed=1)
    assert a.outputs[0].shape[-1] == 3 and a.outputs[1].shape[-1] == 7
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)


def _draws() -> tuple:
    import random

    import tensorflow as tf

    # (not keras.random's global generator: Keras 3.5's set_random_seed does not reset it)
    return random.random(), float(np.random.rand()), float(tf.random.uniform(()))


def test_a_seed_fixes_the_weights_and_leaves_the_process_random_state():
    import keras

    keras.utils.set_random_seed(7)
    expected = _draws()
    keras.utils.set_random_seed(7)
    seeded = create_model(k=3, k_over=7, seed=3, num_subheads=2)
    assert _draws() == expected  # Python, NumPy and TensorFlow go on as if not called
    # the weights are those the process seeded with 3 gives (every recorded run's initial network)
    keras.utils.set_random_seed(3)
    reference = create_model(k=3, k_over=7, num_subheads=2)
    for a, b in zip(seeded.get_weights(), reference.get_weights()):
        np.testing.assert_array_equal(a, b)
    other = create_model(k=3, k_over=7, seed=4, num_subheads=2)
    assert not np.array_equal(other.get_weights()[0], seeded.get_weights()[0])


@pytest.mark.parametrize("k", [1, 0, 2.5])
def test_bad_k_is_rejected(k):
    with pytest.raises(ValueError, match="k must be an integer >= 2"):
        create_model(k=k)


def test_subheads_and_export_reproduce_the_chosen_pair(digits):
    from iic_tutorial.model import export_subheads

    model = create_model(k=10, k_over=50, seed=3, num_subheads=3)
    assert len(model.outputs) == 6
    exported = export_subheads(model, 2, 1)
    x = digits[0][:16]
    outs = model(x, training=False)
    z, z_over = exported(x, training=False)
    np.testing.assert_allclose(z.numpy(), outs[2].numpy(), atol=1e-6)
    np.testing.assert_allclose(z_over.numpy(), outs[3 + 1].numpy(), atol=1e-6)
    assert exported.count_params() == create_model().count_params()
    with pytest.raises(ValueError, match=r"sub-head indices must lie in \[0, 3\)"):
        export_subheads(model, 3, 0)


def test_fused_batchnorm_is_keras_batchnorm_to_round_off():
    import tensorflow as tf

    from iic_tutorial.model import BatchNormalization

    rng = np.random.default_rng(0)
    x = tf.constant(rng.normal(2, 3, (64, 7, 7, 16)).astype(np.float32))
    w = tf.constant(rng.normal(size=(64, 7, 7, 16)).astype(np.float32))
    gamma = rng.normal(size=16).astype(np.float32)
    out = []
    for cls in (keras.layers.BatchNormalization, BatchNormalization):
        layer = cls(momentum=0.9)
        layer.build(x.shape)
        layer.gamma.assign(gamma)
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = layer(x, training=True)
            s = tf.reduce_sum(y * w)
        grads = tape.gradient(s, [x, layer.gamma, layer.beta])
        out.append([y, *grads, layer.moving_mean, layer.moving_variance,
                    layer(x, training=False)])
    for a, b in zip(*out):
        a, b = np.asarray(a), np.asarray(b)
        np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-5 * np.abs(a).max())
    assert not np.allclose(out[0][4], 0)  # the moving mean really moved


def test_fused_batchnorm_runs_on_a_keras_without_renorm():
    """Keras before 3.14 (Colab's 3.13 among them) has no ``renorm`` attribute: the fused
    pass must still run there, and still be the fused one (not a fall-back)."""
    import tensorflow as tf

    from iic_tutorial.model import BatchNormalization

    x = tf.constant(np.random.default_rng(1).normal(1, 2, (8, 5, 5, 3)).astype(np.float32))
    layer = BatchNormalization()
    layer.build(x.shape)
    layer.__dict__.pop("renorm", None)  # as an older Keras builds the layer
    assert not hasattr(layer, "renorm")
    calls = []
    fused = tf.compat.v1.nn.fused_batch_norm
    tf.compat.v1.nn.fused_batch_norm = lambda *a, **k: calls.append(1) or fused(*a, **k)
    try:
        y = layer(x, training=True)
    finally:
        tf.compat.v1.nn.fused_batch_norm = fused
    assert calls, "the fused kernel did not run"
    mean = np.asarray(x).mean((0, 1, 2))
    std = np.sqrt(np.asarray(x).var((0, 1, 2)) + layer.epsilon)
    np.testing.assert_allclose(np.asarray(y), (np.asarray(x) - mean) / std, rtol=1e-4, atol=1e-4)


def test_weights_load_into_either_batchnorm(tmp_path):
    from iic_tutorial.model import BatchNormalization

    keras_bn = create_model(seed=1, fused_batchnorm=False)
    keras_bn.save_weights(str(tmp_path / "a.weights.h5"))
    fused = create_model(seed=2)
    assert isinstance(fused.get_layer("bn1"), BatchNormalization)
    fused.load_weights(str(tmp_path / "a.weights.h5"))
    for u, v in zip(keras_bn.get_weights(), fused.get_weights()):
        np.testing.assert_array_equal(u, v)


def test_the_flatten_variant_keeps_where_features_are():
    import numpy as np

    from iic_tutorial.model import export_subheads

    gap, flat = create_model(seed=0), create_model(seed=0, pooling="flatten")
    assert gap.get_layer("Z_dense1").kernel.shape == (256, 128)
    assert flat.get_layer("Z_dense1").kernel.shape == (3 * 3 * 256, 128)  # 3 x 3 positions kept
    x = np.random.default_rng(0).random((4, 28, 28, 1), dtype=np.float32)
    z, z_over = flat(x, training=False)
    assert z.shape == (4, 10) and z_over.shape == (4, 50)
    np.testing.assert_allclose(np.sum(z, axis=1), 1, atol=1e-5)
    # the heads get every position of the last map, not its average
    trunk = lambda m, name: keras.Model(m.input, m.get_layer(name).output)  # noqa: E731
    assert trunk(flat, "flatten")(x).shape == (4, 2304)
    subheads = create_model(seed=1, num_subheads=2, pooling="flatten")
    exported = export_subheads(subheads, 1, 0)
    np.testing.assert_allclose(exported(x, training=False)[0], subheads(x, training=False)[1], atol=1e-6)
    with pytest.raises(ValueError, match=r"pooling must be one of \('gap', 'flatten'\); got 'max'"):
        create_model(pooling="max")

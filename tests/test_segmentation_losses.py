"""The segmentation loss against a NumPy port of the official code, and the warp.

The port below follows xu-ji/IIC, ``code/utils/segmentation/IID_losses.py``
(``IID_segmentation_loss`` and ``IID_segmentation_loss_uncollapsed``, without the sparse
random translation, ``half_T_side_sparse_min = max = 0`` as in the paper's commands) and
``transforms.perform_affine_tf`` (``affine_grid`` + ``grid_sample``, bilinear, zero
padding, ``align_corners=True`` as in the PyTorch 0.4 it was written for), line by line
in channels-first layout, with a hand-written backward pass of the same computation
(checked against finite differences) for the gradients PyTorch's autograd would give.
"""

from __future__ import annotations

import sys

import numpy as np
import pytest
import tensorflow as tf

from iic_tutorial.segmentation.losses import (displacement_joints, iic_segmentation_loss,
                                              joints_to_P)
from iic_tutorial.segmentation.warp import (identity_affine, invert_affine, random_affine,
                                            valid_mask, warp)

EPS = sys.float_info.epsilon


# ----------------------------------------------------------------- the NumPy port


def sampling_matrix(theta: np.ndarray, h: int, w: int) -> np.ndarray:
    """S (h*w, h*w): grid_sample(data, affine_grid(theta)) of one image is S @ data_flat."""
    xs, ys = np.linspace(-1, 1, w), np.linspace(-1, 1, h)
    S = np.zeros((h * w, h * w))
    for y in range(h):
        for x in range(w):
            gx, gy = theta @ np.array([xs[x], ys[y], 1.0])
            ix, iy = (gx + 1) / 2 * (w - 1), (gy + 1) / 2 * (h - 1)
            x0, y0 = int(np.floor(ix)), int(np.floor(iy))
            for cy in (y0, y0 + 1):
                for cx in (x0, x0 + 1):
                    if 0 <= cx < w and 0 <= cy < h:
                        S[y * w + x, cy * w + cx] += (1 - abs(ix - cx)) * (1 - abs(iy - cy))
    return S


def perform_affine_tf(data: np.ndarray, tf_matrices: np.ndarray) -> np.ndarray:
    n, k, h, w = data.shape
    assert tf_matrices.shape == (n, 2, 3)
    return np.stack([(sampling_matrix(tf_matrices[b], h, w) @ data[b].reshape(k, -1).T).T
                     .reshape(k, h, w) for b in range(n)])


def conv_joint(a: np.ndarray, b: np.ndarray, T: int) -> np.ndarray:
    """F.conv2d(a.permute(1,0,2,3), weight=b.permute(1,0,2,3), padding=T), as (u, v, i, j)."""
    n, k, h, w = a.shape
    a_pad = np.pad(a, ((0, 0), (0, 0), (T, T), (T, T)))
    return np.array([[np.einsum("niyx,njyx->ij", a_pad[:, :, u:u + h, v:v + w], b)
                      for v in range(2 * T + 1)] for u in range(2 * T + 1)])


def official_loss(x1_outs, x2_outs, all_affine2_to_1, all_mask_img1, lamb, T, collapsed,
                  norm=None):
    """(loss, d loss / d x1_outs, d loss / d x2_outs) of the official functions.

    ``norm``: the collapsed loss's detached normaliser (default: its value here, as the
    official ``float(p_i_j.sum())``); passing it lets finite differences hold it fixed.
    """
    bn, k, h, w = x1_outs.shape
    assert x1_outs.shape == x2_outs.shape
    S = [sampling_matrix(all_affine2_to_1[b], h, w) for b in range(bn)]
    x2_inv = np.stack([(S[b] @ x2_outs[b].reshape(k, -1).T).T.reshape(k, h, w)
                       for b in range(bn)])
    m = all_mask_img1.reshape(bn, 1, h, w)
    a, bb = x1_outs * m, x2_inv * m
    J = conv_joint(a, bb, T)  # (n_t, n_t, k, k)
    n_t = 2 * T + 1

    def clamp(p):
        return np.where(p < EPS, EPS, p), (p >= EPS).astype(float)

    def loss_and_grad(P, rows_first):
        # P (k, k) symmetric; official p_i_mat / p_j_mat: column / row sums
        col, row = P.sum(axis=0, keepdims=True), P.sum(axis=1, keepdims=True)
        Pc, mP = clamp(P)
        colc, mcol = clamp(col)
        rowc, mrow = clamp(row)
        L = (-Pc * (np.log(Pc) - lamb * np.log(colc) - lamb * np.log(rowc))).sum()
        gPc = -(np.log(Pc) + 1) + lamb * np.log(colc) + lamb * np.log(rowc)
        gcol = lamb * Pc.sum(axis=0, keepdims=True) / colc
        grow = lamb * Pc.sum(axis=1, keepdims=True) / rowc
        gP = gPc * mP + gcol * mcol + grow * mrow
        return L, gP

    if collapsed:
        C = J.sum(axis=(0, 1))
        N = float(C.sum()) if norm is None else norm
        P = C / N
        P = (P + P.T) / 2
        L, gP = loss_and_grad(P, True)
        gC = (gP + gP.T) / 2 / N
        gJ = np.broadcast_to(gC, J.shape)
    else:
        L, gJ = 0.0, np.zeros_like(J)
        for u in range(n_t):
            for v in range(n_t):
                s = J[u, v].sum()
                P = J[u, v] / s
                P = (P + P.T) / 2
                Lt, gP = loss_and_grad(P, False)
                L += Lt / n_t ** 2
                g0 = (gP + gP.T) / 2 / n_t ** 2
                gJ[u, v] = g0 / s - (g0 * J[u, v]).sum() / s ** 2
    a_pad = np.pad(a, ((0, 0), (0, 0), (T, T), (T, T)))
    ga_pad, gb = np.zeros_like(a_pad), np.zeros_like(bb)
    for u in range(n_t):
        for v in range(n_t):
            ga_pad[:, :, u:u + h, v:v + w] += np.einsum("ij,njyx->niyx", gJ[u, v], bb)
            gb += np.einsum("ij,niyx->njyx", gJ[u, v], a_pad[:, :, u:u + h, v:v + w])
    g1 = ga_pad[:, :, T:T + h, T:T + w] * m
    gb2 = gb * m
    g2 = np.stack([(S[b].T @ gb2[b].reshape(k, -1).T).T.reshape(k, h, w) for b in range(bn)])
    return L, g1, g2


# ----------------------------------------------------------------- inputs


def softmax(logits, axis=1):
    e = np.exp(logits - logits.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def case(seed, bn=2, k=3, h=7, w=9, with_mask=True, with_affine=True, hard=False):
    rng = np.random.default_rng(seed)
    x1 = softmax(3 * rng.normal(size=(bn, k, h, w)))
    x2 = softmax(3 * rng.normal(size=(bn, k, h, w)))
    if hard:  # one-hot, only two of the k classes used: P has zeros, the clamp acts
        x1 = np.eye(k)[rng.integers(0, 2, (bn, h, w))].transpose(0, 3, 1, 2)
        x2 = np.eye(k)[rng.integers(0, 2, (bn, h, w))].transpose(0, 3, 1, 2)
    A = (random_affine(rng, bn, max_degrees=30, scale=(0.8, 1.2), max_shear=10, flip_p=0.5)[1]
         if with_affine else identity_affine(bn))
    mask = ((rng.uniform(size=(bn, h, w)) > 0.3).astype(float) if with_mask
            else np.ones((bn, h, w)))
    return x1, x2, A, mask


def tf_loss_and_grads(x1, x2, A, mask, lamb, T, collapsed):
    z = tf.constant(x1.transpose(0, 2, 3, 1))
    z_prime = tf.constant(x2.transpose(0, 2, 3, 1))
    with tf.GradientTape() as tape:
        tape.watch([z, z_prime])
        L = iic_segmentation_loss(z, z_prime, T=T, alpha=lamb, mask=mask, affine_21=A,
                                  collapsed=collapsed)
    g1, g2 = tape.gradient(L, [z, z_prime])
    return float(L), g1.numpy().transpose(0, 3, 1, 2), g2.numpy().transpose(0, 3, 1, 2)


def rel(a, b):
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300))


# ----------------------------------------------------------------- parity


@pytest.mark.parametrize("collapsed", [False, True], ids=["uncollapsed", "collapsed"])
@pytest.mark.parametrize("T", [0, 1, 2, 3])
@pytest.mark.parametrize("lamb", [1.0, 2.5])
def test_loss_and_gradients_equal_the_official_port(collapsed, T, lamb):
    x1, x2, A, mask = case(seed=10 * T + int(collapsed))
    assert np.abs(A - identity_affine(2)).max() > 0.1  # a real warp
    L_ref, g1_ref, g2_ref = official_loss(x1, x2, A, mask, lamb, T, collapsed)
    L, g1, g2 = tf_loss_and_grads(x1, x2, A, mask, lamb, T, collapsed)
    assert abs(L - L_ref) <= 1e-12 * max(1.0, abs(L_ref))
    assert rel(g1, g1_ref) < 1e-10 and rel(g2, g2_ref) < 1e-10


@pytest.mark.parametrize("collapsed", [False, True], ids=["uncollapsed", "collapsed"])
@pytest.mark.parametrize("with_mask,with_affine", [(False, False), (True, False), (False, True)])
def test_parity_without_mask_or_warp_and_with_the_clamp(collapsed, with_mask, with_affine):
    for hard in (False, True):
        x1, x2, A, mask = case(seed=3, with_mask=with_mask, with_affine=with_affine, hard=hard)
        L_ref, g1_ref, g2_ref = official_loss(x1, x2, A, mask, 1.7, 2, collapsed)
        L, g1, g2 = tf_loss_and_grads(x1, x2, A, mask, 1.7, 2, collapsed)
        assert abs(L - L_ref) <= 1e-12 * max(1.0, abs(L_ref))
        assert rel(g1, g1_ref) < 1e-10 and rel(g2, g2_ref) < 1e-10


@pytest.mark.parametrize("collapsed", [False, True], ids=["uncollapsed", "collapsed"])
def test_the_ports_gradient_is_its_derivative(collapsed):
    """Finite differences of the port (collapsed: its normaliser held fixed, as detached)."""
    x1, x2, A, mask = case(seed=5)
    L, g1, g2 = official_loss(x1, x2, A, mask, 2.0, 1, collapsed)
    norm = None
    if collapsed:
        bn, k, h, w = x1.shape
        x2_inv = perform_affine_tf(x2, A)
        norm = float(conv_joint(x1 * mask[:, None], x2_inv * mask[:, None], 1).sum())
    rng = np.random.default_rng(0)
    h_step = 1e-6
    for which, g in ((0, g1), (1, g2)):
        for _ in range(6):
            idx = tuple(rng.integers(0, s) for s in x1.shape)
            plus, minus = [x1.copy(), x2.copy()], [x1.copy(), x2.copy()]
            plus[which][idx] += h_step
            minus[which][idx] -= h_step
            fd = (official_loss(*plus, A, mask, 2.0, 1, collapsed, norm)[0]
                  - official_loss(*minus, A, mask, 2.0, 1, collapsed, norm)[0]) / (2 * h_step)
            assert abs(fd - g[idx]) < 1e-6 * max(1.0, abs(g[idx]))


def test_the_perform_affine_port_matches_warp():
    x1, _, A, _ = case(seed=7)
    ours = warp(tf.constant(x1.transpose(0, 2, 3, 1)), A).numpy().transpose(0, 3, 1, 2)
    assert np.max(np.abs(ours - perform_affine_tf(x1, A))) < 1e-12


def test_collapsed_detached_normaliser_is_exact_for_the_logits():
    """Through a softmax the detached normaliser is a constant (the number of pixel pairs):
    the gradient with respect to the logits is the derivative of the loss's value."""
    rng = np.random.default_rng(1)
    logits = tf.constant(rng.normal(size=(2, 6, 5, 3)))
    logits_prime = tf.constant(rng.normal(size=(2, 6, 5, 3)))
    A = random_affine(rng, 2, max_degrees=20, flip_p=1.0)[1]
    mask = (rng.uniform(size=(2, 6, 5)) > 0.2).astype(float)

    def loss(a, b):
        return iic_segmentation_loss(tf.nn.softmax(a), tf.nn.softmax(b), T=1, alpha=2.0,
                                     mask=mask, affine_21=A, collapsed=True)

    with tf.GradientTape() as tape:
        tape.watch(logits)
        L = loss(logits, logits_prime)
    g = tape.gradient(L, logits).numpy()
    for idx in [(0, 1, 2, 0), (1, 5, 4, 2), (0, 3, 0, 1)]:
        d = np.zeros(logits.shape)
        d[idx] = 1e-6
        fd = (float(loss(logits + d, logits_prime)) - float(loss(logits - d, logits_prime))) / 2e-6
        assert abs(fd - g[idx]) < 1e-7


# ----------------------------------------------------------------- what the joint holds


def test_joint_window_counts_pairs_with_zero_padding():
    """All-ones maps (k = 1): J_t counts the pixel pairs at displacement t inside the map."""
    z = tf.ones([1, 5, 7, 1], tf.float64)
    J = displacement_joints(z, z, T=2).numpy()[..., 0, 0]
    for u in range(5):
        for v in range(5):
            assert J[u, v] == pytest.approx((5 - abs(u - 2)) * (7 - abs(v - 2)))


def test_the_displacement_goes_the_way_the_docstring_says():
    z = np.zeros((1, 6, 6, 2))
    z[..., 0] = 1
    z[0, 2, 3] = [0, 1]  # class 1 at (2, 3) in z
    zp = np.zeros((1, 6, 6, 2))
    zp[..., 0] = 1
    zp[0, 1, 3] = [0, 1]  # class 1 at (1, 3) in z_prime: z at p + t with t = (+1, 0)
    J = displacement_joints(tf.constant(z), tf.constant(zp), T=1).numpy()
    assert J[2, 1, 1, 1] == 1 and J[1, 1, 1, 1] == 0  # u - T = +1, v - T = 0


def test_uncollapsed_at_T0_is_the_classification_loss_of_the_pixels():
    from iic_tutorial.losses import iic_loss

    rng = np.random.default_rng(2)
    z = softmax(rng.normal(size=(3, 4, 5, 4)), axis=-1)
    zp = softmax(rng.normal(size=(3, 4, 5, 4)), axis=-1)
    for collapsed in (False, True):
        L = float(iic_segmentation_loss(z, zp, T=0, alpha=1.5, collapsed=collapsed))
        ref = float(iic_loss(z.reshape(-1, 4), zp.reshape(-1, 4), alpha=1.5))
        assert L == pytest.approx(ref, rel=1e-10)


def test_joints_are_normalised_and_symmetric():
    rng = np.random.default_rng(4)
    z = softmax(rng.normal(size=(2, 8, 8, 3)), axis=-1)
    zp = softmax(rng.normal(size=(2, 8, 8, 3)), axis=-1)
    P = joints_to_P(displacement_joints(z, zp, T=2)).numpy()
    assert P.shape == (5, 5, 3, 3)
    np.testing.assert_allclose(P.sum(axis=(2, 3)), 1.0, atol=1e-12)
    np.testing.assert_allclose(P, P.transpose(0, 1, 3, 2), atol=1e-15)


# ----------------------------------------------------------------- the warp


def smooth_image(h=24, w=30, seed=0):
    y, x = np.mgrid[0:h, 0:w] / np.array([h, w])[:, None, None]
    rng = np.random.default_rng(seed)
    img = sum(np.sin(2 * np.pi * (f1 * x + f2 * y) + p)
              for f1, f2, p in rng.uniform(0, 1.2, (3, 3)))
    return img[None, ..., None]


def test_warp_then_inverse_is_exact_for_pixel_to_pixel_maps():
    """A flip or a half turn sends pixel centres to pixel centres: the round trip is exact."""
    img = np.random.default_rng(0).uniform(size=(2, 9, 9, 2))
    A = np.array([[[-1.0, 0, 0], [0, 1, 0]], [[-1.0, 0, 0], [0, -1, 0]]])
    out = warp(warp(img, A), invert_affine(A)).numpy()
    np.testing.assert_allclose(out, img, atol=1e-12)
    np.testing.assert_allclose(warp(img, A).numpy()[0], img[0, :, ::-1], atol=1e-12)


def test_warp_then_inverse_is_the_identity_away_from_the_borders():
    img = smooth_image()
    A12, A21 = random_affine(np.random.default_rng(3), 1, max_degrees=25, scale=(0.9, 1.1))
    back = warp(warp(img, A12), A21).numpy()
    inner = valid_mask(A12, 24, 30, tf.float64).numpy()[0] * valid_mask(A21, 24, 30, tf.float64).numpy()[0]
    inner[:3], inner[-3:], inner[:, :3], inner[:, -3:] = 0, 0, 0, 0
    assert inner.sum() > 200
    err = np.abs(back - img)[0, ..., 0][inner > 0]
    assert err.max() < 0.05 * np.abs(img).max()  # two bilinear resamplings blur a little
    rough = np.abs(warp(img, A12).numpy() - img)[0, ..., 0][inner > 0]
    assert rough.max() > 10 * err.max()  # while the view itself is far from the image


def test_loss_of_a_map_with_its_own_warped_copy():
    """A network that is exactly equivariant: z' = warp(z, A_12). Brought back with A_21, the
    pairs agree: at T = 0 the loss is -H(Z) for one-hot z, exactly for transforms that send
    pixels to pixels (flip, quarter turn), up to the blur of the resamplings for a rotation
    by any angle; without the warp back it is far worse."""
    rng = np.random.default_rng(8)
    blocks = rng.integers(0, 3, (4, 4, 4))  # 3 classes in 8 x 8 blocks: a piecewise map
    labels = np.kron(blocks, np.ones((1, 8, 8), int))
    z = np.eye(3)[labels]  # (4, 32, 32, 3)
    P_i = np.bincount(labels.ravel(), minlength=3) / labels.size
    H = -(P_i * np.log(P_i)).sum()
    turns = np.array([[[-1.0, 0, 0], [0, 1, 0]], [[0, -1.0, 0], [1, 0, 0]],
                      [[-1.0, 0, 0], [0, -1, 0]], [[0, 1.0, 0], [1, 0, 0]]])
    L_exact = float(iic_segmentation_loss(z, warp(z, turns), T=0, affine_21=invert_affine(turns)))
    assert L_exact == pytest.approx(-H, abs=1e-9)
    A12, A21 = random_affine(rng, 4, max_degrees=30, scale=(0.9, 1.1), flip_p=0.5)
    z_prime = warp(z, A12)  # the view's map: z in the view's frame
    mask = valid_mask(A21, 32, 32, tf.float64)
    L = float(iic_segmentation_loss(z, z_prime, T=0, mask=mask, affine_21=A21, validate=False))
    assert -H < L < -0.6 * H
    L_no_back = float(iic_segmentation_loss(z, z_prime, T=0, mask=mask, validate=False))
    assert L_no_back > L + 0.3
    # a larger window pairs pixels across block edges: the loss rises, but stays below 0
    L_T3 = float(iic_segmentation_loss(z, z_prime, T=3, mask=mask, affine_21=A21,
                                       validate=False))
    assert L < L_T3 < 0


# ----------------------------------------------------------------- errors


def test_clear_errors():
    z = softmax(np.random.default_rng(0).normal(size=(2, 6, 6, 3)), axis=-1)
    with pytest.raises(ValueError, match="same shape"):
        iic_segmentation_loss(z, z[:, :5])
    with pytest.raises(ValueError, match="too large"):
        iic_segmentation_loss(z, z, T=6)
    with pytest.raises(ValueError, match="int >= 0"):
        iic_segmentation_loss(z, z, T=1.5)
    with pytest.raises(ValueError, match="mask must have shape"):
        iic_segmentation_loss(z, z, mask=np.ones((2, 6, 5)))
    with pytest.raises(ValueError, match="0 everywhere"):
        iic_segmentation_loss(z, z, mask=np.zeros((2, 6, 6)))
    with pytest.raises(ValueError, match=r"affine must have shape \(batch, 2, 3\)"):
        iic_segmentation_loss(z, z, affine_21=np.ones((2, 3, 3)))
    with pytest.raises(ValueError, match="one \\(2, 3\\) matrix per image"):
        iic_segmentation_loss(z, z, affine_21=identity_affine(3))
    with pytest.raises(ValueError, match="softmax"):
        iic_segmentation_loss(np.log(z), z)
    with pytest.raises(ValueError, match="per-pixel softmax maps"):
        iic_segmentation_loss(z[0], z[0])
    with pytest.raises(ValueError, match="singular"):
        invert_affine(np.zeros((1, 2, 3)))
    # (batch, H, W, 1) masks are accepted
    assert np.isfinite(float(iic_segmentation_loss(z, z, mask=np.ones((2, 6, 6, 1)))))

"""A tiny, real IIC problem in two dimensions, for seeing what ``alpha`` does.

Points come from ``k`` Gaussian blobs whose sizes may differ (by default 60 %,
25 % and 15 % of the points). The "augmentation" is a small jitter: the pair
of a point ``x`` is ``x' = x + noise * N(0, I)``, redrawn at every step. A
small softmax network (2 -> ``hidden`` tanh units -> ``k``) maps a point to
``z``, its view to ``z_prime``, and is trained with the very loss of the book,
:func:`iic_tutorial.losses.iic_loss`::

    L = -I(Z; Z') - (alpha - 1) * (H(Z) + H(Z'))
      = -(2 alpha - 1) * H(Z) + H(Z | Z')          (P symmetric, so H(Z) = H(Z'))

``H(Z | Z')`` is the price of cutting through a blob (a jittered point lands on
the other side of the cut), ``H(Z)`` the reward for balanced clusters.

With the defaults (600 points, sizes 0.6 / 0.25 / 0.15, blobs of std 1 on a
circle of radius 3, jitter 0.5, 400 Adam steps), seeds 0-4 give:

* ``alpha = 1``: the true blobs, accuracy 0.99, ``P_i`` = (0.60, 0.25, 0.15)
  up to order, H(Z) = 0.93-0.94 nats;
* ``alpha`` = 1.25-1.5: the blobs or the split below, depending on the seed
  (the two solutions are close in loss);
* ``alpha >= 2``: the big blob is cut in two and one half shares a cluster
  with a small blob: H(Z) = 1.08-1.10 nats, close to ln 3 = 1.099, accuracy
  0.65-0.82, and I(Z; Z') drops from about 0.88 to 0.67-0.83 nats.

With balanced blobs every alpha in 1-4 finds the blobs (accuracy 0.98-0.99);
there the balance term agrees with the data, and alpha > 1 reaches the blobs
in fewer steps. Everything runs full-batch in one ``tf.function`` (about
0.15 s per run on a 2-core CPU after a first trace of about 1 s) and is
deterministic for a seed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import tensorflow as tf

from .information import entropy, joint_distribution, mutual_information
from .losses import iic_loss
from .metrics import cluster_accuracy

__all__ = [
    "UNEQUAL_SIZES",
    "BALANCED_SIZES",
    "ToyResult",
    "make_blobs",
    "make_pairs",
    "train_toy",
    "sweep_alpha",
    "plot_toy",
]

#: The default blob sizes: one big class and two small ones (fractions of the points).
UNEQUAL_SIZES = (0.6, 0.25, 0.15)
#: Three blobs of equal size, for comparison.
BALANCED_SIZES = (1 / 3, 1 / 3, 1 / 3)


def _check_sizes(sizes) -> np.ndarray:
    sizes = np.asarray(sizes, dtype=np.float64)
    if sizes.ndim != 1 or sizes.size < 2:
        raise ValueError(
            f"sizes must be a sequence of at least 2 fractions, one per blob; got {sizes!r}"
        )
    if np.any(sizes <= 0) or abs(sizes.sum() - 1) > 1e-6:
        raise ValueError(
            f"sizes must be positive fractions that sum to 1, e.g. (0.6, 0.25, 0.15); got "
            f"{tuple(sizes.round(4))} (sum {sizes.sum():.4g})"
        )
    return sizes


def blob_centers(k: int, radius: float = 3.0) -> np.ndarray:
    """Centres of k blobs on a circle of the given radius, shape (k, 2).

    The first blob sits at angle 90 degrees (top), the others follow
    counter-clockwise at equal angles.
    """
    angles = np.pi / 2 + 2 * np.pi * np.arange(k) / k
    return radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)


def make_blobs(
    n: int = 600,
    sizes=UNEQUAL_SIZES,
    seed: int = 0,
    radius: float = 3.0,
    std: float = 1.0,
) -> tuple[np.ndarray, np.ndarray]:
    """n points from len(sizes) isotropic Gaussian blobs: x ~ N(c_y, std^2 I).

    Blob y holds round(n * sizes[y]) points (the last blob takes the rest),
    its centre c_y is from :func:`blob_centers` (a circle of ``radius``).
    Returns ``(x, y)``: float32 points of shape ``(n, 2)`` and int64 blob
    labels of shape ``(n,)``, sorted by blob. Deterministic for a seed.
    """
    sizes = _check_sizes(sizes)
    if n < 2 * sizes.size:
        raise ValueError(f"n must be at least 2 points per blob ({2 * sizes.size}); got {n}")
    if std <= 0 or radius < 0:
        raise ValueError(f"std must be > 0 and radius >= 0; got std={std}, radius={radius}")
    counts = np.round(n * sizes).astype(int)
    counts[-1] = n - counts[:-1].sum()
    if np.any(counts < 1):
        raise ValueError(f"a blob would get no points (counts {counts.tolist()}); use a larger n")
    rng = np.random.default_rng(seed)
    centers = blob_centers(sizes.size, radius)
    y = np.repeat(np.arange(sizes.size), counts)
    x = centers[y] + std * rng.standard_normal((n, 2))
    return x.astype(np.float32), y.astype(np.int64)


def make_pairs(x: np.ndarray, noise: float = 0.5, seed: int = 0) -> np.ndarray:
    """The augmented views x' = x + noise * N(0, I) of points x of shape (n, 2)."""
    if noise < 0:
        raise ValueError(f"noise is a standard deviation and must be >= 0; got {noise}")
    rng = np.random.default_rng([seed, 1])
    return (x + noise * rng.standard_normal(x.shape)).astype(np.float32)


# ----------------------------------------------------------------- the model


def _init_params(hidden: int, k: int, seed: int) -> list[np.ndarray]:
    """Glorot-uniform weights and zero biases for 2 -> hidden (tanh) -> k (softmax)."""
    rng = np.random.default_rng([seed, 2])

    def glorot(fan_in: int, fan_out: int) -> np.ndarray:
        limit = math.sqrt(6 / (fan_in + fan_out))
        return rng.uniform(-limit, limit, (fan_in, fan_out)).astype(np.float32)

    return [glorot(2, hidden), np.zeros(hidden, np.float32),
            glorot(hidden, k), np.zeros(k, np.float32)]


def _forward(params, x: tf.Tensor) -> tf.Tensor:
    """z = softmax(tanh(x W1 + b1) W2 + b2), shape (n, k)."""
    W1, b1, W2, b2 = params
    return tf.nn.softmax(tf.tanh(x @ W1 + b1) @ W2 + b2)


@tf.function(reduce_retracing=True)
def _fit(params, x, alpha, lr, noise, seed, steps):
    """Full-batch Adam on iic_loss(z, z_prime, alpha); returns (params, losses)."""
    beta1, beta2, eps = 0.9, 0.999, 1e-7
    params = list(params)
    m = [tf.zeros_like(p) for p in params]
    v = [tf.zeros_like(p) for p in params]
    losses = tf.TensorArray(tf.float32, size=steps)
    for t in tf.range(steps):
        jitter = tf.random.stateless_normal(tf.shape(x), tf.stack([seed, tf.cast(t, tf.int64)]))
        with tf.GradientTape() as tape:
            tape.watch(params)
            z = _forward(params, x)
            z_prime = _forward(params, x + noise * jitter)
            loss = iic_loss(z, z_prime, alpha)
        grads = tape.gradient(loss, params)
        step = tf.cast(t + 1, tf.float32)
        correction = tf.sqrt(1 - beta2**step) / (1 - beta1**step)
        new_params, new_m, new_v = [], [], []
        for p, g, m_, v_ in zip(params, grads, m, v):
            m_ = beta1 * m_ + (1 - beta1) * g
            v_ = beta2 * v_ + (1 - beta2) * g * g
            new_params.append(p - lr * correction * m_ / (tf.sqrt(v_) + eps))
            new_m.append(m_)
            new_v.append(v_)
        params, m, v = new_params, new_m, new_v
        losses = losses.write(t, loss)
    return params, losses.stack()


# ----------------------------------------------------------------- results


@dataclass
class ToyResult:
    """Everything one toy IIC run produced (NumPy arrays, nats).

    ``x`` (n, 2) points, ``y`` (n,) true blob, ``z`` (n, k) softmax outputs,
    ``clusters`` (n,) = argmax z. ``P`` is the k x k joint distribution of
    (Z, Z') over all points and a fresh jittered copy, ``P_i``/``P_j`` its
    marginals, ``I`` = I(Z; Z'), ``H_Z`` = H(Z) = H(P_i), ``loss`` =
    -I - (alpha - 1)(H(Z) + H(Z')) of that P. ``accuracy`` is the Hungarian
    cluster accuracy against the blobs. ``grid_x`` (gx,), ``grid_y`` (gy,)
    and ``grid_clusters`` (gy, gx) hold the decision regions;
    ``loss_history`` (steps,) the training loss.
    """

    alpha: float
    sizes: tuple[float, ...]
    seed: int
    x: np.ndarray
    y: np.ndarray
    z: np.ndarray
    clusters: np.ndarray
    P: np.ndarray
    P_i: np.ndarray
    P_j: np.ndarray
    I: float
    H_Z: float
    loss: float
    accuracy: float
    grid_x: np.ndarray
    grid_y: np.ndarray
    grid_clusters: np.ndarray
    loss_history: np.ndarray = field(repr=False)

    @property
    def k(self) -> int:
        """Number of clusters."""
        return self.P.shape[0]

    @property
    def cluster_sizes(self) -> np.ndarray:
        """Fraction of points whose argmax is each cluster, shape (k,)."""
        return np.bincount(self.clusters, minlength=self.k) / len(self.clusters)

    @property
    def H_clusters(self) -> float:
        """Entropy (nats) of the hard cluster sizes :attr:`cluster_sizes`."""
        return entropy(self.cluster_sizes)

    def summary(self) -> str:
        """One line: alpha, marginals, I, H(Z), accuracy."""
        marg = ", ".join(f"{p:.2f}" for p in self.P_i)
        return (f"alpha={self.alpha:g}: P_i=({marg}), I={self.I:.3f}, H(Z)={self.H_Z:.3f} "
                f"(ln k={math.log(self.k):.3f}), accuracy={self.accuracy:.2f}")


def train_toy(
    alpha: float = 1.0,
    steps: int = 400,
    seed: int = 0,
    sizes=UNEQUAL_SIZES,
    n: int = 600,
    k: int | None = None,
    noise: float = 0.5,
    hidden: int = 16,
    lr: float = 0.03,
    radius: float = 3.0,
    std: float = 1.0,
    grid_size: int = 120,
) -> ToyResult:
    """Train the toy clustering network with iic_loss(z, z_prime, alpha) and report.

    Data: :func:`make_blobs` (n points, blob ``sizes``, ``radius``, ``std``).
    Each step (full batch, Adam with learning rate ``lr``) jitters every point
    by ``noise * N(0, I)`` to make ``z_prime``. ``k`` defaults to the number of
    blobs. The same seed gives the same blobs, initial weights, jitter and
    hence the same result. Returns a :class:`ToyResult`.
    """
    if not (isinstance(alpha, (int, float)) and math.isfinite(alpha) and alpha >= 0):
        raise ValueError(
            f"alpha must be a finite number >= 0 (1 is the paper's loss); got {alpha!r}"
        )
    if not isinstance(steps, (int, np.integer)) or steps < 1:
        raise ValueError(f"steps must be a positive integer; got {steps!r}")
    if noise < 0:
        raise ValueError(f"noise is a standard deviation and must be >= 0; got {noise}")
    sizes = tuple(float(s) for s in _check_sizes(sizes))
    k = len(sizes) if k is None else k
    if not isinstance(k, (int, np.integer)) or k < 2:
        raise ValueError(f"k must be an integer >= 2 (number of clusters); got {k!r}")
    x, y = make_blobs(n, sizes, seed, radius, std)
    params0 = [tf.constant(p) for p in _init_params(hidden, int(k), seed)]
    params, losses = _fit(
        params0, tf.constant(x), tf.constant(float(alpha), tf.float32),
        tf.constant(float(lr), tf.float32), tf.constant(float(noise), tf.float32),
        tf.constant(seed, tf.int64), tf.constant(int(steps), tf.int32),
    )
    z = _forward(params, tf.constant(x)).numpy().astype(np.float64)
    z_prime = _forward(params, tf.constant(make_pairs(x, noise, seed))).numpy().astype(np.float64)
    z /= z.sum(axis=1, keepdims=True)
    z_prime /= z_prime.sum(axis=1, keepdims=True)
    P = joint_distribution(z, z_prime)
    P_i, P_j = P.sum(axis=1), P.sum(axis=0)
    I, H_Z = mutual_information(P), entropy(P_i)
    clusters = z.argmax(axis=1)

    margin = 1.5 * std
    grid_x = np.linspace(x[:, 0].min() - margin, x[:, 0].max() + margin, grid_size)
    grid_y = np.linspace(x[:, 1].min() - margin, x[:, 1].max() + margin, grid_size)
    gx, gy = np.meshgrid(grid_x, grid_y)
    grid = np.stack([gx.ravel(), gy.ravel()], axis=1).astype(np.float32)
    grid_clusters = _forward(params, tf.constant(grid)).numpy().argmax(axis=1).reshape(gx.shape)

    return ToyResult(
        alpha=float(alpha), sizes=sizes, seed=seed, x=x, y=y, z=z, clusters=clusters,
        P=P, P_i=P_i, P_j=P_j, I=I, H_Z=H_Z,
        loss=-I - (alpha - 1) * (H_Z + entropy(P_j)),
        accuracy=cluster_accuracy(y, clusters), grid_x=grid_x, grid_y=grid_y,
        grid_clusters=grid_clusters, loss_history=losses.numpy(),
    )


def sweep_alpha(alphas=(1.0, 1.5, 2.0, 3.0), seeds=(0,), **kwargs) -> dict[float, list[ToyResult]]:
    """:func:`train_toy` for every alpha and seed: ``{alpha: [result per seed]}``."""
    return {float(a): [train_toy(a, seed=s, **kwargs) for s in seeds] for a in alphas}


# ----------------------------------------------------------------- figure


def cluster_colors(result: ToyResult) -> np.ndarray:
    """RGBA colour of each of the k clusters (shape (k, 4)): the colour of its blob.

    Clusters are matched to blobs with the Hungarian method
    (:func:`iic_tutorial.metrics.match_clusters`), so a cluster that found
    blob b is drawn in blob b's colour; unmatched clusters get further colours.
    """
    import matplotlib.pyplot as plt

    from .metrics import match_clusters

    n_blobs = len(result.sizes)
    palette = plt.get_cmap("tab10")(np.arange(n_blobs + result.k) % 10)
    mapping = match_clusters(result.y, result.clusters, k=result.k)
    spare = iter(range(n_blobs, n_blobs + result.k))
    return np.array([palette[mapping[j]] if j in mapping else palette[next(spare)]
                     for j in range(result.k)])


def plot_toy(result: ToyResult, ax=None, show_marginals: bool = True, title: str | None = None):
    """Decision regions, points coloured by true blob, and the marginal P_i as bars.

    Points are coloured by their true blob; the background of a region by the
    cluster the network assigns there, in the colour of the blob that
    cluster was matched to (:func:`cluster_colors`), so a blob split in two
    shows two background colours. With ``show_marginals`` a bar panel on the
    right shows P_i per cluster in the same colours, the matched blob's true
    size as a black tick and the uniform 1/k dashed. The title gives alpha,
    I(Z; Z') and H(Z) in nats. The axes are labelled "toy" and "P_i"
    (``ax.get_label()``). Returns the Figure.
    """
    import matplotlib.pyplot as plt
    from matplotlib.colors import ListedColormap

    from .metrics import match_clusters

    if ax is None:
        fig, ax = plt.subplots(figsize=(5.0, 4.0) if show_marginals else (4.0, 4.0))
    else:
        fig = ax.figure
    k = result.k
    colors = cluster_colors(result)
    palette = plt.get_cmap("tab10")(np.arange(len(result.sizes)) % 10)
    ax.pcolormesh(result.grid_x, result.grid_y, result.grid_clusters,
                  cmap=ListedColormap(colors), vmin=-0.5, vmax=k - 0.5,
                  alpha=0.22, shading="auto", rasterized=True)
    ax.scatter(result.x[:, 0], result.x[:, 1], color=palette[result.y], s=5, linewidths=0)
    ax.set_xlim(result.grid_x[0], result.grid_x[-1])
    ax.set_ylim(result.grid_y[0], result.grid_y[-1])
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_label("toy")
    ax.set_title(title or f"alpha = {result.alpha:g}\nI = {result.I:.2f}, "
                 f"H(Z) = {result.H_Z:.2f} nats", fontsize=10)
    if show_marginals:
        from mpl_toolkits.axes_grid1 import make_axes_locatable

        bars = make_axes_locatable(ax).append_axes("right", size="28%", pad=0.12)
        bars.set_label("P_i")
        idx = np.arange(k)
        bars.bar(idx, result.P_i, color=colors, edgecolor="0.3", linewidth=0.5)
        mapping = match_clusters(result.y, result.clusters, k=k)
        for j, b in mapping.items():
            bars.plot([j - 0.4, j + 0.4], [result.sizes[b]] * 2, color="k", lw=1.5)
        bars.axhline(1 / k, color="0.3", ls="--", lw=0.8)
        bars.set_ylim(0, 1)
        bars.set_xticks(idx)
        bars.set_xlabel("cluster", fontsize=8)
        bars.yaxis.tick_right()
        bars.tick_params(labelsize=7, length=2)
        bars.set_title("P_i", fontsize=9)
    return fig

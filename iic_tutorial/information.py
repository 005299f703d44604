"""Information measures in NumPy: entropy, joint distributions, mutual information.

Everything here works in nats (natural logarithms). These are the functions the
maths chapters derive by hand; the TensorFlow loss in :mod:`iic_tutorial.losses`
is checked against them.

Conventions follow the IIC paper: ``z`` and ``z_prime`` are softmax outputs of
shape ``(batch, k)`` for an image and its augmented view, ``P`` is the ``k x k``
joint distribution and ``P_i``, ``P_j`` are its marginals.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "entropy",
    "joint_distribution",
    "marginals",
    "joint_entropy",
    "conditional_entropy",
    "mutual_information",
    "mutual_information_from_entropies",
]

#: How far a distribution may sum from 1 before it is rejected.
ATOL = 1e-6


def _as_distribution(p: np.ndarray, name: str, ndim: int | None = None) -> np.ndarray:
    """Return ``p`` as float64 after checking it is a probability distribution."""
    p = np.asarray(p, dtype=np.float64)
    if ndim is not None and p.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimension(s); got shape {p.shape}")
    if p.size == 0:
        raise ValueError(f"{name} is empty; pass at least one probability")
    if not np.all(np.isfinite(p)):
        raise ValueError(f"{name} contains NaN or infinity; check the values you pass")
    if np.any(p < 0):
        raise ValueError(f"{name} has negative entries (min {p.min():.3g}); probabilities are >= 0")
    total = p.sum()
    if abs(total - 1.0) > ATOL * max(1, p.size):
        raise ValueError(f"{name} must sum to 1; got {total:.6g}. Normalise it first: p / p.sum()")
    return p


def _plogp(p: np.ndarray) -> np.ndarray:
    """Elementwise p * ln p with the convention 0 * ln 0 = 0."""
    out = np.zeros_like(p)
    mask = p > 0
    out[mask] = p[mask] * np.log(p[mask])
    return out


def entropy(p: np.ndarray) -> float:
    """H(X) = -sum_x p(x) * ln p(x) for a distribution p of any shape.

    ``p`` must be non-negative and sum to 1 (a vector of k probabilities, or a
    k x k joint, whose entropy is then the joint entropy). Terms with p(x) = 0
    contribute 0. Returns nats, between 0 and ln(p.size).
    """
    p = _as_distribution(p, "p")
    return float(-_plogp(p).sum()) + 0.0  # + 0.0 turns -0.0 (one-hot p) into 0.0


def joint_distribution(z: np.ndarray, z_prime: np.ndarray, symmetric: bool = True) -> np.ndarray:
    """P = (1/n) sum_b outer(z_b, z'_b), optionally symmetrised: P <- (P + P^T) / 2.

    ``z`` and ``z_prime`` are ``(n, k)`` arrays of probability vectors (rows sum
    to 1), e.g. the softmax outputs for n images and their augmented views.
    Returns the ``k x k`` joint distribution P (non-negative, sums to 1),
    where P[i, j] estimates Pr(Z = i, Z' = j).
    """
    z = np.asarray(z, dtype=np.float64)
    z_prime = np.asarray(z_prime, dtype=np.float64)
    if z.ndim != 2 or z.shape != z_prime.shape:
        raise ValueError(
            f"z and z_prime must have the same shape (batch, k); got {z.shape} and {z_prime.shape}"
        )
    for name, a in (("z", z), ("z_prime", z_prime)):
        if np.any(a < 0) or not np.allclose(a.sum(axis=1), 1.0, atol=1e-5):
            raise ValueError(f"each row of {name} must be a probability vector (>= 0, sums to 1)")
    P = z.T @ z_prime / z.shape[0]
    if symmetric:
        P = (P + P.T) / 2
    return P / P.sum()


def marginals(P: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """P_i = sum_j P[i, j] and P_j = sum_i P[i, j] of a k x k' joint distribution.

    Returns ``(P_i, P_j)`` with shapes ``(k,)`` and ``(k',)``.
    """
    P = _as_distribution(P, "P", ndim=2)
    return P.sum(axis=1), P.sum(axis=0)


def joint_entropy(P: np.ndarray) -> float:
    """H(X, Y) = -sum_ij P_ij * ln P_ij for a joint distribution P. Returns nats."""
    return entropy(_as_distribution(P, "P", ndim=2))


def conditional_entropy(P: np.ndarray) -> float:
    """H(Z' | Z) = H(Z, Z') - H(Z): uncertainty left about the column given the row.

    For the joint P[i, j] = Pr(Z = i, Z' = j) this is H(Z' | Z); pass ``P.T`` for
    H(Z | Z'). Returns nats, >= 0.
    """
    P_i, _ = marginals(P)
    return joint_entropy(P) - entropy(P_i)


def mutual_information(P: np.ndarray) -> float:
    """I(Z; Z') = sum_ij P_ij * ln(P_ij / (P_i P_j)) for a k x k' joint distribution P.

    P must be non-negative and sum to 1. Terms with P_ij = 0 contribute 0.
    Returns nats, between 0 and min(H(Z), H(Z')) <= ln(min(k, k')).
    """
    P = _as_distribution(P, "P", ndim=2)
    P_i, P_j = P.sum(axis=1), P.sum(axis=0)
    rows, cols = np.nonzero(P)  # P_ij > 0 implies P_i, P_j > 0; logs avoid underflow
    p = P[rows, cols]
    value = float(np.sum(p * (np.log(p) - np.log(P_i[rows]) - np.log(P_j[cols]))))
    return max(value, 0.0) + 0.0  # exact 0 for independent joints, not -1e-17 or -0.0


def mutual_information_from_entropies(P: np.ndarray) -> float:
    """I(Z; Z') = H(Z) + H(Z') - H(Z, Z'): the same quantity via three entropies.

    Returns nats; agrees with :func:`mutual_information` up to rounding.
    """
    P_i, P_j = marginals(P)
    return entropy(P_i) + entropy(P_j) - joint_entropy(P)

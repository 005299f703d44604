"""Reading a result's curve: when it reached an accuracy, its value at a step, whether
two runs took the same path.
"""

from __future__ import annotations


__all__ = ["time_to_accuracy", "same_trajectory", "at_step", "until", "first_step"]


def time_to_accuracy(curve: list[dict], threshold: float) -> float | None:
    """Training seconds until test accuracy first reached ``threshold`` (None if never)."""
    for point in curve:
        if point.get("acc") is not None and point["acc"] >= threshold:
            return point["wall_time"]
    return None


def median_time_to_accuracy(runs: list[dict], threshold: float) -> float | None:
    """The median over seeds of the training seconds to ``threshold`` test accuracy.

    A seed that never reached it counts as infinitely slow, so the median is a
    time that at least half of the seeds reached ``threshold`` by: with three
    seeds, the second fastest. None when fewer than half reached it (for an
    even count, the mean of the two middle times, None if either is missing).
    ``runs``: collected results with a ``curve``; ValueError if empty.
    """
    if not runs:
        raise ValueError("median_time_to_accuracy needs at least one run")
    inf = float("inf")
    times = sorted(t if t is not None else inf
                   for t in (time_to_accuracy(r["curve"], threshold) for r in runs))
    n = len(times)
    middle = times[n // 2] if n % 2 else (times[n // 2 - 1] + times[n // 2]) / 2
    return None if middle == inf else middle


def same_trajectory(a: dict, b: dict,
                    keys: tuple[str, ...] = ("loss", "loss_k", "loss_over", "acc", "nmi")) -> bool:
    """Whether two runs evaluated at the same steps and got the same ``keys`` at every one.

    For a run repeated with the same command on another machine: equal (to
    the last bit of the losses the train step returned, and the same
    accuracy and NMI) means the two trained the same network, step for step,
    and differ only in time. The default leaves out ``mi`` and ``H``: NumPy
    recomputes them from P on each machine, and another CPU's summation order
    can change their last bit (seen: 4e-16 nats).
    """
    if [p["step"] for p in a["curve"]] != [q["step"] for q in b["curve"]]:
        return False
    return all(p.get(k) == q.get(k) for p, q in zip(a["curve"], b["curve"]) for k in keys)


def at_step(run: dict, step: int, key: str = "acc"):
    """``key`` at a result's first evaluation at or after ``step`` (None if it stopped before)."""
    return next((p[key] for p in run["curve"] if p["step"] >= step), None)


def until(run: dict, step: int) -> dict:
    """The result with its curve cut after ``step``: to compare runs of different lengths."""
    return {**run, "curve": [p for p in run["curve"] if p["step"] <= step]}


def first_step(run: dict, level: float) -> int | None:
    """The first evaluated step at which test accuracy reached ``level`` (None if never)."""
    return next((p["step"] for p in run["curve"] if p.get("acc") is not None and p["acc"] >= level),
                None)

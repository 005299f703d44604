"""Writing files so that a process killed at any moment leaves the previous complete file
or the new complete one, never half of one.

A leaf module (no other import from the package): checkpoints, results and weights
all write through it.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["atomic_write_text", "atomic_save_weights"]


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` to ``path`` through a temporary file and a rename.

    A process killed at any moment leaves either the previous complete file
    or the new complete one, never a half-written file.
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "w") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


def atomic_save_weights(model, path: str | os.PathLike) -> Path:
    """``model.save_weights(path)`` through a temporary file and a rename (see :func:`atomic_write_text`)."""
    path = Path(path)
    if not path.name.endswith(".weights.h5"):
        raise ValueError(f"weights files end in .weights.h5; got {path}")
    tmp = path.with_name(f".{os.getpid()}.partial.{path.name}")
    try:
        model.save_weights(str(tmp))
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path

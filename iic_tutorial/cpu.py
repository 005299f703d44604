"""What the processor can do: its feature flags and its bfloat16 hardware.

A leaf module (no other import from the package, no TensorFlow): the train step
reads it to decide whether ``precision="auto"`` means bfloat16, and the reports
read it to describe the machine a run trained on.
"""

from __future__ import annotations

import os

__all__ = ["BF16_FLAGS", "cpuinfo", "cpu_flags"]

#: The ``/proc/cpuinfo`` flags of bfloat16 hardware, and the name each is reported by.
BF16_FLAGS = {"amx_bf16": "AMX", "avx512_bf16": "AVX512-BF16"}


def cpuinfo(path: str | os.PathLike = "/proc/cpuinfo") -> dict[str, str]:
    """The fields of the first processor in ``path`` (``{}`` where it cannot be read)."""
    try:
        with open(path) as f:
            block = f.read().split("\n\n")[0]
    except OSError:
        return {}
    return {key.strip(): value.strip()
            for key, sep, value in (line.partition(":") for line in block.splitlines()) if sep}


def cpu_flags() -> set[str]:
    """The CPU's feature flags (``/proc/cpuinfo`` on Linux; empty where it cannot be read)."""
    return set(cpuinfo().get("flags", "").split())

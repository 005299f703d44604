"""pytest's hooks for the chapters run as tests (nbval: ``make test-notebooks``).

Each notebook runs in a Jupyter kernel that talks to pytest over ZeroMQ. By default
jupyter_client gives a kernel five TCP ports, each found by binding a socket to port 0 and
closing it again before the kernel binds it. With one pytest-xdist worker per core, two
workers can start kernels at the same moment and be handed the same port; the kernel that
loses the race dies at startup, and every cell of its notebook fails with "Kernel died
before replying to kernel_info" (jupyter/jupyter_client#487). Here each kernel talks over
Unix sockets (ZeroMQ's ``ipc`` transport) in a fresh directory of its own, so there is no
port to race for.
"""

from __future__ import annotations

import shutil
import tempfile
from typing import Any

import nbval.kernel
from jupyter_client.manager import KernelManager


class IpcKernelManager(KernelManager):
    """A ``KernelManager`` whose kernel listens on Unix sockets in a private directory.

    The sockets are ``<dir>/kernel-1`` ... ``<dir>/kernel-5`` (shell, iopub, stdin, control,
    heartbeat), with ``<dir>`` a new ``tempfile.mkdtemp`` directory, short enough for the
    107-byte limit on a socket's path and removed when the kernel is shut down.
    """

    def __init__(self, **kwargs: Any) -> None:
        self._socket_dir = tempfile.mkdtemp(prefix="nbval-kernel-")
        kwargs.setdefault("transport", "ipc")
        kwargs.setdefault("ip", f"{self._socket_dir}/kernel")
        super().__init__(**kwargs)

    async def _async_cleanup_resources(self, restart: bool = False) -> None:
        # what shutdown_kernel calls once the kernel has stopped
        await super()._async_cleanup_resources(restart=restart)
        if not restart:
            shutil.rmtree(self._socket_dir, ignore_errors=True)


# nbval.kernel.start_new_kernel builds its manager from this module-level name
nbval.kernel.KernelManager = IpcKernelManager

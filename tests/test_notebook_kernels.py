"""The kernels the chapters run in as tests (nbval, book/conftest.py)."""

import importlib.util
import os
from pathlib import Path

BOOK = Path(__file__).resolve().parent.parent / "book"


def test_notebook_kernels_talk_over_private_unix_sockets():
    """book/conftest.py gives every nbval kernel Unix sockets in a directory of its own (no
    TCP port for two xdist workers to race for), the kernel runs code over them, and the
    directory is gone once the kernel is shut down."""
    spec = importlib.util.spec_from_file_location("book_conftest", BOOK / "conftest.py")
    book_conftest = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(book_conftest)
    import nbval.kernel

    assert nbval.kernel.KernelManager is book_conftest.IpcKernelManager
    kernel = nbval.kernel.RunningKernel("python3", startup_timeout=120)
    try:
        socket_dir = os.path.dirname(kernel.km.ip)
        assert kernel.km.transport == "ipc"
        assert sorted(os.listdir(socket_dir)) == [f"kernel-{n}" for n in range(1, 6)]
        assert len(f"{kernel.km.ip}-5") < 107  # a Unix socket's path limit
        outputs = []  # this cell's iopub messages, up to its idle status
        reply = kernel.kc.execute_interactive("print(6 * 7)", output_hook=outputs.append, timeout=60)
        assert reply["content"]["status"] == "ok"
        assert any(m["msg_type"] == "stream" and m["content"]["text"] == "42\n" for m in outputs)
    finally:
        kernel.stop()
    assert not os.path.exists(socket_dir)

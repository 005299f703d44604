"""Training on several devices: the IIC loss of the GLOBAL batch, all-reduced before the logs.

Each check runs tests/helpers/distributed_check.py in a fresh process, since logical CPU
devices can only be made before TensorFlow starts.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # fresh processes with 2 and 4 logical devices: minutes

HELPER = Path(__file__).resolve().parent / "helpers" / "distributed_check.py"
MULTIWORKER = Path(__file__).resolve().parent / "helpers" / "multiworker_check.py"
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": ""}


class Process:
    """A helper process, started at once and read when a test first needs it.

    The checks below start their processes together: each spends most of its time
    in one thread (importing TensorFlow, building graphs), so on a 2-core machine two
    of them side by side take little longer than one.
    """

    def __init__(self, command: list[str]):
        self.args = command
        self.popen = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                      text=True, env=ENV)
        self._done: subprocess.CompletedProcess | None = None

    def wait(self, timeout: float = 600) -> subprocess.CompletedProcess:
        """The finished process (killed if it runs past ``timeout`` seconds)."""
        if self._done is None:
            try:
                out, err = self.popen.communicate(timeout=timeout)
            finally:
                self.stop()
            self._done = subprocess.CompletedProcess(self.args, self.popen.returncode, out, err)
        return self._done

    def result(self) -> dict:
        """The JSON object of the process's last ``RESULT {...}`` line (it must exit 0)."""
        done = self.wait()
        lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
        assert done.returncode == 0 and lines, done.stderr[-3000:]
        return json.loads(lines[-1].removeprefix("RESULT "))

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.kill()
            self.popen.wait()


@pytest.fixture(scope="module")
def checks():
    # 2 replicas: every check; 4 replicas: the step itself (the rest does not depend on
    # the count, and benchmarks/distributed.py measures it at 2, 4 and 8)
    started = {2: Process([sys.executable, str(HELPER), "2", "--naive"]),
               4: Process([sys.executable, str(HELPER), "4", "--step-only"])}
    yield started
    for process in started.values():
        process.stop()


@pytest.fixture(params=[2, 4], ids=lambda n: f"{n}-replicas")
def step_report(request, checks):
    return checks[request.param].result()


@pytest.fixture
def report(checks):
    return checks[2].result()


def test_the_distributed_step_is_the_single_device_step(step_report):
    # in float64 nothing but the method is left: it agrees to round-off
    report = step_report
    assert report["replicas"] in (2, 4)
    exact = report["step"]["float64"]
    assert exact["loss_diff"] < 1e-9 and exact["gradient_rel_diff"] < 1e-9
    # in float32 the loss agrees to 1e-5; the gradients to float32 round-off as it passes
    # the synchronized BatchNorm (E[x^2] - E[x]^2 summed per replica)
    fp32 = report["step"]["float32"]
    assert fp32["loss_diff"] < 1e-5 and fp32["gradient_rel_diff"] < 1e-2


def test_batchnorm_on_each_replica_changes_the_step_synchronized_does_not(report):
    # each replica normalising by its own share of the batch is another computation: its
    # loss and gradients leave the single-device step by more than the synchronized layer's
    # round-off (measured: see the README's distributed table)
    own, synced = report["per_replica_batchnorm"], report["step"]["float32"]
    assert own["loss_diff"] > 10 * max(synced["loss_diff"], 1e-7)
    assert own["gradient_rel_diff"] > synced["gradient_rel_diff"]


def test_a_checkpoint_from_a_strategy_restores_without_one(report):
    assert report["restored_equal"]


def test_the_naive_mean_of_per_replica_losses_is_another_objective(report):
    gap = report["naive_minus_global"]
    assert gap["2"] > 1e-4  # a real difference, not round-off (the global loss agrees to 1e-6)
    assert gap["2"] < gap["4"] < gap["8"]  # and it grows as the shards shrink


def test_fit_runs_under_the_strategy(report):
    # steps, BatchNorm recalibration, evaluation and a checkpoint, on several replicas
    (last,) = report["fit_evals"]
    assert last["step"] == 2 and 0 < last["acc"] <= 1


def _free_ports(n: int) -> list[int]:
    import socket

    sockets = [socket.socket() for _ in range(n)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def _tf_config(ports: list[int], index: int) -> str:
    return json.dumps({"cluster": {"worker": [f"127.0.0.1:{p}" for p in ports]},
                       "task": {"type": "worker", "index": index}})


@pytest.fixture(scope="module")
def multiworker(tmp_path_factory):
    """Two MultiWorkerMirroredStrategy runs of 2 worker processes on 127.0.0.1, side by side.

    ``steps``: tests/helpers/multiworker_check.py's workers and its single-device
    reference; ``cli``: ``python -m iic_tutorial train --strategy multiworker``. Ports are
    chosen free; every process is bounded in time and killed when the tests end.
    """
    tmp = tmp_path_factory.mktemp("multiworker")
    ports = [str(p) for p in _free_ports(2)]
    steps = [Process([sys.executable, str(MULTIWORKER), "worker", str(i), *ports,
                      str(tmp / f"w{i}.npz")]) for i in range(2)]
    steps.append(Process([sys.executable, str(MULTIWORKER), "single", str(tmp / "one.npz")]))
    cli_ports = _free_ports(2)
    cli = [Process(["env", f"TF_CONFIG={_tf_config(cli_ports, i)}", sys.executable, "-m",
                    "iic_tutorial", "train", "--strategy", "multiworker", "--steps", "2",
                    "--batch-size", "100", "--limit", "300", "--precision", "fp32",
                    "--out", str(tmp / "run"), "--quiet"]) for i in range(2)]
    yield {"steps": steps, "cli": cli, "tmp": tmp}
    for process in steps + cli:
        process.stop()


def test_two_worker_processes_train_like_one_device(multiworker):
    import numpy as np

    *workers, single = multiworker["steps"]
    reports = [w.result() for w in workers]
    one = single.result()
    assert [r["replicas"] for r in reports] == [2, 2] and one["replicas"] == 1
    # float64, synchronized BatchNorm: the global-batch loss and the updates of one device
    for r in reports:
        np.testing.assert_allclose(r["losses"], one["losses"], rtol=0, atol=1e-9)
    tmp = multiworker["tmp"]
    weights = [np.load(tmp / name) for name in ("w0.npz", "w1.npz", "one.npz")]
    for key in weights[2].files:
        np.testing.assert_array_equal(weights[0][key], weights[1][key])  # the workers agree
        np.testing.assert_allclose(weights[0][key], weights[2][key], rtol=0, atol=1e-9)
    assert reports[0]["restored_equal"]  # a checkpoint written by the chief restores without it


def test_the_command_line_trains_on_two_workers(multiworker):
    chief, worker = (p.wait(timeout=300) for p in multiworker["cli"])
    assert chief.returncode == 0, chief.stderr[-3000:]
    assert worker.returncode == 0 and "the chief writes" in worker.stdout, worker.stderr[-3000:]
    out = multiworker["tmp"] / "run"
    result = json.loads((out / "result.json").read_text())
    assert result["steps"] == 2 and 0 <= result["test_accuracy"] <= 1
    assert (out / ".worker-worker-1" / "state.json").is_file()  # the worker's own checkpoint

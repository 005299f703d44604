"""Bad inputs and faults: each gets a clear error or leaves a complete checkpoint."""

import dataclasses
import errno
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from iic_tutorial.losses import ROW_SUM_TOLERANCE, iic_loss
from iic_tutorial.metrics import cluster_accuracy, confusion_matrix
from iic_tutorial.model import create_model, load_weights
from iic_tutorial.training import FolderLock as _FolderLock, IICTrainer, TrainConfig, evaluate, predict

ROOT = Path(__file__).resolve().parent.parent


def small_config(**changes):
    """50 images x 5 copies per step: trains in a fraction of a second a step."""
    return dataclasses.replace(TrainConfig.fast(seed=0), batch_size=250, copies=5, **changes)


@pytest.fixture(scope="module")
def z():
    rng = np.random.default_rng(0)
    return tf.nn.softmax(rng.normal(size=(1000, 50)) * 3).numpy().astype(np.float32)


# ------------------------------------------------------------------ the loss
def test_float32_softmax_rows_pass_and_the_tolerance_is_tight(z):
    assert np.abs(z.sum(1) - 1).max() < ROW_SUM_TOLERANCE / 100  # float32 softmax meets it easily
    assert np.isfinite(float(iic_loss(z, z[::-1])))


@pytest.mark.parametrize("case, message", [
    ("nan", r"z holds NaN or Inf \(first in row 3 of 1000\)"),
    ("negative", r"z has negative entries \(row 5, min -0.25\).*apply softmax first"),
    ("logits", r"negative entries.*looks like raw logits: apply softmax first"),
    ("scores", r"rows of z must sum to 1; row 0 sums to .*looks like raw logits"),
])
def test_loss_rejects_what_is_not_a_probability_row(z, case, message):
    bad = z.copy()
    if case == "nan":
        bad[3, 2] = np.nan
    elif case == "negative":
        bad[5, 1] = -0.25
    elif case == "logits":
        bad = np.log(z) + 1.0
    else:
        bad = z * 2.0
    with pytest.raises(ValueError, match=message):
        iic_loss(bad, z)
    with pytest.raises(ValueError, match=message.replace("z ", "z_prime ", 1)
                       .replace("rows of z ", "rows of z_prime ")):
        iic_loss(z, bad)
    # inside tf.function the same checks are graph assertions
    with pytest.raises(tf.errors.InvalidArgumentError, match="softmax"):
        tf.function(lambda a, b: iic_loss(a, b))(bad, z)
    # and validate=False is the unchecked hot path: it returns a number (possibly NaN)
    assert tf.function(lambda a, b: iic_loss(a, b, validate=False))(bad, z).shape == ()


# ------------------------------------------------------------------- files
def test_weights_file_that_is_garbage_or_of_another_network(tmp_path):
    garbage = tmp_path / "garbage.weights.h5"
    garbage.write_bytes(b"not an HDF5 file at all" * 10)
    with pytest.raises(ValueError, match=r"garbage\.weights\.h5 is not a Keras weights file.*expected"):
        load_weights(create_model(), garbage)
    other = tmp_path / "k5.weights.h5"
    create_model(k=5, k_over=20).save_weights(str(other))
    with pytest.raises(ValueError, match=r"k5\.weights\.h5 holds weights of another network"):
        load_weights(create_model(), other)
    with pytest.raises(FileNotFoundError, match="no weights file"):
        load_weights(create_model(), tmp_path / "missing.weights.h5")


def test_cli_evaluate_garbage_weights_exits_2_naming_the_file(tmp_path, capsys):
    from iic_tutorial.__main__ import main

    garbage = tmp_path / "garbage.weights.h5"
    garbage.write_bytes(b"\x00" * 512)
    assert main(["evaluate", "--weights", str(garbage), "--limit", "10"]) == 2
    assert "garbage.weights.h5 is not a Keras weights file" in capsys.readouterr().err


@pytest.fixture(scope="module")
def checkpoints(digits, tmp_path_factory):
    """Two checkpoint folders of one run: after 2 and after 4 steps."""
    x, _ = digits
    base = tmp_path_factory.mktemp("ckpt")
    trainer = IICTrainer(small_config())
    trainer.fit(x[:500], num_steps=2, eval_every=2, progress=False, verbose=False,
                checkpoint_dir=base / "two")
    trainer.fit(x[:500], num_steps=4, eval_every=2, progress=False, verbose=False,
                checkpoint_dir=base / "four")
    return base


def _copy(src: Path, dst: Path) -> Path:
    dst.mkdir()
    for f in src.iterdir():
        (dst / f.name).write_bytes(f.read_bytes())
    return dst


def test_a_checkpoint_folder_holds_one_complete_checkpoint(checkpoints):
    files = sorted(f.name for f in (checkpoints / "four").iterdir() if f.name.startswith("ckpt"))
    assert len(files) == 2 and files[0].endswith(".data-00000-of-00001") and files[1].endswith(".index")
    assert int(IICTrainer.restore(checkpoints / "four").step.numpy()) == 4


def test_damaged_checkpoint_folders_give_clear_errors(checkpoints, tmp_path):
    state = json.loads((checkpoints / "four" / "state.json").read_text())
    # state.json that does not parse
    broken = _copy(checkpoints / "four", tmp_path / "broken")
    (broken / "state.json").write_text('{"config": {"alpha": 1')
    with pytest.raises(ValueError, match=r"state\.json is not a readable training state"):
        IICTrainer.restore(broken)
    # truncated checkpoint data
    cut = _copy(checkpoints / "four", tmp_path / "cut")
    data = next(cut.glob("ckpt*.data*"))
    data.write_bytes(data.read_bytes()[:1000])
    with pytest.raises(ValueError, match="could not be read.*truncated, damaged"):
        IICTrainer.restore(cut)
    # checkpoint files of one save, state.json of another
    mixed = _copy(checkpoints / "two", tmp_path / "mixed")
    two = json.loads((mixed / "state.json").read_text())
    for f in (checkpoints / "four").glob("ckpt*"):
        (mixed / f.name).write_bytes(f.read_bytes())
    (mixed / "state.json").write_text(json.dumps({**two, "checkpoint": state["checkpoint"]}))
    with pytest.raises(ValueError, match="mixes two saves: state.json is at step 2 but .* at step 4"):
        IICTrainer.restore(mixed)
    # state.json naming checkpoint files that are not there
    lost = _copy(checkpoints / "four", tmp_path / "lost")
    for f in lost.glob("ckpt*.index"):
        f.unlink()
    with pytest.raises(ValueError, match="index is missing: the folder is incomplete or mixed"):
        IICTrainer.restore(lost)


def test_a_second_training_on_the_same_folder_is_refused(digits, tmp_path):
    x, _ = digits
    with _FolderLock(tmp_path / "run"):
        with pytest.raises(RuntimeError, match=rf"in use by another training \(pid {os.getpid()}\)"):
            IICTrainer(small_config()).fit(x[:500], num_steps=1, progress=False, verbose=False,
                                           checkpoint_dir=tmp_path / "run")
    # the lock is gone with its holder: now the same fit goes through
    IICTrainer(small_config()).fit(x[:500], num_steps=1, progress=False, verbose=False,
                                   checkpoint_dir=tmp_path / "run")


def test_disk_full_keeps_the_previous_checkpoint(checkpoints, tmp_path, monkeypatch, digits):
    import iic_tutorial.training.checkpoint as train

    run = _copy(checkpoints / "two", tmp_path / "run")
    trainer = IICTrainer.restore(run)

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(train, "atomic_write_text", full)
    with pytest.raises(OSError, match=r"could not write a checkpoint to .*No space left on device.*"
                                      r"previous checkpoint there, if any, is intact"):
        trainer.fit(digits[0][:500], num_steps=4, eval_every=2, progress=False, verbose=False,
                    checkpoint_dir=run)
    monkeypatch.undo()
    assert int(IICTrainer.restore(run).step.numpy()) == 2


def test_cli_unwritable_out_exits_2(tmp_path, capsys):
    from iic_tutorial.__main__ import main

    blocker = tmp_path / "a-file"
    blocker.write_text("")
    assert main(["train", "--steps", "1", "--limit", "100", "--out", str(blocker / "run")]) == 2
    assert "cannot write to --out" in capsys.readouterr().err


# ------------------------------------------------------------ NaN and Ctrl-C
def test_nan_images_are_refused_before_training(digits):
    x = digits[0][:500].copy()
    x[7, 3, 3, 0] = np.nan
    with pytest.raises(ValueError, match=r"images hold NaN or Inf \(1 pixels, first in image 7\)"):
        IICTrainer(small_config()).fit(x, num_steps=1, progress=False)


def test_a_nan_loss_stops_the_run_and_keeps_the_last_good_checkpoint(digits, tmp_path):
    x = digits[0][:500]
    trainer = IICTrainer(small_config())
    trainer.fit(x, num_steps=2, eval_every=2, progress=False, verbose=False, checkpoint_dir=tmp_path)
    kernel = trainer.model.get_layer("conv1").kernel
    kernel.assign(tf.fill(kernel.shape, np.nan))  # the network goes bad after step 2
    with pytest.raises(FloatingPointError, match=r"diverged at step 3 .*last good checkpoint in .* is kept"):
        trainer.fit(x, num_steps=4, eval_every=2, progress=False, verbose=False, checkpoint_dir=tmp_path)
    restored = IICTrainer.restore(tmp_path)
    assert int(restored.step.numpy()) == 2
    assert np.isfinite(restored.model.get_layer("conv1").kernel.numpy()).all()


def test_ctrl_c_in_fit_saves_and_returns(digits, tmp_path):
    x = digits[0][:500]
    trainer = IICTrainer(small_config())
    stop = lambda trainer, record: os.kill(os.getpid(), signal.SIGINT)  # noqa: E731
    before = signal.getsignal(signal.SIGINT)  # default_int_handler; SIG_IGN in a background job
    history = trainer.fit(x, num_steps=6, eval_every=2, progress=False, verbose=False,
                          checkpoint_dir=tmp_path, callbacks=[stop])
    assert trainer.interrupted and history["step"][-1] == 2
    assert int(IICTrainer.restore(tmp_path).step.numpy()) == 2
    assert signal.getsignal(signal.SIGINT) is before  # the handler fit replaced is restored


# ----------------------------------------------------------- input checks
def test_bad_inputs_at_the_boundaries_a_reader_touches(digits):
    x, y = digits[0][:100], digits[1][:100]
    model = create_model()
    with pytest.raises(ValueError, match="no images"):
        predict(model, x[:0])
    with pytest.raises(ValueError, match=r"shape \(n, 28, 28\) or \(n, 28, 28, 1\); got \(100, 28, 28, 3\)"):
        predict(model, np.repeat(x, 3, axis=-1))
    with pytest.raises(ValueError, match=r"float images must lie in \[0, 1\]"):
        predict(model, x * 255)
    with pytest.raises(ValueError, match="one label per image: 100 images but labels of shape"):
        evaluate(model, x, y[:99])
    with pytest.raises(ValueError, match="same length; got 100 and 99"):
        cluster_accuracy(y, y[:99])
    with pytest.raises(ValueError, match="empty"):
        cluster_accuracy(y[:0], y[:0])
    with pytest.raises(ValueError, match=r"k = 5 clusters, but y_pred holds cluster id 9; pass k >= 10"):
        confusion_matrix(y, y, k=5)
    with pytest.raises(ValueError, match="give num_epochs or num_steps"):
        IICTrainer(small_config()).fit(x)


# ------------------------------------------------- killed at random moments
def _cli(*args, env=None, **popen):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", **(env or {})}
    return subprocess.run([sys.executable, "-m", "iic_tutorial", *args], capture_output=True,
                          text=True, env=env, timeout=300, cwd=ROOT, **popen)


TRAIN = ["train", "--recipe", "fast", "--batch-size", "100", "--copies", "5", "--steps", "10",
         "--eval-every", "2", "--limit", "300", "--quiet"]


def _start(out: Path, pause_in_save: float | None = None) -> subprocess.Popen:
    """The training command in a subprocess; ``pause_in_save``: seconds to sleep in every save
    between the checkpoint files and state.json (tests/helpers/pause_in_save.py)."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    entry = (["-m", "iic_tutorial"] if pause_in_save is None
             else [str(ROOT / "tests" / "helpers" / "pause_in_save.py"), str(pause_in_save)])
    return subprocess.Popen([sys.executable, *entry, *TRAIN, "--out", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT)


def _wait_for(path: Path, proc: subprocess.Popen, timeout: float = 120) -> None:
    t0 = time.time()
    while not path.exists():
        assert proc.poll() is None, f"training ended early: {proc.communicate()}"
        assert time.time() - t0 < timeout, f"no {path} after {timeout} s"
        time.sleep(0.05)


def _step_of(out: Path) -> int:
    return json.loads((out / "state.json").read_text())["step"]


@pytest.mark.slow
def test_killed_at_random_moments_it_resumes_to_the_same_result(tmp_path):
    rng = random.Random(int(time.time()))
    seed = rng.randrange(10**6)
    rng = random.Random(seed)
    straight = tmp_path / "straight"
    assert _cli(*TRAIN, "--out", str(straight)).returncode == 0
    out = tmp_path / "killed"
    # 1. SIGKILL at a random moment after the first checkpoint
    proc = _start(out)
    _wait_for(out / "state.json", proc)
    time.sleep(rng.uniform(0.0, 1.0))
    proc.kill()
    proc.wait()
    # 2. SIGKILL in the middle of a checkpoint write (new files written, state.json not yet)
    proc = _start(out, pause_in_save=30)
    _wait_for(out / ".paused-save", proc)
    before = _step_of(out)
    proc.kill()
    proc.wait()
    (out / ".paused-save").unlink()
    assert _step_of(out) == before  # state.json still names the previous, complete checkpoint
    assert int(IICTrainer.restore(out).step.numpy()) == before
    # 3. Ctrl-C: saves a checkpoint and exits 130 with a message
    proc = _start(out)
    _wait_for(out / "state.json", proc)
    step = _step_of(out)
    while _step_of(out) == step and proc.poll() is None:
        time.sleep(0.02)
    time.sleep(rng.uniform(0.0, 0.3))
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=120)
    if proc.returncode == 130:
        assert "Interrupted at step" in stdout and "checkpoint saved" in stdout
    else:  # the signal came after the last step: the run simply finished
        assert proc.returncode == 0, (stdout, stderr)
    # 4. the same command once more finishes the run
    final = _cli(*TRAIN, "--out", str(out))
    assert final.returncode == 0, final.stderr
    a, b = create_model(), create_model()
    load_weights(a, straight / "model.weights.h5")
    load_weights(b, out / "model.weights.h5")
    for u, v in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(u, v, err_msg=f"kill schedule seed {seed}")
    ha = json.loads((straight / "state.json").read_text())["history"]
    hb = json.loads((out / "state.json").read_text())["history"]
    assert ha["loss"] == hb["loss"] and ha["step"] == hb["step"]
    strip = lambda evals: [{k: v for k, v in e.items() if k != "wall_time"} for e in evals]  # noqa: E731
    assert strip(ha["evals"]) == strip(hb["evals"])
    assert not list(out.glob(".*.tmp")) and len(list(out.glob("ckpt*"))) == 2

"""The segmentation runs (chapter 12) are the registered experiment ``seg``: benchmarks/run.py
trains them with the very commands their shipped results record, and publishes them."""

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from iic_tutorial import experiments
from iic_tutorial.experiments import Experiment

from conftest import load_benchmark

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "iic_tutorial" / "segmentation" / "results"

#: The commands of the shell queue the runner replaced (benchmarks/segmentation_runs.sh),
#: after ``python -m iic_tutorial``, word for word.
SCRIPT = ["train-seg --steps 400 --eval-every 50 --seed 0 --out runs/seg_s0",
          "train-seg --steps 400 --eval-every 50 --seed 1 --out runs/seg_s1",
          "train-seg --steps 400 --eval-every 50 --seed 2 --out runs/seg_s2"]


def test_seg_runs_the_commands_the_shell_script_ran_and_its_results_record():
    assert experiments.experiment("seg").seeds == (0, 1, 2)
    assert [" ".join(experiments.command("seg", seed)) for seed in (0, 1, 2)] == SCRIPT
    for seed, words in enumerate(SCRIPT):  # the shipped results stay the experiment's runs
        shipped = json.loads((RESULTS / f"seg_s{seed}.json").read_text())
        assert shipped["command"] == f"python -m iic_tutorial {words}"


def test_seg_commands_parse_to_the_settings_of_the_shipped_runs():
    from iic_tutorial.__main__ import build_parser
    from iic_tutorial.segmentation.train import SegConfig

    parser = build_parser()
    for seed in (0, 1, 2):
        args = parser.parse_args(experiments.command("seg", seed))
        assert args.command == "train-seg" and str(args.out) == f"runs/seg_s{seed}"
        config = SegConfig(**{name: getattr(args, name) for name in SegConfig().to_dict()})
        shipped = json.loads((RESULTS / f"seg_s{seed}.json").read_text())["config"]
        assert config.to_dict() == shipped
        assert (config.steps, config.eval_every, config.seed) == (400, 50, seed)


def test_the_runner_prints_the_seg_commands_pinned(capsys):
    run = load_benchmark("run")
    assert run.main(["seg", "--pin", "0", "--dry-run"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        f"taskset -c 0 {sys.executable} -m iic_tutorial {words}" for words in SCRIPT]
    assert run.main(["seg", "--seeds", "2", "--dry-run"]) == 0  # unpinned, one seed
    assert capsys.readouterr().out.splitlines() == [f"{sys.executable} -m iic_tutorial {SCRIPT[2]}"]


def _finished_runs(runs: Path, seeds=(0, 1, 2)) -> None:
    """Fake finished seg runs: each file says which run and file it is."""
    for seed in seeds:
        folder = runs / f"seg_s{seed}"
        folder.mkdir(parents=True)
        (folder / "result.json").write_text(json.dumps({"seed": seed}))
        (folder / "model.weights.h5").write_bytes(f"weights of seed {seed}".encode())
        (folder / "ckpt-400.index").write_text("not published")


def test_publish_copies_each_result_and_seed_0s_weights(tmp_path, monkeypatch, capsys):
    from iic_tutorial.segmentation import plots

    run = load_benchmark("run")
    runs, shipped = tmp_path / "runs", tmp_path / "results"
    _finished_runs(runs)
    monkeypatch.setattr(plots, "results_dir", lambda: shipped)  # where the chapter reads them

    assert run.main(["seg", "--publish", "--dry-run", "--runs", str(runs)]) == 0
    assert not shipped.exists()  # a dry run copies nothing
    assert len(capsys.readouterr().out.splitlines()) == 4

    assert run.main(["seg", "--publish", "--runs", str(runs)]) == 0
    assert sorted(p.name for p in shipped.iterdir()) == [
        "seg_s0.json", "seg_s0.weights.h5", "seg_s1.json", "seg_s2.json"]
    for seed in (0, 1, 2):
        assert json.loads((shipped / f"seg_s{seed}.json").read_text()) == {"seed": seed}
    assert (shipped / "seg_s0.weights.h5").read_bytes() == b"weights of seed 0"


def test_publish_some_seeds_and_only_finished_runs(tmp_path, capsys):
    run = load_benchmark("run")
    runs, shipped = tmp_path / "runs", tmp_path / "results"
    _finished_runs(runs, seeds=(1, 2))
    # seed 0 is not finished: nothing is copied, and the error says what to do
    with pytest.raises(ValueError, match=r"not finished, nothing published: .*seg_s0/result\.json, "
                                         r".*seg_s0/model\.weights\.h5 missing; train them first "
                                         r"\(python benchmarks/run\.py seg --pin 0\)"):
        run.publish("seg", [0, 1, 2], runs, shipped)
    assert not shipped.exists()
    # the seeds asked for only; seed 0's weights only with seed 0
    assert run.publish("seg", [1, 2], runs, shipped) == [shipped / "seg_s1.json",
                                                         shipped / "seg_s2.json"]
    assert sorted(p.name for p in shipped.iterdir()) == ["seg_s1.json", "seg_s2.json"]
    capsys.readouterr()
    assert run.main(["seg", "--publish", "--runs", str(runs)]) == 2
    assert "not finished, nothing published" in capsys.readouterr().err


def test_publish_refuses_train_experiments(tmp_path, capsys):
    run = load_benchmark("run")
    with pytest.raises(ValueError, match=r"experiment 'final' runs train: publish its runs with "
                                         r"python benchmarks/collect.py runs/final_s0"):
        run.publish("final", [0], tmp_path, tmp_path / "results")
    assert run.main(["final", "--publish", "--runs", str(tmp_path)]) == 2
    assert "benchmarks/collect.py" in capsys.readouterr().err


def test_train_seg_experiments_are_checked():
    with pytest.raises(ValueError, match="train-seg has no recipes; got recipe 'fast': give "
                                         "recipe=None"):
        Experiment("fast", "x", {"steps": 400}, subcommand="train-seg")
    with pytest.raises(ValueError, match="cannot be on the scoreboard"):
        Experiment(None, "x", {"steps": 400}, subcommand="train-seg", headline=True)
    with pytest.raises(ValueError, match="cannot be on the scoreboard"):
        Experiment(None, "x", {"steps": 400}, subcommand="train-seg", idea="7. pixels")
    with pytest.raises(ValueError, match="cannot set out, seed"):
        Experiment(None, "x", {"seed": 1, "out": "x"}, subcommand="train-seg")
    with pytest.raises(ValueError, match="a train experiment needs a recipe"):
        Experiment(None, "x", {"steps": 400})
    with pytest.raises(ValueError, match=r"unknown subcommand 'evaluate': an experiment runs "
                                         r"python -m iic_tutorial train or train-seg"):
        Experiment("fast", "x", subcommand="evaluate")
    with pytest.raises(ValueError, match=r"has the seeds \(0, 1, 2\); got 3"):
        experiments.command("seg", 3)


def test_the_runner_sees_a_running_train_seg(tmp_path):
    run = load_benchmark("run")
    # a process whose command line has the words of a segmentation training
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)",
                             "iic_tutorial", "train-seg"])
    try:
        cmdline = Path(f"/proc/{proc.pid}/cmdline")
        for _ in range(100):  # until it has exec'd (before, /proc shows this process's words)
            if b"train-seg" in cmdline.read_bytes():
                break
            time.sleep(0.05)
        assert proc.pid in run.trainings_running()
    finally:
        proc.kill()
        proc.wait()
    assert proc.pid not in run.trainings_running()

"""Experiments: one entry each in iic_tutorial.experiments (a recipe, its options, its seeds);
the runner runs the commands the shell queues ran; results say their experiment and seed."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from iic_tutorial import experiments
from iic_tutorial.experiments import Experiment, identity

from conftest import load_benchmark

ROOT = Path(__file__).resolve().parent.parent
SHELL_QUEUES = Path(__file__).resolve().parent / "data" / "shell_queues.txt"


def _train_parser():
    from iic_tutorial.__main__ import build_parser

    return build_parser()


def test_the_registry_and_the_runner_import_no_tensorflow():
    code = ("import sys; sys.path.insert(0, 'benchmarks'); import iic_tutorial.experiments, run; "
            "assert 'tensorflow' not in sys.modules, 'imported TensorFlow'")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_every_experiment_runs_the_command_the_shell_queues_ran():
    # the shell queues (benchmarks/*.sh before the runner) expanded once: the runner's
    # commands are theirs argument for argument, and the unpinned ones are the timings
    lines = [line.split("|") for line in SHELL_QUEUES.read_text().splitlines()
             if not line.startswith("#")]
    old = {run: (pin, options.split()) for pin, run, options in lines}
    new = {experiments.run_name(name, seed): (name, seed)
           for name, e in experiments.EXPERIMENTS.items() for seed in e.seeds}
    assert set(old) <= set(new)  # every queued run is an experiment's seed (new ones may follow)
    for run, (name, seed) in ((run, new[run]) for run in old):
        argv = experiments.command(name, seed)
        assert argv[0] == "train" and argv[-5:] == ["--out", f"runs/{run}", "--quiet",
                                                   "--experiment", name]
        pinned = experiments._words(experiments.experiment(name).pinned)  # added since: below
        assert argv[1:-5] == old[run][1] + pinned, run
        assert experiments.experiment(name).alone == (old[run][0] == "all"), run


def test_every_recorded_run_is_a_seed_of_an_experiment_and_its_command_its_config():
    """A re-run trains what the run recorded, field for field.

    A field a run's config lacks was made before the field existed, with the value
    ``TrainConfig.from_dict`` fills in (fp32 and Keras's BatchNorm for precision and
    fused_batchnorm), not today's default: the experiment's command must give that value
    too, which is what ``pinned`` (experiments.BEFORE_PRECISION) is for. ``alpha_over``
    None is the over-clustering head trained with ``alpha``, as runs made before the field
    trained it (a2both: ``--alpha 2`` then, ``--alpha-over 2`` on today's fast recipe).
    """
    from iic_tutorial.training import TrainConfig
    from iic_tutorial.training.config import config_from_args

    parser = _train_parser()
    paths = sorted((ROOT / "iic_tutorial" / "pretrained" / "runs").glob("*.json"))
    assert len(paths) > 40
    for path in paths:
        run = {**json.loads(path.read_text()), "name": path.stem}
        name, seed = identity(run)
        assert seed in experiments.experiment(name).seeds, path.stem
        made = config_from_args(parser.parse_args(experiments.command(name, seed))).to_dict()
        saved = TrainConfig.from_dict(run["config"]).to_dict()
        for config in (made, saved):  # the weight each head trains with
            config["alpha_over"] = config["alpha"] if config["alpha_over"] is None else config["alpha_over"]
        assert made == saved, (path.stem, {k: (made[k], saved[k]) for k in made if made[k] != saved[k]})
        if run.get("precision"):  # what ran: the setting, or what "auto" meant on that machine
            assert made["precision"] in (run["precision"], "auto"), path.stem


def test_an_experiment_made_before_the_precision_setting_pins_what_was_in_force():
    from iic_tutorial.training.config import config_from_args

    argv = experiments.command("sweep_a1", 0)
    assert argv[argv.index("--seed"):argv.index("--out")] == [
        "--seed", "0", "--precision", "fp32", "--batchnorm", "keras"]
    config = config_from_args(_train_parser().parse_args(argv))
    assert config.precision == "fp32" and not config.fused_batchnorm
    assert "--batchnorm" not in experiments.command("long_band", 0)  # recorded its own
    with pytest.raises(ValueError, match="precision both an option and pinned"):
        Experiment("fast", "x", {"precision": "bf16"}, pinned=experiments.BEFORE_PRECISION)


def test_a_new_experiment_is_one_edit(monkeypatch, capsys):
    from iic_tutorial.runs import scoreboard

    entry = Experiment("long_band", "a test's: long_band at half the rate",
                       {"lr": "2e-4", "eval-every": 100}, seeds=(7,), headline=True,
                       idea="6. half the rate")
    monkeypatch.setitem(experiments.EXPERIMENTS, "half_lr", entry)
    assert experiments.command("half_lr", 7) == [
        "train", "--recipe", "long_band", "--lr", "2e-4", "--eval-every", "100", "--seed", "7",
        "--out", "runs/half_lr_s7", "--quiet", "--experiment", "half_lr"]
    assert ("half_lr", "6. half the rate") in experiments.ideas()
    run = load_benchmark("run")
    assert run.main(["half_lr", "--pin", "0", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("taskset -c 0 ") and "--experiment half_lr" in out
    result = {"experiment": "half_lr", "seed": 7, "name": "anything", "steps": 4000,
              "wall_time_s": 60.0, "test_accuracy": 0.99, "all70k_accuracy": 0.98,
              "config": {"seed": 7}}
    assert "| ours | a test's: long_band at half the rate, 4000 steps (1 min), 1 seed(s) |" \
        in scoreboard([result])


def test_experiments_are_checked():
    with pytest.raises(ValueError, match="unknown recipe 'slow'"):
        Experiment("slow", "no such recipe")
    with pytest.raises(ValueError, match="cannot set out, seed"):
        Experiment("fast", "x", {"seed": 1, "out": "x"})
    with pytest.raises(ValueError, match="unknown experiment 'nope'; choose one of article_a1"):
        experiments.experiment("nope")
    with pytest.raises(ValueError, match=r"has the seeds \(0, 1, 2\); got 5"):
        experiments.command("final", 5)


def test_the_seed_suffix_has_one_owner():
    # pretrained.experiment_name and selection.group_of once disagreed ("_s1": "_s1" / "")
    from iic_tutorial.pretrained import experiment_name
    from iic_tutorial.selection import group_of

    for name, expected in [("sweep_a5_s2", "sweep_a5"), ("final_s0", "final"), ("_s1", "_s1"),
                           ("view4_noise_s12", "view4_noise"), ("shipped", "shipped"),
                           ("a_seed", "a_seed"), ("shipped:long_band2c_s3", "shipped:long_band2c"),
                           ("x_s", "x_s"), ("x_s1a", "x_s1a")]:
        assert experiment_name(name) == group_of(name) == identity({"name": name})[0] == expected


def test_results_say_their_experiment_and_seed():
    # the fields, where a result has them; for older results, derived from the name once
    assert identity({"name": "whatever", "experiment": "long_band", "seed": 4}) == ("long_band", 4)
    assert identity({"name": "long_band_best3_s1", "config": {"seed": 1}}) == ("long_band_best3", 1)
    from iic_tutorial.pretrained import experiment_groups

    fake = [{"name": "b_s2", "config": {"seed": 2}},
            {"name": "renamed", "experiment": "b", "seed": 0, "config": {"seed": 0}},
            {"name": "a_s1", "config": {"seed": 1}}]
    groups = experiment_groups(fake)
    assert list(groups) == ["a", "b"] and [r["name"] for r in groups["b"]] == ["renamed", "b_s2"]
    from iic_tutorial.runs import result_fields

    assert {"experiment", "seed"} <= set(result_fields())


def test_the_runner_skips_finished_runs_and_waits_for_locked_ones(tmp_path, capsys):
    from iic_tutorial.training.checkpoint import FolderLock

    run = load_benchmark("run")
    (tmp_path / "final_s0").mkdir()
    (tmp_path / "final_s0" / "result.json").write_text("{}")
    assert run.launch("final", 0, pin=0, runs=tmp_path) == 0
    assert "skip final_s0" in capsys.readouterr().out
    folder = tmp_path / "long_band_best3_s1" / "candidate_seed3"
    assert run._holder(folder / ".lock") is None
    with FolderLock(folder):  # this process trains it: the runner would wait for it
        assert run._holder(folder / ".lock") == run.os.getpid()
    assert run._holder(folder / ".lock") is None
    assert run.planned(["final", "a2both"], None) == [("final", 0), ("final", 1), ("final", 2),
                                                     ("a2both", 0)]
    with pytest.raises(ValueError, match="has the seeds"):
        run.planned(["a2both"], [1])
    assert run.main(["long_band2c", "--pin", "0"]) == 2
    assert "without --pin" in capsys.readouterr().err
    assert run.main(["final", "--lane", "1/2", "--dry-run", "--runs", str(tmp_path)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 1 and "--seed 1" in out[0] and not out[0].startswith("taskset")


# ------------------------------------------------- train --experiment NAME is checked

def _main_train(argv, capsys):
    """python -m iic_tutorial train ARGV in this process: (exit status, stderr)."""
    from iic_tutorial.__main__ import main

    status = main(["train", *argv])
    return status, capsys.readouterr().err


SUB5_S0 = ["--recipe", "long_band", "--eval-every", "100", "--precision", "bf16", "--subheads", "5",
           "--seed", "0"]


def test_train_refuses_an_unknown_experiment_before_training(tmp_path, capsys):
    out = tmp_path / "run"
    status, err = _main_train([*SUB5_S0, "--out", str(out), "--experiment", "long_band_sub4"],
                              capsys)
    assert status == 2
    assert "unknown experiment 'long_band_sub4'; choose one of article_a1" in err
    assert "register a new experiment in iic_tutorial/experiments.py" in err
    assert not out.exists()  # refused before the run's folder was made


def test_train_refuses_a_run_whose_settings_are_not_the_experiments(tmp_path, capsys):
    out = tmp_path / "run"
    changed = [*SUB5_S0[:7], "3", *SUB5_S0[8:]]  # --subheads 3
    assert changed[6:8] == ["--subheads", "3"]
    status, err = _main_train([*changed, "--out", str(out), "--experiment", "long_band_sub5"],
                              capsys)
    assert status == 2 and not out.exists()
    assert "this run is not seed 0 of experiment 'long_band_sub5': num_subheads=3 " \
           "(the experiment's: 5)." in err
    assert ("python -m iic_tutorial train --recipe long_band --eval-every 100 --precision bf16 "
            "--subheads 5 --seed 0 --out runs/long_band_sub5_s0 --quiet --experiment "
            "long_band_sub5") in err  # what to run instead
    # the length and the images are the experiment's too, not only its TrainConfig
    status, err = _main_train([*SUB5_S0, "--steps", "100", "--out", str(out),
                               "--experiment", "long_band_sub5"], capsys)
    assert status == 2 and "steps=100 (the experiment's: 4000)" in err
    status, err = _main_train([*SUB5_S0, "--train-on", "train", "--out", str(out),
                               "--experiment", "long_band_sub5"], capsys)
    assert status == 2 and "train_on='train' (the experiment's: 'all')" in err
    # a view setting is named by its field
    status, err = _main_train([*SUB5_S0, "--band", "0.25", "--out", str(out),
                               "--experiment", "long_band_sub5"], capsys)
    assert status == 2 and "view.band_p=0.25 (the experiment's: 0.5)" in err
    assert not out.exists()


def test_train_refuses_a_seed_the_experiment_does_not_have_and_another_commands_experiment(
        tmp_path, capsys):
    out = tmp_path / "run"
    status, err = _main_train(["--recipe", "long_band", "--restarts", "3", "--eval-every", "100",
                               "--precision", "bf16", "--seed", "0", "--out", str(out),
                               "--experiment", "long_band_best3"], capsys)
    assert status == 2
    assert "experiment 'long_band_best3' has the seeds (1, 2), not 0 (--seed)" in err
    status, err = _main_train(["--recipe", "long_band", "--seed", "0", "--out", str(out),
                               "--experiment", "seg"], capsys)
    assert status == 2 and "experiment 'seg' runs train-seg, not train" in err
    assert not out.exists()


def test_the_check_compares_settings_not_words():
    parser = _train_parser()

    def args(*words):
        return parser.parse_args(["train", *words])

    def check(name, parsed):
        experiments.check(name, parsed, parser.parse_args)

    # the experiment's own command passes, and so do other words for the same settings, and
    # the options that change neither the network nor the record
    experiments.check("long_band_lr8", parser.parse_args(experiments.command("long_band_lr8", 2)),
                      parser.parse_args)
    check("long_band_lr8", args(
        "--recipe", "long_band", "--precision", "bf16", "--lr", "0.0008", "--seed", "2",
        "--eval-every", "100", "--steps", "4000", "--out", "elsewhere"))
    with pytest.raises(ValueError, match=r"limit=500 \(the experiment's: None\)"):
        check("long_band_lr8", args(  # fewer images: not one of its seeds
            "--recipe", "long_band", "--precision", "bf16", "--lr", "8e-4", "--seed", "2",
            "--eval-every", "100", "--limit", "500", "--out", "x"))
    check("sweep_a5", args(  # pinned options are part of its command
        "--recipe", "fast", "--steps", "300", "--eval-every", "50", "--alpha", "5", "--seed", "1",
        "--precision", "fp32", "--batchnorm", "keras", "--out", "x", "--quiet"))
    with pytest.raises(ValueError, match=r"precision='auto' \(the experiment's: 'fp32'\); "
                                         r"fused_batchnorm=True \(the experiment's: False\)\."):
        check("sweep_a5", args("--recipe", "fast", "--steps", "300", "--eval-every",
                                           "50", "--alpha", "5", "--seed", "1", "--out", "x"))
    with pytest.raises(ValueError, match=r"eval_every=200 \(the experiment's: 100\)"):
        check("long_band_lr8", args("--recipe", "long_band", "--precision", "bf16",
                                                "--lr", "8e-4", "--seed", "2", "--eval-every",
                                                "200", "--out", "x"))


def test_every_train_option_is_compared_or_named_as_ignored():
    # a new option of train is either a TrainConfig field (config_*, view_*), one of what the
    # check compares beside the config, or named in IGNORED_BY_CHECK: never silently skipped
    options = set(vars(_train_parser().parse_args(["train", "--recipe", "fast", "--out", "x"])))
    compared = {o for o in options if o.startswith(("config_", "view_"))}
    compared |= {"recipe", "epochs", "steps", "train_on", "limit", "eval_every"}
    assert options - compared - {"command"} == set(experiments.IGNORED_BY_CHECK)


def test_every_recorded_command_with_an_experiment_passes_the_check():
    parser = _train_parser()
    recorded = [json.loads(p.read_text())
                for p in sorted((ROOT / "iic_tutorial" / "pretrained" / "runs").glob("*.json"))]
    recorded = [r for r in recorded if r.get("experiment") is not None]
    assert len(recorded) >= 2
    for run in recorded:
        words = run["command"].split()
        assert words[:3] == ["python", "-m", "iic_tutorial"], run["command"]
        args = parser.parse_args(words[3:])
        assert args.experiment == run["experiment"]
        # raises, naming what differs, if not
        experiments.check(run["experiment"], args, parser.parse_args)

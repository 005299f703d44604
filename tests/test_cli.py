import dataclasses
import json
import os
import platform
import subprocess
import sys

import pytest

from iic_tutorial.__main__ import build_parser, config_from_args, main


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "iic_tutorial", *args],
                          capture_output=True, text=True, timeout=300)


def test_help_lists_both_commands(capsys):
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args(["--help"])
    assert exit_info.value.code == 0
    top = capsys.readouterr().out
    assert "train" in top and "evaluate" in top
    # the installed entry point, in a process of its own
    train_help = run_cli("train", "--help").stdout
    for option in ("--alpha", "--epochs", "--steps", "--out", "--only", "--no-over-clustering"):
        assert option in train_help


@pytest.mark.parametrize(
    "args, message",
    [
        (["train", "--alpha", "-1", "--steps", "1", "--out", "x"], "expected a number >= 0"),
        (["train", "--steps", "0", "--out", "x"], "expected a positive integer"),
        (["train", "--steps", "1", "--epochs", "1", "--out", "x"], "not allowed with argument"),
        (["train", "--only", "blur", "--steps", "1", "--out", "x"], "invalid choice: 'blur'"),
        (["fly"], "invalid choice"),
    ],
)
def test_bad_arguments_exit_2_with_message(args, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args(args)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_a_length_is_required_unless_the_recipe_has_one(capsys, tmp_path):
    from iic_tutorial.__main__ import length_in_steps
    from iic_tutorial.training import RECIPE_STEPS, TrainConfig

    assert main(["train", "--out", str(tmp_path)]) == 2
    assert "give --steps or --epochs: the recipe 'fast' has no length" in capsys.readouterr().err
    parse = build_parser().parse_args
    assert length_in_steps(parse(["train", "--recipe", "long", "--out", "x"]), 350.0) == 4000
    assert RECIPE_STEPS["long"] == 4000
    assert length_in_steps(parse(["train", "--recipe", "long", "--steps", "7", "--out", "x"]), 350.0) == 7
    assert length_in_steps(parse(["train", "--epochs", "1.01", "--out", "x"]), 350.0) == 354
    config = config_from_args(parse(["train", "--recipe", "long", "--out", "x"]))
    assert config == TrainConfig.long() and config.describe() == "long"
    # the long recipe is the fast one with erasing and a later, longer low-lr phase
    assert TrainConfig.long(seed=3) == dataclasses.replace(
        TrainConfig.fast(seed=3, erase_p=0.5), recipe="long", lr_drop_step=3000)
    assert TrainConfig.long().view.erase_p == 0.5 and TrainConfig.fast().view.erase_p == 0


def test_view_options_change_only_what_they_name():
    from iic_tutorial.training import TrainConfig

    args = build_parser().parse_args(["train", "--scale", "0.9", "1.6", "--shift", "5", "--erase", "0.5",
                                      "--steps", "1", "--out", "x"])
    config = config_from_args(args)
    view, fast = config.view, TrainConfig.fast().view
    assert (view.scale, view.shift, view.erase_p) == ((0.9, 1.6), 5.0, 0.5)
    assert view.max_degrees == fast.max_degrees and view.erase_size == fast.erase_size
    only = config_from_args(build_parser().parse_args(
        ["train", "--only", "erasing", "--erase", "0.5", "--steps", "1", "--out", "x"])).view
    assert only.erase_p == 0.5 and only.max_degrees == 0 and only.scale == (1.0, 1.0)


def test_bad_view_settings_exit_2(capsys, tmp_path):
    code = main(["train", "--scale", "1.5", "1", "--steps", "1", "--out", str(tmp_path)])
    assert code == 2
    assert "scale must be (low, high) with 0 < low <= high" in capsys.readouterr().err


def test_incompatible_settings_exit_2(capsys, tmp_path):
    code = main(["train", "--copies", "7", "--steps", "1", "--out", str(tmp_path)])
    assert code == 2
    assert "multiple of copies" in capsys.readouterr().err


@pytest.mark.slow
def test_train_then_evaluate_end_to_end(tmp_path):
    out = tmp_path / "run"
    args = ["train", "--steps", "3", "--batch-size", "100", "--limit", "500", "--out", str(out), "--quiet"]
    result = run_cli(*args)
    assert result.returncode == 0, result.stderr
    summary = json.loads((out / "result.json").read_text())
    from iic_tutorial.runs import curve_fields, result_fields

    assert list(summary) == list(result_fields()) and list(summary["curve"][0]) == list(curve_fields())
    assert summary["steps"] == 3 and summary["config"]["batch_size"] == 100
    assert 0 <= summary["test_accuracy"] <= 1 and summary["command"].startswith("python -m iic_tutorial train")
    # what ran, as fields: the versions of this process, the processor, the dev accuracy
    import keras
    import numpy as np
    import tensorflow as tf

    assert summary["software"] == {"python": platform.python_version(), "tensorflow": tf.__version__,
                                   "keras": keras.__version__, "numpy": np.__version__}
    assert summary["machine"]["cores"] == os.cpu_count() and summary["machine"]["gpus"] == []
    from iic_tutorial.data import dev_indices

    assert len(dev_indices(500)) > 20  # --limit 500 keeps the dev images below 500
    assert summary["dev_accuracy"] == summary["curve"][-1]["dev_acc"]
    assert 0 < summary["dev_accuracy"] <= 1
    assert summary["precision"] in ("fp32", "bf16")
    # resuming to more steps continues from step 3
    args[2] = "5"
    resumed = run_cli(*args)
    assert "Resuming" in resumed.stdout and json.loads((out / "result.json").read_text())["steps"] == 5
    ev = run_cli("evaluate", "--weights", str(out / "model.weights.h5"), "--limit", "300", "--json")
    assert ev.returncode == 0, ev.stderr
    assert 0 <= json.loads(ev.stdout)["acc"] <= 1


def test_bf16_where_it_cannot_run_exits_2_before_training(tmp_path, capsys, monkeypatch):
    import iic_tutorial.training.step as step
    from iic_tutorial.__main__ import main

    monkeypatch.setattr(step, "bf16_runs_here", lambda: False)
    status = main(["train", "--precision", "bf16", "--steps", "1", "--limit", "300",
                   "--out", str(tmp_path / "run"), "--quiet"])
    assert status == 2
    assert "precision='bf16' does not run on this machine" in capsys.readouterr().err
    assert not (tmp_path / "run" / "result.json").exists()


def test_evaluate_builds_the_network_the_run_recorded(tmp_path, capsys):
    """Weights of a --pooling flatten run load into a flatten network, not the default one."""
    from iic_tutorial.model import create_model
    from iic_tutorial.training import TrainConfig

    run = tmp_path / "run"
    run.mkdir()
    create_model(seed=0, pooling="flatten").save_weights(str(run / "model.weights.h5"))
    config = dataclasses.replace(TrainConfig.fast(), pooling="flatten")
    (run / "result.json").write_text(json.dumps({"config": config.to_dict()}))
    assert main(["evaluate", "--weights", str(run / "model.weights.h5"), "--limit", "200",
                 "--json"]) == 0
    assert 0 <= json.loads(capsys.readouterr().out)["acc"] <= 1
    (run / "result.json").unlink()  # no record: the default network, which cannot hold them
    assert main(["evaluate", "--weights", str(run / "model.weights.h5"), "--limit", "200"]) == 2
    assert "holds weights of another network" in capsys.readouterr().err


def test_evaluate_missing_weights_exit_2(tmp_path, capsys):
    assert main(["evaluate", "--weights", str(tmp_path / "nope.weights.h5")]) == 2
    assert "no weights file" in capsys.readouterr().err


@pytest.mark.parametrize("name", ["long_band", "fast"])
def test_evaluate_a_shipped_model_by_name_gives_its_stated_accuracy(name, capsys):
    from iic_tutorial.pretrained import pretrained_info

    assert main(["evaluate", "--pretrained", name, "--limit", "2000", "--json"]) == 0
    acc = json.loads(capsys.readouterr().out)["acc"]
    assert acc == pytest.approx(pretrained_info(name)["test_first2000_accuracy"], abs=0.002)


def test_evaluate_an_unknown_shipped_model_exits_2_naming_the_choices(capsys):
    with pytest.raises(SystemExit) as e:
        main(["evaluate", "--pretrained", "best"])
    assert e.value.code == 2 and "choose from 'fast', 'long_band'" in capsys.readouterr().err


def test_help_prints_no_tensorflow_start_up_noise():
    out = run_cli("evaluate", "--help")
    assert out.returncode == 0 and out.stderr == ""


def test_hardware_names_the_cores_a_pinned_run_had(monkeypatch):
    import os

    from iic_tutorial.__main__ import hardware

    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {1}, raising=False)
    monkeypatch.setenv("TF_NUM_INTRAOP_THREADS", "1")
    assert hardware().startswith("CPU only, 1 of 2 cores, 1 TensorFlow thread(s)")
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    monkeypatch.delenv("TF_NUM_INTRAOP_THREADS")
    assert hardware().startswith("CPU only, 2 cores, ")


def test_cpu_name_keeps_the_model_numbers_and_the_bf16_hardware(tmp_path):
    from iic_tutorial.runs import cpu_name

    intel = tmp_path / "intel"
    intel.write_text("processor\t: 0\nvendor_id\t: GenuineIntel\ncpu family\t: 6\nmodel\t\t: 143\n"
                     "model name\t: Intel(R) Xeon(R) Platinum 8481C CPU @ 2.70GHz\n"
                     "flags\t\t: fpu avx512f avx512_bf16 amx_bf16 amx_tile\n\n"
                     "processor\t: 1\nmodel name\t: another one\n")
    assert cpu_name(intel) == ("Intel(R) Xeon(R) Platinum 8481C CPU @ 2.70GHz "
                               "(family 6, model 143; bf16: AMX + AVX512-BF16)")
    amd = tmp_path / "amd"
    amd.write_text("cpu family\t: 26\nmodel\t\t: 2\nmodel name\t: AMD EPYC\nflags\t\t: fpu avx2\n")
    assert cpu_name(amd) == "AMD EPYC (family 26, model 2)"
    assert cpu_name(tmp_path / "missing") == ""

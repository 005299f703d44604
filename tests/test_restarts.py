"""Seed restarts: the candidates, the choice by the lowest loss, and its accounting."""

import dataclasses
import json
import math
import numpy as np
import pytest

from iic_tutorial.__main__ import main
from iic_tutorial.training import TrainConfig
from iic_tutorial.training import restarts as rs


def best_of_3(seed=0):
    return dataclasses.replace(TrainConfig.long_band(seed=seed), restarts=3)


def test_candidates_of_different_seeds_never_share_a_seed():
    config = best_of_3()
    assert rs.candidate_seeds(config) == [0, 1, 2]
    seeds = [rs.candidate_seeds(best_of_3(s)) for s in range(4)]
    assert seeds[1] == [3, 4, 5] and len({x for s in seeds for x in s}) == 12
    candidate = rs.candidate_config(best_of_3(1), 4)
    assert candidate.seed == 4 and candidate.restarts == 1 and candidate.recipe == "long_band"
    late = rs.candidate_config(dataclasses.replace(best_of_3(), restart_above=-4.0), 2)
    assert late.restarts == 1 and late.restart_above is None  # a candidate is a plain run
    assert candidate.view == config.view and candidate.lr_drop_step == 3000
    assert rs.candidate_seeds(TrainConfig.fast(seed=7)) == [7]  # one start: the seed itself


def test_restart_loss_is_the_mean_of_the_window_before_the_choice():
    history = {"loss": list(np.arange(1.0, 601.0))}  # step s has loss s; it trained on past 500
    # steps 401..500: mean 450.5, whatever came after step 500
    assert rs.restart_loss(history, 500) == 450.5
    assert rs.restart_loss(history, 500, window=1) == 500.0
    assert rs.restart_loss(history, 40) == 20.5  # a window longer than the phase: all of it
    assert rs.window_start(500) == 401 and rs.window_start(40) == 1
    with pytest.raises(ValueError, match="trained 600 steps; the choice needs 700"):
        rs.restart_loss(history, 700)


def test_the_lowest_loss_is_chosen_and_a_failed_candidate_is_an_error():
    assert rs.choose({3: -4.1, 4: -4.3, 5: -3.9}) == 4
    assert rs.choose({5: -4.0, 3: -4.0}) == 3  # equals: the first seed
    with pytest.raises(ValueError, match="not finite: {4: nan}"):
        rs.choose({3: -4.1, 4: math.nan})
    with pytest.raises(ValueError, match="no candidates"):
        rs.choose({})


def test_the_curve_counts_the_other_candidates_time_and_starts_at_the_choice():
    curve = [{"step": s, "wall_time": t, "acc": a}
             for s, t, a in ((100, 10.0, 0.5), (200, 21.0, 0.9), (300, 33.0, 0.95))]
    shifted = rs.shift_curve(curve, 30.0, restart_steps=200)
    # steps 100 and 200: the choice, after both phases (21 + 30 s); then 30 s later than alone
    assert [p["wall_time"] for p in shifted] == [51.0, 51.0, 63.0]
    assert shifted[1]["acc"] == 0.9 and curve[0]["wall_time"] == 10.0  # a copy
    with pytest.raises(ValueError, match="no evaluation at step 150"):
        rs.shift_curve(curve, 30.0, restart_steps=150)


def test_bad_restart_settings_are_refused():
    with pytest.raises(ValueError, match="restarts and restart_steps must be >= 1; got 0, 500"):
        TrainConfig(restarts=0)


def test_a_candidate_is_good_enough_at_or_below_restart_above():
    late = dataclasses.replace(best_of_3(), restart_steps=1000, restart_above=-4.18)
    assert rs.good_enough(-4.30, late) and rs.good_enough(-4.18, late)
    assert not rs.good_enough(-4.10, late) and not rs.good_enough(math.nan, late)
    assert not rs.good_enough(-9.0, best_of_3())  # unset: every candidate trains


def test_bad_restart_above_is_refused_with_what_to_do():
    with pytest.raises(ValueError, match=r"restart_above \(-4.18\) decides between restart "
                                         "candidates: give restarts >= 2 too"):
        TrainConfig(restart_above=-4.18)
    with pytest.raises(ValueError, match="restart_above must be a finite loss in nats; got nan"):
        TrainConfig(restarts=3, restart_above=math.nan)


def test_cli_restart_above_takes_a_negative_loss_and_refuses_infinity(capsys):
    from iic_tutorial.__main__ import build_parser
    from iic_tutorial.training.config import config_from_args

    parser = build_parser()
    args = parser.parse_args(["train", "--recipe", "long_band", "--restarts", "3",
                              "--restart-above", "-4.18", "--out", "x"])
    assert config_from_args(args).restart_above == -4.18
    with pytest.raises(SystemExit):
        parser.parse_args(["train", "--restarts", "3", "--restart-above", "inf", "--out", "x"])
    assert "expected a finite number, got inf" in capsys.readouterr().err


def run_cli(*args):  # in this process: TensorFlow starts once for the tests below
    return main(["train", *args])


@pytest.mark.slow
def test_cli_restarts_train_the_candidates_and_continue_the_lowest_loss(tmp_path, capsys):
    common = ["--batch-size", "100", "--copies", "5", "--limit", "500", "--eval-every", "2",
              "--precision", "fp32", "--quiet"]
    out = tmp_path / "best"
    assert run_cli("--restarts", "2", "--restart-steps", "3", "--steps", "5", "--seed", "1",
                   "--out", str(out), *common) == 0
    choice = json.loads((out / "restarts.json").read_text())
    assert choice["seeds"] == [2, 3]
    states = {s: json.loads((out / f"candidate_seed{s}" / "state.json").read_text()) for s in (2, 3)}
    losses = {s: float(np.mean(st["history"]["loss"][:3])) for s, st in states.items()}
    chosen = min(losses, key=losses.get)
    assert choice["chosen"] == chosen and choice["loss"][str(chosen)] == pytest.approx(losses[chosen])
    other = 5 - chosen
    assert states[chosen]["step"] == 5 and states[other]["step"] == 3  # only the chosen trains on
    at_3 = next(e for e in states[other]["history"]["evals"] if e["step"] == 3)  # labels: a monitor
    assert choice["test_accuracy"][str(other)] == at_3["acc"]
    assert choice["test_confusion"][str(other)] == at_3["confusion"]
    result = json.loads((out / "result.json").read_text())
    assert result["config"]["restarts"] == 2 and result["config"]["seed"] == 1
    others = states[other]["wall_time"]
    assert choice["others_wall_time_s"] == pytest.approx(others)
    last = states[chosen]["history"]["evals"][-1]["wall_time"]  # training seconds at its last eval
    assert result["wall_time_s"] == pytest.approx(last + others)
    assert result["curve"][-1]["wall_time"] == pytest.approx(result["wall_time_s"])
    at_choice = next(e["wall_time"] for e in states[chosen]["history"]["evals"] if e["step"] == 3)
    assert result["curve"][0]["wall_time"] == pytest.approx(at_choice + others)  # step 2: the choice
    # the chosen candidate's model is a plain run of its seed: stopping at step 3 changes nothing
    plain = tmp_path / "plain"
    assert run_cli("--steps", "5", "--seed", str(chosen), "--out", str(plain), *common) == 0
    alone = json.loads((plain / "result.json").read_text())
    assert result["test_accuracy"] == alone["test_accuracy"]
    assert result["final_loss"] == alone["final_loss"]
    # the trained network is found where the chosen candidate left it (selection, shipping)
    from iic_tutorial.training import IICTrainer
    from iic_tutorial.training.restarts import trained_folder

    assert trained_folder(out) == out / f"candidate_seed{chosen}" and trained_folder(plain) == plain
    assert int(IICTrainer.restore(trained_folder(out)).step.numpy()) == 5
    # the same command again: every candidate resumes, nothing is trained twice
    capsys.readouterr()
    assert run_cli("--restarts", "2", "--restart-steps", "3", "--steps", "5", "--seed", "1",
                   "--out", str(out), *common) == 0
    assert capsys.readouterr().out.count("Resuming") == 2
    assert json.loads((out / "restarts.json").read_text())["chosen"] == chosen


def test_cli_a_run_no_longer_than_its_candidates_is_refused(tmp_path, capsys):
    assert run_cli("--restarts", "2", "--restart-steps", "10", "--steps", "10", "--limit", "200",
                   "--out", str(tmp_path / "x")) == 2
    assert "no longer than the candidates' 10 (--restart-steps)" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()  # refused before anything was made

"""Recipes: one entry each in iic_tutorial.recipes, a complete run (settings, length,
cadence), reaching the command line, TrainConfig, describe() and the result JSON."""

import dataclasses
import json
import subprocess
import sys

import pytest

from iic_tutorial import recipes
from iic_tutorial.recipes import Recipe


def _train_parser():
    from iic_tutorial.__main__ import build_parser

    return build_parser()


def test_the_table_imports_no_tensorflow():
    code = ("import sys, iic_tutorial.recipes; "
            "assert 'tensorflow' not in sys.modules, 'imported TensorFlow'")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_a_new_recipe_is_one_edit(monkeypatch, tmp_path, capsys):
    # one entry in the table: the CLI's --recipe (choices, help, length, cadence), the
    # TrainConfig maker, describe() and the result JSON all know it -- nothing else is touched
    from iic_tutorial.__main__ import length_in_steps, main
    from iic_tutorial.training import RECIPE_STEPS, RECIPES, TrainConfig
    from iic_tutorial.training.config import config_from_args

    tiny = Recipe("a test's: fast with 20 pairs a step, 2 steps", base="fast",
                  settings={"batch_size": 20, "lr_drop_step": 1}, view={"erase_p": 0.25},
                  steps=2, eval_every=1)
    monkeypatch.setitem(recipes.RECIPES, "tiny", tiny)
    parser = _train_parser()
    help_text = " ".join(parser._subparsers._group_actions[0].choices["train"].format_help().split())
    assert "'tiny' (a test's: fast with 20 pairs a step, 2 steps)" in help_text
    args = parser.parse_args(["train", "--recipe", "tiny", "--out", str(tmp_path)])
    config = config_from_args(args)
    assert config == TrainConfig.tiny() == TrainConfig.named("tiny")
    assert (config.recipe, config.batch_size, config.copies, config.lr) == ("tiny", 20, 5, 4e-4)
    assert config.view.erase_p == 0.25 and config.lr_drop_step == 1
    assert config.describe() == "tiny"
    assert dataclasses.replace(config, recipe="fast").describe() == \
        "fast (lr_drop_step=1, batch_size=20, view: erase_p=0.25)"
    assert RECIPES["tiny"] == tiny.about and RECIPE_STEPS["tiny"] == 2
    assert length_in_steps(args, 1.0) == 2
    assert TrainConfig.tiny(3, 1) == dataclasses.replace(config, alpha=3, seed=1)
    assert main(["train", "--recipe", "tiny", "--limit", "100", "--out", str(tmp_path),
                 "--quiet"]) == 0
    result = json.loads((tmp_path / "result.json").read_text())
    assert result["config"]["recipe"] == "tiny" and result["steps"] == 2
    assert [p["step"] for p in result["curve"]] == [1, 2]  # the recipe's cadence
    assert TrainConfig.from_dict(result["config"]) == config
    assert (result["experiment"], result["seed"]) == (None, 0)


def test_recipes_chain_and_are_checked():
    assert recipes.resolve("long_band") == (
        {"alpha": 2.0, "alpha_over": 1.0, "lr": 4e-4, "batch_size": 1000, "copies": 5,
         "view": "fast", "view_x": "none", "lr_drop_step": 3000},
        {"erase_p": 0.5, "band_p": 0.5})
    assert recipes.length("long_band") == 4000 and recipes.eval_every("long_band") == 100
    assert recipes.length("fast") is None and recipes.eval_every("article") is None
    with pytest.raises(ValueError, match=r"unknown recipe 'slow'; choose one of \('article'"):
        recipes.resolve("slow")
    with pytest.raises(ValueError, match="a recipe's steps is a number of steps >= 1"):
        Recipe("one line", steps=0)
    with pytest.raises(ValueError, match="one line saying what it is"):
        Recipe("two\nlines")


def test_no_recipe_is_hidden_by_a_setting():
    # TrainConfig.<recipe>() is derived; a recipe named like a field would be that field
    from iic_tutorial.training import TrainConfig

    for name in recipes.RECIPES:
        assert name not in vars(TrainConfig) and callable(getattr(TrainConfig, name)), name
        assert getattr(TrainConfig, name)().recipe == name


def test_the_fast_models_recipe_has_a_name():
    from iic_tutorial.training import TrainConfig

    shipped = TrainConfig.fast_erase(seed=2)
    assert dataclasses.replace(shipped, recipe="fast").describe() == \
        "fast (lr_drop_step=900, view: erase_p=0.5)"
    assert recipes.length("fast_erase") == 1600 and recipes.eval_every("fast_erase") == 100
    # the long recipe is the fast model's with a later drop, trained longer
    assert dataclasses.replace(TrainConfig.long(seed=2), recipe="fast_erase").describe() == \
        "fast_erase (lr_drop_step=3000)"


def test_a_run_that_names_no_recipe_trains_the_same_one_everywhere():
    # the command line, IICTrainer() and AugmentConfig() agree: recipes.DEFAULT; TrainConfig()
    # alone is the paper's settings, which the chapters start from
    from iic_tutorial.augment import AugmentConfig
    from iic_tutorial.training import IICTrainer, TrainConfig
    from iic_tutorial.training.config import config_from_args

    default = TrainConfig.named(recipes.DEFAULT)
    args = _train_parser().parse_args(["train", "--out", "x"])
    assert args.recipe == recipes.DEFAULT and config_from_args(args) == default
    assert IICTrainer().config == default
    assert AugmentConfig() == default.view
    assert TrainConfig() == TrainConfig.article() != default


def test_long_band_sub5_is_what_the_runs_of_its_experiments_trained():
    # the recipe long_band_sub5 is long_band with five sub-heads: the runs of the experiments
    # that started it as --recipe long_band --subheads 5 (both precisions, both protocols)
    # trained exactly its settings, so a table may call them seeds of the recipe
    from iic_tutorial.pretrained import experiment_groups
    from iic_tutorial.training import TrainConfig

    groups = experiment_groups()
    runs = [r for name in ("long_band_sub5", "long_band_sub5_fp32", "heldout_long_band_sub5")
            for r in groups.get(name, [])]
    assert {r["precision"] for r in runs} == {"bf16", "fp32"}
    for r in runs:
        config = TrainConfig.from_dict(r["config"])
        same = TrainConfig.long_band_sub5(seed=config.seed, precision=config.precision)
        assert same.same_settings(config), r["name"]
    assert TrainConfig.long_band_sub5().num_subheads == 5
    assert dataclasses.replace(TrainConfig.long_band_sub5(), recipe="long_band").describe() == \
        "long_band (num_subheads=5)"


def test_long_band_late_is_what_the_runs_of_long_band_sub5_late_trained():
    # the experiment started it by its settings (--recipe long_band --subheads 5 --restarts 3
    # --restart-steps 1000 --restart-above -4.18 --steps 8000 --lr-drop 7000); the recipe's
    # word names exactly those, with the length the runs trained
    from iic_tutorial.pretrained import experiment_groups
    from iic_tutorial.training import RECIPE_STEPS, TrainConfig

    runs = experiment_groups().get("long_band_sub5_late", [])
    assert runs, "no result of long_band_sub5_late"
    for r in runs:
        config = TrainConfig.from_dict(r["config"])
        late = TrainConfig.named("long_band_late", seed=config.seed, precision=config.precision)
        assert late.same_settings(config), r["name"]
        assert r["steps"] == RECIPE_STEPS["long_band_late"] == 8000
    late = TrainConfig.named("long_band_late")
    assert (late.restarts, late.restart_steps, late.restart_above, late.lr_drop_step) == (3, 1000, -4.18, 7000)

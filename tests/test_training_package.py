"""The training package: one edit per setting, the recipe's name stored, the old paths kept,
and the step reproducing the code before the package bit for bit."""

import argparse
import dataclasses
import json
import re
from pathlib import Path

import pytest

from iic_tutorial.augment import AugmentConfig
from iic_tutorial.training import IICTrainer, TrainConfig
from iic_tutorial.training.config import add_config_arguments, config_from_args, setting

ROOT = Path(__file__).resolve().parent.parent


def parse(*argv, config_class=None):
    parser = argparse.ArgumentParser()
    add_config_arguments(parser, config_class)
    return config_from_args(parser.parse_args(list(argv)), config_class)


def test_the_old_import_path_gives_the_same_objects():
    import iic_tutorial.train as old
    import iic_tutorial.training as new

    for name in ("IICTrainer", "TrainConfig", "evaluate", "predict", "recalibrate_batchnorm",
                 "resolve_precision", "PRECISIONS"):
        assert getattr(old, name) is getattr(new, name)


def test_every_setting_has_a_help_line_and_an_option():
    from iic_tutorial.__main__ import build_parser

    help_text = " ".join(build_parser()._subparsers._group_actions[0].choices["train"]
                         .format_help().split())
    for f in dataclasses.fields(TrainConfig):
        assert f.metadata["help"], f.name
        if f.metadata["cli"]:
            flag = f.metadata["flag"] or "--" + f.name.replace("_", "-")
            assert flag in help_text, flag
            assert " ".join(f.metadata["help"].split())[:40] in help_text, f.name
    for f in dataclasses.fields(AugmentConfig):
        assert f.metadata["help"] and f"--view-{f.name.replace('_', '-')}" in help_text


def test_a_new_setting_is_one_edit():
    # a field with its help line is an option, parses, and is described -- nothing else is touched
    @dataclasses.dataclass
    class WithDropout(TrainConfig):
        dropout: float = setting(0.0, parse=float, help="dropout rate before the heads")

    parser = argparse.ArgumentParser()
    add_config_arguments(parser, WithDropout)
    assert "dropout rate before the heads" in parser.format_help()
    config = config_from_args(parser.parse_args(["--recipe", "fast", "--dropout", "0.25"]), WithDropout)
    assert isinstance(config, WithDropout) and config.dropout == 0.25 and config.recipe == "fast"
    assert config.describe() == "fast (dropout=0.25)"


def test_recipes_are_named_and_their_name_is_stored():
    assert TrainConfig() == TrainConfig.article() and TrainConfig().recipe == "article"
    fast = TrainConfig.fast(seed=3)
    assert fast.recipe == "fast" and TrainConfig.from_dict(fast.to_dict()) == fast
    assert TrainConfig.named("fast", seed=3) == fast
    assert fast.view == AugmentConfig.fast() and TrainConfig.article().view == AugmentConfig.article()
    long = TrainConfig.long(seed=3)
    assert long.recipe == "long" and TrainConfig.from_dict(long.to_dict()) == long
    assert TrainConfig.named("long", seed=3) == long and long.describe() == "long"
    # the same settings under the fast recipe's name describe as what they change
    assert dataclasses.replace(long, recipe="fast").describe() == "fast (lr_drop_step=3000, view: erase_p=0.5)"
    # the long recipe with the band: long's settings and one more
    band = TrainConfig.long_band(seed=2)
    assert dataclasses.replace(band, recipe="long").describe() == "long (view: band_p=0.5)"
    assert band.restarts == 1 and TrainConfig.named("long_band", seed=2) == band
    assert dataclasses.replace(band, restarts=3).describe() == "long_band (restarts=3)"
    from iic_tutorial.recipes import RECIPES

    names = tuple(RECIPES)  # every recipe, in the table's order
    assert names[:5] == ("article", "fast", "fast_erase", "long", "long_band")
    with pytest.raises(ValueError, match=re.escape(f"unknown recipe 'slow'; choose one of {names}")):
        TrainConfig.named("slow")
    with pytest.raises(ValueError, match="recipe must be one of"):
        TrainConfig(recipe="slow")


def test_same_settings_leaves_out_the_recipe_name_and_what_is_ignored():
    sub5 = TrainConfig.long_band_sub5(seed=1)
    started_as = TrainConfig.long_band(seed=1, num_subheads=5)  # --recipe long_band --subheads 5
    assert sub5.same_settings(started_as) and started_as.same_settings(sub5)
    assert sub5 != started_as  # equality still sees the name
    other_seed = TrainConfig.long_band(seed=4, num_subheads=5, precision="fp32")
    assert not sub5.same_settings(other_seed)
    assert sub5.same_settings(other_seed, ignore=("seed", "precision"))
    assert not sub5.same_settings(TrainConfig.long_band(seed=1), ignore=("seed", "precision"))
    with pytest.raises(ValueError, match="colour: not settings of TrainConfig"):
        sub5.same_settings(sub5, ignore=("colour",))


def test_describe_names_what_differs_from_the_recipe():
    fast = TrainConfig.fast()
    assert fast.describe() == "fast" and TrainConfig.article(alpha=10, seed=2).describe() == "article"
    shipped = dataclasses.replace(fast, lr_drop_step=900, view=AugmentConfig.fast(erase_p=0.5))
    assert shipped.describe() == "fast (lr_drop_step=900, view: erase_p=0.5)"
    assert dataclasses.replace(fast, view=AugmentConfig.article()).describe() == "fast (view=article)"
    only = dataclasses.replace(fast, view=AugmentConfig.article().only("rotation"))
    assert only.describe() == "fast (view=article, rotation only)"
    legacy = dataclasses.replace(fast, precision="fp32", fused_batchnorm=False, num_subheads=5)
    assert legacy.describe() == "fast (num_subheads=5, precision=fp32, batchnorm=keras)"


def test_configs_saved_before_the_recipe_name_get_it_from_their_copies():
    old = TrainConfig.fast().to_dict()
    del old["recipe"], old["precision"], old["fused_batchnorm"]
    config = TrainConfig.from_dict(old)
    assert config.recipe == "fast" and config.precision == "fp32" and not config.fused_batchnorm
    old_article = {k: v for k, v in TrainConfig.article().to_dict().items() if k != "recipe"}
    assert TrainConfig.from_dict(old_article).recipe == "article"


def test_every_recorded_command_parses_to_the_config_its_run_saved():
    # the generated options read every collected command as the old hand-written ones did
    from iic_tutorial.__main__ import build_parser

    runs = [json.loads(p.read_text()) for p in sorted((ROOT / "iic_tutorial" / "pretrained" / "runs").glob("*.json"))]
    assert len(runs) > 40
    for run in runs:
        argv = run["command"].removeprefix("python -m iic_tutorial ").split()
        config = config_from_args(build_parser().parse_args(argv)).to_dict()
        saved = TrainConfig.from_dict(run["config"]).to_dict()
        # fields a run saved before they existed take their legacy values, not the command's
        for key in run["config"]:
            assert config[key] == saved[key], (run["name"], key, config[key], saved[key])


def test_cli_options_override_the_recipe():
    assert parse("--recipe", "article", "--alpha", "10", "--seed", "1") == TrainConfig.article(10, 1)
    config = parse("--recipe", "fast", "--lr-drop", "900", "--erase", "0.5", "--batchnorm", "keras",
                   "--no-over-clustering", "--subheads", "5", "--view-x", "mild")
    assert (config.lr_drop_step, config.view.erase_p, config.fused_batchnorm) == (900, 0.5, False)
    assert not config.over_clustering and config.num_subheads == 5
    assert config.view_x == AugmentConfig.mild()
    assert parse("--recipe", "fast", "--view-max-degrees", "10").view.max_degrees == 10
    flat = parse("--recipe", "fast", "--pooling", "flatten")
    assert flat.pooling == "flatten" and flat.describe() == "fast (pooling=flatten)"
    assert IICTrainer(flat).model.get_layer("flatten").output.shape == (None, 2304)
    assert parse("--recipe", "fast", "--view", "none").view == AugmentConfig.none()
    assert parse("--recipe", "fast", "--view-x", "none").view_x is None
    assert parse("--recipe", "fast", "--view-x", "none").describe() == "fast"
    with pytest.raises(ValueError, match="multiple of copies"):
        parse("--recipe", "fast", "--copies", "7")
    with pytest.raises(ValueError, match=r"view must be an AugmentConfig .*AugmentConfig.none\(\)"):
        TrainConfig(view=None)


def test_every_part_of_the_step_equals_the_reference_step(digits):
    """Sub-heads, a view of x, the alpha warm-up, alpha_over and the lr drop, in fp32.

    Four steps of an article configuration that exercises them all, against
    tests/helpers/reference_step.py (the loss written from the paper, its own Adam).
    """
    from helpers.reference_step import compare

    config = dataclasses.replace(
        TrainConfig.article(alpha=3, seed=1), batch_size=60, copies=2, num_subheads=2,
        view_x=AugmentConfig.mild(), alpha_warmup=3, lr_drop_step=2, alpha_over=1.5,
        precision="fp32")
    compare(IICTrainer(config), digits[0][:200], steps=4, loss_atol=1e-5, update_rtol=0.1)


def test_bf16_steps_stay_near_the_reference(digits):
    """Where bf16 runs, its steps stay within bfloat16's reach of the float64 reference."""
    from helpers.reference_step import compare

    from iic_tutorial.training.step import bf16_runs_here

    config = dataclasses.replace(TrainConfig.fast(seed=0), batch_size=250, copies=5,
                                 precision="bf16")
    if not bf16_runs_here():
        with pytest.raises(ValueError, match="does not run on this machine"):
            IICTrainer(config)
        return
    gaps = compare(IICTrainer(config), digits[0][:200], steps=3, loss_atol=0.02, update_rtol=0.5)
    assert gaps["loss"] > 1e-6  # bfloat16 really ran: not float32 round-off

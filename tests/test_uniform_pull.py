"""benchmarks/uniform_pull.py: its arguments, and the formula its question rests on."""

import argparse

import numpy as np
import pytest
import tensorflow as tf

from conftest import load_benchmark
from iic_tutorial.information import entropy
from iic_tutorial.losses import iic_loss_of_joint

uniform_pull = load_benchmark("uniform_pull")


@pytest.mark.parametrize("alpha", [0.0, 0.5, 0.6, 1.0, 2.0])
def test_on_a_diagonal_joint_the_loss_is_one_minus_two_alpha_times_the_entropy(alpha):
    # two views that always agree: P = diag(p), so H(Z, Z') = H(Z) = H(Z') and the loss is
    # (1 - 2 alpha) H(Z): above alpha = 1/2 it rewards equal clusters, at 1/2 it is indifferent
    p = np.array([0.1125, 0.0975, 0.0994, 0.1, 0.2, 0.0906, 0.1, 0.1, 0.05, 0.05])
    loss = float(iic_loss_of_joint(tf.constant(np.diag(p)), alpha))
    assert loss == pytest.approx((1 - 2 * alpha) * entropy(p), rel=1e-12, abs=1e-12)
    if alpha == 0.5:
        assert loss == pytest.approx(0.0, abs=1e-12)


def test_alphas_are_read_as_a_pair_or_one_value_for_both_heads():
    assert uniform_pull.alpha_pair("2/1") == (2.0, 1.0)
    assert uniform_pull.alpha_pair("0.6") == (0.6, 0.6)
    for bad in ("", "a/1", "1/2/3", "-1"):
        with pytest.raises(argparse.ArgumentTypeError, match=r"expected ALPHA or ALPHA/ALPHA_OVER"):
            uniform_pull.alpha_pair(bad)


def test_steps_that_are_not_a_multiple_of_the_scoring_interval_are_refused(capsys):
    with pytest.raises(SystemExit):
        uniform_pull.main(["runs/x", "--steps", "300", "--every", "250"])
    assert "--steps (300) must be a positive multiple of --every (250)" in capsys.readouterr().err


def test_a_run_that_has_not_finished_is_refused(tmp_path):
    with pytest.raises(SystemExit, match=r"has no result.json: pass finished runs"):
        uniform_pull.main([str(tmp_path), "--steps", "10", "--every", "10", "--out", str(tmp_path / "o.json")])

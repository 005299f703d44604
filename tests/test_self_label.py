"""benchmarks/self_label.py: the stage's command line and its refusals (its runs: test_benchmark_results)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from conftest import load_benchmark

self_label = load_benchmark("self_label")


def _run(tmp_path: Path) -> Path:
    run = tmp_path / "run_s0"
    run.mkdir()
    (run / "result.json").write_text(json.dumps({"steps": 10}))
    return run


@pytest.mark.parametrize("args, message", [
    (["--steps", "500", "--every", "300"], r"--steps \(500\) must be a positive multiple of --every \(300\)"),
    (["--threshold", "1"], r"--threshold is a probability in \[0, 1\); got 1.0"),
])
def test_settings_that_do_not_fit_are_refused(tmp_path, capsys, args, message):
    with pytest.raises(SystemExit):
        self_label.main([str(_run(tmp_path)), *args])
    assert re.search(message, capsys.readouterr().err)


def test_an_unfinished_run_and_a_checkout_with_uncommitted_changes_are_refused(monkeypatch, tmp_path):
    with pytest.raises(SystemExit, match="has no result.json: pass finished runs"):
        self_label.main([str(tmp_path / "nothing_here")])
    import iic_tutorial.runs.probe as probe

    monkeypatch.setattr(probe, "git_revision", lambda: "abc1234-dirty")
    out = tmp_path / "self_label.json"
    with pytest.raises(SystemExit, match=r"abc1234-dirty\) has uncommitted changes: commit them"):
        self_label.main([str(_run(tmp_path)), "--out", str(out)])
    assert not out.exists()

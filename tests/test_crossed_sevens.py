"""benchmarks/crossed_sevens.py and its table: the test sevens in another digit's cluster."""

import json

import numpy as np
import pytest

from conftest import load_benchmark
from iic_tutorial.metrics import confusion_matrix
from iic_tutorial.runs import crossed_sevens_table

crossed_sevens = load_benchmark("crossed_sevens")


def labels_with_a_group(group: int, into: int, seed: int = 0, fours_in_nines: int = 0):
    """Ten digits of 100 images each, every one in its own cluster but ``group`` sevens in
    ``into``'s (and ``fours_in_nines`` fours in the nines'); the clusters' ids shuffled, as a
    network numbers them."""
    y = np.repeat(np.arange(10), 100)
    z = y.copy()
    z[np.flatnonzero(y == 7)[:group]] = into
    z[np.flatnonzero(y == 4)[:fours_in_nines]] = 9
    names = np.random.default_rng(seed).permutation(10)
    return y, names[z]


@pytest.mark.parametrize("group, into, fours", [(90, 2, 0), (90, 9, 30), (5, 2, 0), (0, 4, 85)])
def test_the_sevens_elsewhere_and_the_other_digits_mistakes_are_counted_apart(group, into, fours):
    y, z = labels_with_a_group(group, into, fours_in_nines=fours)
    C = confusion_matrix(y, z).tolist()
    count, digit = crossed_sevens.sevens_elsewhere(C)
    assert count == group
    if group:
        assert digit == into
    assert crossed_sevens.other_mistake(C) == fours


def fake_run(folder, evals, band=0.5, trained_on="all (70000 images)", steps=2000, fours=0,
             rows=None, erase=0.5):
    """A finished run's folder as ``train --out`` leaves it: state.json's evaluations, result.json
    (``rows``: the band's ``band_rows``; None: a view saved before that knob existed)."""
    folder.mkdir()
    history = {"evals": [{"step": s, "acc": a, "confusion": confusion_matrix(
        *labels_with_a_group(n, 2, seed=s, fours_in_nines=fours)).tolist()} for s, n, a in evals]}
    (folder / "state.json").write_text(json.dumps({"history": history}))
    result = {"experiment": folder.name.rsplit("_s", 1)[0], "seed": 1, "precision": "bf16",
              "trained_on": trained_on, "steps": steps, "test_accuracy": evals[-1][2],
              "config": {"view": {"band_p": band, "erase_p": erase, **({"band_rows": rows} if rows else {})},
                         "num_subheads": 5}}
    (folder / "result.json").write_text(json.dumps(result))
    return folder


def test_a_runs_history_gives_the_sevens_at_every_evaluation_and_the_table_counts_runs(tmp_path):
    runs = [fake_run(tmp_path / "probe_s1", [(1000, 95, 0.96), (2000, 3, 0.98)], band=1.0),
            fake_run(tmp_path / "probe_s2", [(1000, 95, 0.95), (2000, 90, 0.97)], band=1.0),
            fake_run(tmp_path / "probe_s3", [(1000, 95, 0.6), (2000, 90, 0.7)], band=1.0, fours=95),
            fake_run(tmp_path / "long_s1", [(1000, 2, 0.96), (2000, 1, 0.98), (8000, 85, 0.979)],
                     steps=8000)]
    out = tmp_path / "crossed_sevens.json"
    assert crossed_sevens.main([*map(str, runs), "--out", str(out)]) == 0
    result = json.loads(out.read_text())
    assert [e["sevens"] for e in result["runs"]["probe_s2"]["evals"]] == [95, 90]
    assert [e["other"] for e in result["runs"]["probe_s3"]["evals"]] == [95, 95]
    assert result["command"].startswith("python benchmarks/crossed_sevens.py ")
    rows = crossed_sevens_table(result).splitlines()[2:]
    assert rows[0].startswith("| 0.5 | all | bf16 | 0 of 1 | 0 of 1 | 1 of 1 | 98.0 % | long_s1 |")
    # probe_s3 mixed its fours and nines: counted apart, not as lost sevens
    assert rows[1].startswith("| 1 | all | bf16 | 2 of 3 (1 mixed) | 1 of 3 (1 mixed) | 1 of 3 (1 mixed) "
                              "| 88.33 ± 15.89 % |")


def test_an_unfinished_run_or_one_without_evaluations_is_refused(tmp_path):
    (tmp_path / "running").mkdir()
    with pytest.raises(SystemExit, match="has no result.json: pass finished runs"):
        crossed_sevens.main([str(tmp_path / "running"), "--out", str(tmp_path / "o.json")])
    blind = fake_run(tmp_path / "blind_s0", [(2000, 0, 0.98)])
    (blind / "state.json").write_text(json.dumps({"history": {"evals": []}}))
    with pytest.raises(SystemExit, match="no evaluation with a confusion matrix"):
        crossed_sevens.main([str(blind), "--out", str(tmp_path / "o.json")])


def test_an_aimed_band_is_an_arm_of_its_own_and_runs_read_before_are_kept(tmp_path):
    """A run whose band is drawn from other rows than the default is its own row of the table;
    a second call keeps the entries of the first (their folders may be gone), names them in
    ``kept`` and records with each entry the revision that read it."""
    out = tmp_path / "crossed_sevens.json"
    first = fake_run(tmp_path / "long_s1", [(1000, 95, 0.96), (2000, 90, 0.97)])
    assert crossed_sevens.main([str(first), "--out", str(out)]) == 0
    before = json.loads(out.read_text())
    assert before["kept"] == [] and before["runs"]["long_s1"]["band_rows"] == [4.0, 24.0]
    for key in ("band_rows", "revision"):  # as read before the knob and the entries' revisions
        del before["runs"]["long_s1"][key]
    out.write_text(json.dumps({**before, "revision": "abc1234"}))
    aimed = [fake_run(tmp_path / f"aimed_s{i}", [(1000, 2, 0.96), (2000, n, 0.98)], rows=[13, 19])
             for i, n in ((1, 1), (2, 95))]
    assert crossed_sevens.main([*map(str, aimed), "--out", str(out)]) == 0
    result = json.loads(out.read_text())
    assert result["kept"] == ["long_s1"] and list(result["runs"]) == ["long_s1", "aimed_s1", "aimed_s2"]
    assert result["runs"]["long_s1"]["revision"] == "abc1234"
    assert result["runs"]["aimed_s1"]["revision"] == result["revision"]
    assert "long_s1" not in result["command"]
    rows = crossed_sevens_table(result).splitlines()[2:]
    assert rows[0].startswith("| 0.5 | all | bf16 | 1 of 1 | 1 of 1 | 1 of 1 | 97.0 % | long_s1 |")
    assert rows[1].startswith("| 0.5, rows 13-19 | all | bf16 | 0 of 2 | 1 of 2 | 1 of 2 | 98.00 ± 0.00 % "
                              "| aimed_s1, aimed_s2 |")


def test_views_without_erasing_are_an_arm_of_their_own_and_kept_entries_get_their_erasing(tmp_path):
    """A run whose views have no random erasing is its own row; an entry kept from a file
    written before ``erase`` was recorded takes it from its collected result."""
    import iic_tutorial as iic

    out = tmp_path / "crossed_sevens.json"
    collected = next(r["name"] for r in iic.pretrained.experiment_results()  # a run the package
                     if r["config"]["view"].get("erase_p") == 0.5)  # holds, with erasing
    old = fake_run(tmp_path / "old_s1", [(1000, 2, 0.96), (2000, 1, 0.98)])
    assert crossed_sevens.main([str(old), "--out", str(out)]) == 0
    before = json.loads(out.read_text())
    entry = before["runs"].pop("old_s1")
    del entry["erase"]  # as read before the field
    before["runs"][collected] = entry
    out.write_text(json.dumps(before))
    plain = fake_run(tmp_path / "plain_s1", [(1000, 2, 0.96), (2000, 3, 0.97)], erase=0.0)
    assert crossed_sevens.main([str(plain), "--out", str(out)]) == 0
    result = json.loads(out.read_text())
    view = iic.augment.AugmentConfig.from_dict(
        next(r for r in iic.pretrained.experiment_results() if r["name"] == collected)["config"]["view"])
    assert result["runs"][collected]["erase"] == view.erase_p and result["runs"]["plain_s1"]["erase"] == 0
    rows = crossed_sevens_table(result).splitlines()[2:]
    assert any(row.startswith("| 0.5, no erasing | all | bf16 | 0 of 1 | 0 of 1 | 0 of 1 | 97.0 % | plain_s1 |")
               for row in rows)

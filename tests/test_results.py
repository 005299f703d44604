"""The collected runs (iic_tutorial/pretrained/runs/, one file a run, the only copy), collected
faithfully; the bottom line, the README's blocks and the Results appendix are generated from them."""

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from iic_tutorial.runs import MACHINE_FIELDS, median_time_to_accuracy, run_machine, time_to_accuracy

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "iic_tutorial" / "pretrained"
RUNS = sorted((PACKAGE / "runs").glob("*.json"))


@pytest.fixture(scope="module")
def collect():
    from conftest import load_benchmark

    return load_benchmark("collect")


def test_every_result_records_how_it_was_made():
    assert RUNS
    for path in RUNS:
        r = json.loads(path.read_text())
        assert r["name"] == path.stem
        assert r["command"].startswith("python -m iic_tutorial train ")
        assert r["revision"] and r["hardware"].startswith(("CPU only", "1 GPU", "2 GPU"))
        assert r["curve"][-1]["step"] == r["steps"] and r["wall_time_s"] > 0
        assert r["test_accuracy"] == r["curve"][-1]["acc"]
        assert (ROOT / "results" / "curves" / f"{path.stem}.png").is_file()


def test_experiment_results_reads_the_one_file_of_each_run():
    import iic_tutorial
    from iic_tutorial.pretrained import experiment_groups, experiment_results, runs_folder

    # the installed package's folder: the checkout's, or a wheel's copy of it (the readers' stacks)
    assert runs_folder().resolve() == Path(iic_tutorial.__file__).resolve().parent / "pretrained" / "runs"
    assert sorted(p.name for p in runs_folder().glob("*.json")) == [p.name for p in RUNS]
    results = experiment_results()
    assert [r["name"] for r in results] == [p.stem for p in RUNS]  # by name, as before
    assert results == [json.loads(p.read_text()) for p in RUNS]
    assert sum(len(g) for g in experiment_groups().values()) == len(RUNS)
    assert not (PACKAGE / "experiments.json").exists()  # no aggregate copy


def _tracked(pattern: str) -> list[Path]:
    try:
        out = subprocess.run(["git", "ls-files", "-z", pattern], cwd=ROOT, capture_output=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout")
    return [ROOT / name for name in out.stdout.decode().split("\0") if name]


def test_a_result_exists_once():
    # no two JSON files of the repository hold the same data (however formatted), no run's
    # name is a file name elsewhere (a copy beside results/runs/ or a benchmark's NAME.json),
    # and the results are package data (Colab installs the wheel) ... outside the package nothing
    files = [p for p in _tracked("*.json") if p.is_file()]
    seen: dict[str, Path] = {}
    for path in files:
        data = json.dumps(json.loads(path.read_text()), sort_keys=True)
        assert data not in seen or data in ("{}", "[]"), f"{path} repeats {seen[data]}"
        seen.setdefault(data, path)
    runs = {p.stem for p in RUNS}
    elsewhere = [p for p in files if p.stem in runs and p.parent != PACKAGE / "runs"]
    assert not elsewhere, f"copies of collected runs: {elsewhere}"
    assert not [p for p in files if p.is_relative_to(ROOT / "results")], "results/ holds only pictures"


def test_the_results_are_package_data():
    import fnmatch

    from conftest import read_pyproject

    patterns = read_pyproject()["tool"]["setuptools"]["package-data"]
    shipped = [p for p in PACKAGE.rglob("*.json")]
    assert len(shipped) > len(RUNS)
    for path in shipped:
        relative = path.relative_to(ROOT / "iic_tutorial").as_posix()
        assert any(fnmatch.fnmatch(relative, pattern) and relative.count("/") == pattern.count("/")
                   for pattern in patterns["iic_tutorial"]), f"{relative} is not in the wheel"


OLD = "d451759"  # the last commit with the aggregate copy and results/*.json


@pytest.mark.parametrize("old, reader", [
    ("iic_tutorial/pretrained/experiments.json", "experiment_results"),
    ("results/step_speed.json", "step_speed"), ("results/distributed.json", "distributed"),
    ("results/baselines.json", "baselines"), ("results/selection.json", "selection"),
    ("results/subheads.json", "subheads"), ("results/head_restarts/erase_s2.json", "head_restarts")])
def test_the_readers_return_what_the_removed_copies_held(old, reader):
    # one copy each now: the readers give what the copies they replaced held (runs added since
    # then aside), field for field
    from iic_tutorial import pretrained

    try:
        text = subprocess.run(["git", "show", f"{OLD}:{old}"], cwd=ROOT, capture_output=True,
                              check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip(f"commit {OLD} is not in this checkout")
    before, now = json.loads(text), getattr(pretrained, reader)()
    if reader == "experiment_results":
        now = {r["name"]: r for r in now}
        assert len(before) == 91 and all(now[r["name"]] == r for r in before)
    elif reader == "selection":  # re-run since, on more runs: every model scored then stays
        assert all(now["candidates"][name] == c for name, c in before["candidates"].items())
    else:
        assert now == before


def test_every_result_says_what_ran_it_as_fields():
    for path in RUNS:
        r = json.loads(path.read_text())
        machine = run_machine(r)
        assert set(machine) == set(MACHINE_FIELDS), path.name
        if not machine["gpus"]:
            assert 1 <= machine["usable_cores"] <= machine["cores"], path.name
        if "machine" in r:  # recorded: its sentence says the same
            gpus = r["machine"]["gpus"]
            assert r["hardware"].startswith(f"{len(gpus)} GPU" if gpus else "CPU only"), path.name


def test_the_bottom_line_is_generated_and_the_same_in_readme_and_intro(collect):
    box = collect.bottom_line_box()
    for path in (ROOT / "README.md", ROOT / "book" / "intro.md"):
        text = path.read_text()
        between = text.split("<!-- bottom-line:begin -->", 1)[1].split("<!-- bottom-line:end -->", 1)[0]
        assert between.strip() == box.strip(), f"{path.name}: run make results"
    rows = [line for line in box.splitlines() if line.startswith("| ")][1:]
    assert len(rows) <= 6  # at most six rows under the header


def test_make_results_leaves_a_current_tree_as_it_is(collect, tmp_path):
    # collect.regenerate on copies of the pages: the committed ones are current (nothing
    # changes), and a page whose block went stale is rewritten once, then left alone
    pages = ["README.md", "book/intro.md", "book/results.md"]
    for page in pages:
        (tmp_path / page).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / page, tmp_path / page)
    assert collect.regenerate(tmp_path) == [], "run make results"
    readme = tmp_path / "README.md"
    marker = "<!-- where-it-runs:begin -->\n"
    readme.write_text(readme.read_text().replace(marker, marker + "old\n"))
    assert collect.regenerate(tmp_path) == [readme]
    assert collect.regenerate(tmp_path) == []
    for page in pages:
        assert (tmp_path / page).read_bytes() == (ROOT / page).read_bytes(), page


def test_every_marker_block_has_one_writer(collect):
    import re

    # every block of the README and the book is one that make results regenerates
    found = {(path.relative_to(ROOT).as_posix(), name)
             for path in [ROOT / "README.md", *(ROOT / "book").glob("*.md")]
             for name in re.findall(r"<!-- ([\w-]+):begin -->", path.read_text())}
    assert found == {(page, name) for name, pages in collect.BLOCKS.items() for page in pages}
    # ... and one function writes markers: no other module spells them out
    writers = [p.relative_to(ROOT).as_posix() for folder in ("iic_tutorial", "benchmarks", "tools")
               for p in (ROOT / folder).rglob("*.py") if ":begin -->" in p.read_text()]
    assert writers == ["iic_tutorial/runs/files.py"]


def test_the_results_appendix_is_generated_from_the_result_files(collect):
    page = (ROOT / "book" / "results.md").read_text()
    assert page == collect.results_page(), "run python benchmarks/collect.py"
    for table in (collect.headline_table(), collect.summary_table(), collect.table()):
        assert table in page


def test_the_readme_stays_short():
    assert len((ROOT / "README.md").read_text().splitlines()) <= 200


def test_time_to_accuracy_reads_the_curve(collect):
    curve = [{"acc": 0.5, "wall_time": 10.0}, {"acc": 0.96, "wall_time": 20.0},
             {"acc": 0.94, "wall_time": 30.0}, {"acc": 0.98, "wall_time": 40.0}]
    assert time_to_accuracy(curve, 0.95) == 20.0
    assert time_to_accuracy(curve, 0.975) == 40.0
    assert time_to_accuracy(curve, 0.99) is None


def test_mean_std_uses_the_sample_std(collect):
    assert collect.mean_std([0.97, 0.98, 0.99]) == "98.00 ± 1.00 %"
    assert collect.mean_std([0.9721]) == "97.2 %"


def test_step_speed_result_is_complete_and_shown_in_the_readme():
    from iic_tutorial.pretrained import step_speed
    from iic_tutorial.runs import speed_table

    result = json.loads((PACKAGE / "step_speed.json").read_text())
    assert step_speed() == result  # the one copy, package data
    assert result["command"].startswith("python benchmarks/step_speed.py")
    assert result["revision"] and result["hardware"] and result["threads"]["usable_cores"] >= 1
    names = [r["step"] for r in result["rows"]]
    assert names[0] == "article code, fp32" and len(set(names)) == len(names)
    for r in result["rows"]:  # ratios follow from the medians of the same run
        assert abs(r["speedup_vs_article_code"] - result["rows"][0]["s_per_step"] / r["s_per_step"]) < 2e-3
        assert len(r["all_times_s"]) == result["reps"]
    assert speed_table(result).startswith("| train step, 1000 pairs |")  # the engineering notes print it


def test_curve_readers_pick_the_right_evaluation():
    from iic_tutorial.runs import at_step, first_step, mean_std, until

    run = {"curve": [{"step": 100, "acc": 0.5}, {"step": 200, "acc": 0.96},
                     {"step": 300, "acc": 0.94}, {"step": 400, "acc": 0.98}]}
    assert at_step(run, 200) == 0.96 and at_step(run, 250) == 0.94 and at_step(run, 500) is None
    assert [p["step"] for p in until(run, 300)["curve"]] == [100, 200, 300]
    assert first_step(run, 0.95) == 200 and first_step(run, 0.975) == 400
    assert first_step(run, 0.99) is None
    assert mean_std([0.97, 0.98, 0.99], digits=1) == "98.0 ± 1.0 %"


def test_the_distributed_table_is_generated_from_its_result():
    from iic_tutorial.pretrained import distributed
    from iic_tutorial.runs import distributed_table

    result = json.loads((PACKAGE / "distributed.json").read_text())
    assert distributed() == result  # the one copy (package data), read by chapter 7
    assert distributed_table(result).startswith("| replicas |")  # the engineering notes print it
    assert set(result["replicas"]) == {"2", "4", "8"}
    gap = result["replicas"]["2"]["naive_minus_global"]
    assert 0 < gap["2"] < gap["4"] < gap["8"]  # what the README's sentence says


def test_median_time_to_accuracy_counts_a_seed_that_never_got_there_as_slowest():
    def run(*accs):  # one evaluation a minute
        return {"curve": [{"acc": a, "wall_time": 60.0 * (i + 1)} for i, a in enumerate(accs)]}

    fast, slow, never = run(0.98, 0.99), run(0.9, 0.95, 0.98), run(0.9, 0.9, 0.9)
    assert median_time_to_accuracy([fast, slow, never], 0.975) == 180.0  # the second fastest
    assert median_time_to_accuracy([never, fast, slow], 0.975) == 180.0  # order does not matter
    assert median_time_to_accuracy([fast, never, never], 0.975) is None  # 1 of 3: no median
    assert median_time_to_accuracy([fast, slow], 0.975) == 120.0  # even count: the mean of two
    assert median_time_to_accuracy([fast, never], 0.975) is None
    assert median_time_to_accuracy([fast], 0.99) == 120.0
    with pytest.raises(ValueError, match="at least one run"):
        median_time_to_accuracy([], 0.975)


def test_time_table_gives_each_runs_minutes_and_the_median():
    from iic_tutorial.runs import time_table

    def run(name, *accs):  # one evaluation a minute
        return {"name": name, "test_accuracy": accs[-1], "wall_time_s": 60.0 * len(accs),
                "curve": [{"acc": a, "wall_time": 60.0 * (i + 1)} for i, a in enumerate(accs)]}

    lines = time_table([run("a", 0.98, 0.991), run("b", 0.9, 0.95, 0.98), run("c", 0.9, 0.97)],
                       (0.975, 0.99)).splitlines()
    assert lines[0].split() == ["run", "end", "train", "97.5", "%", "99", "%"]
    assert lines[1].split() == ["a", "99.10", "2", "min", "1.0", "min", "2.0", "min"]
    assert lines[2].split() == ["b", "98.00", "3", "min", "3.0", "min", "never"]
    assert lines[3].split() == ["c", "97.00", "2", "min", "never", "never"]
    assert lines[4].split() == ["median", "3.0", "min", "—"]  # 99 %: one run of three


def test_same_trajectory_needs_every_evaluation_equal():
    from iic_tutorial.runs import same_trajectory

    a = {"curve": [{"step": 100, "acc": 0.5, "loss": -3.0}, {"step": 200, "acc": 0.9, "loss": -4.0}]}
    b = {"curve": [dict(p, wall_time=1.0) for p in a["curve"]]}  # another machine's clock
    assert same_trajectory(a, b, keys=("acc", "loss"))
    c = {"curve": [a["curve"][0], {**a["curve"][1], "loss": -4.000001}]}
    assert not same_trajectory(a, c, keys=("acc", "loss"))
    assert not same_trajectory(a, {"curve": a["curve"][:1]}, keys=("acc",))  # stopped early


def test_cores_column_names_the_processor_where_the_run_recorded_it(collect):
    assert collect._cores({"hardware": "CPU only, 2 cores, x86_64"}) == "2 cores"
    pinned = ("CPU only, 1 of 2 cores, 1 TensorFlow thread(s), x86_64, "
              "AMD EPYC (family 26, model 2; bf16: AVX512-BF16)")
    assert collect._cores({"hardware": pinned}) == "1 of 2 cores, AMD EPYC"
    assert collect._cores({"hardware": "1 GPU(s): /physical_device:GPU:0"}) == "1 GPU(s): /physical_device:GPU:0"


def test_collect_refuses_a_run_that_has_not_finished(collect, tmp_path):
    run = tmp_path / "long_band_s9"
    (run / "candidate_seed27").mkdir(parents=True)  # a checkpoint, no result.json yet
    with pytest.raises(SystemExit, match=r"long_band_s9 has no result.json: pass finished runs"):
        collect.collect(run)


def test_collect_refuses_a_run_trained_at_uncommitted_code(collect, tmp_path):
    run = tmp_path / "long_band_s9"
    run.mkdir()  # started at a commit, resumed with changes not committed
    (run / "result.json").write_text(json.dumps({"revision": "1a2b3c4, 5d6e7f8-dirty"}))
    with pytest.raises(SystemExit, match=r"long_band_s9 trained at 5d6e7f8-dirty, a checkout with "
                                         r"uncommitted changes: .* train it again"):
        collect.collect(run)
    assert not (collect.RUNS / "long_band_s9.json").exists()

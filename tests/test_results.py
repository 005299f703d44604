"""results/: real runs, collected faithfully; the bottom line and the Results appendix are generated from them."""

import json
from pathlib import Path

import pytest

from iic_tutorial.runs import median_time_to_accuracy, time_to_accuracy

ROOT = Path(__file__).resolve().parent.parent
RUNS = sorted((ROOT / "results" / "runs").glob("*.json"))


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
        assert path.with_suffix(".png").is_file()


def test_package_copy_is_the_results_folder():
    shipped = json.loads((ROOT / "iic_tutorial" / "pretrained" / "experiments.json").read_text())
    assert shipped == [json.loads(p.read_text()) for p in RUNS]


def test_the_bottom_line_is_generated_and_the_same_in_readme_and_intro(collect):
    box = collect.bottom_line_box()
    for path in (ROOT / "README.md", ROOT / "book" / "intro.md"):
        text = path.read_text()
        between = text.split(collect.BOTTOM_BEGIN, 1)[1].split(collect.BOTTOM_END, 1)[0]
        assert between.strip() == box.strip(), f"{path.name}: run python benchmarks/collect.py"
    rows = [line for line in box.splitlines() if line.startswith("| ")][1:]
    assert len(rows) <= 6  # at most six rows under the header


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

    result = json.loads((ROOT / "results" / "step_speed.json").read_text())
    assert step_speed() == result  # the package copy is the results file
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

    result = json.loads((ROOT / "results" / "distributed.json").read_text())
    assert distributed() == result  # the package's copy, read by chapter 7
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

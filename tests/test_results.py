"""results/: real runs, collected faithfully; the README tables are generated from them."""

import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
RUNS = sorted((ROOT / "results" / "runs").glob("*.json"))


@pytest.fixture(scope="module")
def collect():
    spec = importlib.util.spec_from_file_location("collect", ROOT / "benchmarks" / "collect.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


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


def test_readme_tables_are_generated_from_the_result_files(collect):
    readme = (ROOT / "README.md").read_text()
    between = readme.split(collect.BEGIN, 1)[1].split(collect.END, 1)[0]
    assert collect.headline_table() in between
    assert collect.summary_table() in between
    assert collect.table() in between


def test_time_to_accuracy_reads_the_curve(collect):
    curve = [{"acc": 0.5, "wall_time": 10.0}, {"acc": 0.96, "wall_time": 20.0},
             {"acc": 0.94, "wall_time": 30.0}, {"acc": 0.98, "wall_time": 40.0}]
    assert collect.time_to(curve, 0.95) == 20.0
    assert collect.time_to(curve, 0.975) == 40.0
    assert collect.time_to(curve, 0.99) is None


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
    readme = (ROOT / "README.md").read_text()
    between = readme.split("<!-- step-speed:begin -->", 1)[1].split("<!-- step-speed:end -->", 1)[0]
    assert between.strip() == speed_table(result)

"""iic_tutorial/pretrained/baselines.json: the k-means baselines, how they were made, and chapter 8's table of them."""

import json
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
RESULT = ROOT / "iic_tutorial" / "pretrained" / "baselines.json"
CHAPTER = ROOT / "book" / "08_evaluation.ipynb"
METRICS = ("test_accuracy", "test_nmi", "all_accuracy", "all_nmi")


@pytest.fixture(scope="module")
def baselines():
    """benchmarks/baselines.py as a module (it is not part of the package)."""
    from conftest import load_benchmark

    return load_benchmark("baselines")


@pytest.fixture(scope="module")
def result():
    return json.loads(RESULT.read_text())


def _baseline_cell():
    cells = [c for c in json.loads(CHAPTER.read_text())["cells"]
             if c["cell_type"] == "code" and "baseline" in c["metadata"].get("tags", [])]
    assert len(cells) == 1, "chapter 8 needs exactly one code cell tagged 'baseline'"
    return cells[0]


def test_the_result_records_how_it_was_made(result, baselines):
    assert result["command"].startswith("python benchmarks/baselines.py")
    assert result["revision"] and result["date"]
    assert result["hardware"].startswith(("CPU only", "1 GPU", "2 GPU"))
    assert result["fit_on"] in baselines.FIT_ON.values()
    assert result["n_fit"] == (70_000 if result["fit_on"] == baselines.FIT_ON["all70k"] else 10_000)
    assert result["n_test"] == 10_000 and result["k"] == 10
    assert result["n_init"] >= 1
    assert len(result["seeds"]) >= 3 and len(set(result["seeds"])) == len(result["seeds"])
    assert 0 < result["pca_explained_variance"] < 1 and result["pca_components"] >= 1
    assert "cluster_accuracy" in result["scores"] and "nmi" in result["scores"]


def test_one_run_per_seed_and_the_summaries_follow_from_them(result):
    methods = {m["features"]: m for m in result["methods"]}
    assert set(methods) == {"pixels", "pca"}
    assert methods["pixels"]["dim"] == 784
    assert methods["pca"]["dim"] == result["pca_components"]
    for m in result["methods"]:
        assert [r["seed"] for r in m["runs"]] == result["seeds"]
        for r in m["runs"]:
            assert all(0 <= r[key] <= 1 for key in METRICS)
            assert len(r["cluster_sizes"]) == result["k"] and sum(r["cluster_sizes"]) == result["n_fit"]
            assert r["n_iter"] >= 1 and r["fit_s"] > 0
        for key in METRICS:
            values = np.array([r[key] for r in m["runs"]])
            assert m[f"{key}_mean"] == pytest.approx(values.mean())
            assert m[f"{key}_std"] == pytest.approx(values.std(ddof=1))


def test_summary_and_score(baselines):
    assert baselines.summary([0.5, 0.6, 0.7]) == pytest.approx({"mean": 0.6, "std": 0.1})
    assert baselines.summary([0.5]) == {"mean": 0.5, "std": 0.0}
    y = np.repeat(np.arange(10), 20)
    scores = baselines.score(y, (y + 3) % 10, slice(100, 200))  # renamed clusters: perfect
    assert scores == pytest.approx({key: 1.0 for key in METRICS})
    half = baselines.score(y, y // 2, slice(0, 200))  # pairs of digits merged
    assert half["all_accuracy"] == pytest.approx(0.5)


def test_chapter_8_prints_the_table_from_the_file(result):
    cell = _baseline_cell()
    source = "".join(cell["source"])
    assert "iic.pretrained.baselines()" in source  # the package copy: also in Colab
    printed = "".join("".join(o["text"]) for o in cell["outputs"] if o["output_type"] == "stream")
    assert result["fit_on"] in printed and f"n_init = {result['n_init']}" in printed
    assert f"{100 * result['pca_explained_variance']:.1f} %" in printed
    tables = ["".join(o["data"]["text/markdown"]) for o in cell["outputs"]
              if "text/markdown" in o.get("data", {})]
    assert len(tables) == 1, "the cell shows one Markdown table"
    for m in result["methods"]:
        accuracy = f"{100 * m['test_accuracy_mean']:.2f} ± {100 * m['test_accuracy_std']:.2f} %"
        nmi = f"{m['test_nmi_mean']:.3f} ± {m['test_nmi_std']:.3f}"
        row = next((row for row in tables[0].splitlines() if row.startswith(f"| {m['name']} |")), "")
        assert accuracy in row and nmi in row, (m["name"], tables[0])
        # never a typed number: neither the code nor the chapter's prose holds them
        prose = "\n".join("".join(c["source"]) for c in json.loads(CHAPTER.read_text())["cells"]
                          if c["cell_type"] == "markdown")
        for number in (f"{100 * m['test_accuracy_mean']:.1f}", f"{100 * m['test_accuracy_mean']:.2f}"):
            assert number not in source and number not in prose, number


def test_the_reader_returns_the_result(result):
    from iic_tutorial.pretrained import baselines

    assert baselines() == result  # chapter 8 reads it: package data, so it works in Colab too

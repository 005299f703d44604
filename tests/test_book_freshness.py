"""The chapters' committed outputs agree with the collected runs: no stale run count, best run or box.

A chapter's outputs are frozen when it is executed (tools/book.py execute); a commit that
adds results must re-execute the chapters that print them. This test fails until it does.
"""

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BOOK = ROOT / "book"
RUNS = sorted((ROOT / "iic_tutorial" / "pretrained" / "runs").glob("*.json"))
COUNT = re.compile(r"(\d+) training runs in (\d+) experiments")
BEST = re.compile(r"The highest final accuracy of any of the (\d+) runs: ([\d.]+) % on all 70k "
                  r"\(([\w]+)\), ([\d.]+) % on the 10k test images \(([\w]+)\)")


def _outputs(path: Path) -> str:
    """Every text output of a notebook's cells (streams, plain text and Markdown)."""
    out = []
    for cell in json.loads(path.read_text())["cells"]:
        for o in cell.get("outputs", []):
            if "text" in o:
                out.append("".join(o["text"]))
            for mime in ("text/plain", "text/markdown"):
                if mime in o.get("data", {}):
                    out.append("".join(o["data"][mime]))
    return "\n".join(out)


def _results():
    runs = [json.loads(p.read_text()) for p in RUNS]
    from iic_tutorial.pretrained import experiment_groups

    return runs, experiment_groups(runs)


NOTEBOOKS = sorted(BOOK.glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_printed_run_counts_match_the_results(path):
    runs, groups = _results()
    for n_runs, n_groups in COUNT.findall(_outputs(path)):
        assert (int(n_runs), int(n_groups)) == (len(runs), len(groups)), (
            f"{path.name} prints {n_runs} runs in {n_groups} experiments; iic_tutorial/pretrained/runs holds "
            f"{len(runs)} in {len(groups)}: re-execute it (python tools/book.py execute {path})")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_printed_best_run_matches_the_results(path):
    runs, _ = _results()
    on_all = [r for r in runs if str(r.get("trained_on", "all")).startswith("all")]
    top_all = max(on_all, key=lambda r: r["all70k_accuracy"])
    top_test = max(runs, key=lambda r: r["test_accuracy"])
    for n, acc_all, name_all, acc_test, name_test in BEST.findall(_outputs(path)):
        assert (int(n), name_all, name_test) == (len(runs), top_all["name"], top_test["name"]), (
            f"{path.name} names a stale best run: re-execute it")
        assert float(acc_all) == pytest.approx(100 * top_all["all70k_accuracy"], abs=0.006)
        assert float(acc_test) == pytest.approx(100 * top_test["test_accuracy"], abs=0.006)


def test_chapter_11_prints_todays_bottom_line():
    from iic_tutorial.pretrained import pretrained_info
    from iic_tutorial.runs import bottom_line

    runs, _ = _results()
    box = bottom_line(runs, pretrained_info())
    assert box in _outputs(BOOK / "11_past_the_plateau.ipynb"), (
        "chapter 11's bottom line is stale: re-execute it")


def test_the_chapters_that_count_runs_do_print_them():
    """Guards the test itself: the patterns still match what the chapters print."""
    printed = {p.stem for p in NOTEBOOKS if COUNT.search(_outputs(p))}
    assert {"09_alpha_and_augmentations", "engineering_notes"} <= printed
    assert BEST.search(_outputs(BOOK / "11_past_the_plateau.ipynb"))


@pytest.mark.parametrize("chapter", ["09_alpha_and_augmentations", "11_past_the_plateau"])
def test_the_experiment_chapters_stay_lessons_not_logs(chapter):
    """Chapters 9 and 11 keep under 2,500 words of prose: one question, one figure, one takeaway."""
    nb = json.loads((BOOK / f"{chapter}.ipynb").read_text())
    prose = " ".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")
    assert len(re.findall(r"\S+", prose)) < 2500

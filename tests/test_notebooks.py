"""House rules every notebook of the book keeps (CONTRIBUTING.md, "Notebooks"), checked on the committed files."""

import json
from pathlib import Path

import pytest

BOOK = Path(__file__).resolve().parent.parent / "book"
CHAPTERS = sorted(BOOK.glob("[0-9][0-9]_*.ipynb"))
NOTEBOOKS = [*CHAPTERS, BOOK / "engineering_notes.ipynb"]  # every notebook page of the book


def code_cells(path):
    return [c for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code"]


def test_all_eleven_chapters_exist():
    assert [p.stem[:2] for p in CHAPTERS][:11] == [f"{i:02d}" for i in range(1, 12)]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_committed_with_outputs_of_a_clean_run(path):
    cells = code_cells(path)
    counts = [c["execution_count"] for c in cells]
    assert all(counts), f"{path.name}: cells without outputs from a run"
    assert counts == list(range(1, len(cells) + 1)), f"{path.name}: not run top to bottom in one kernel"
    for i, cell in enumerate(cells):
        for out in cell["outputs"]:
            assert out["output_type"] != "error", f"{path.name} cell {i}: error output"
            assert not (out["output_type"] == "stream" and out["name"] == "stderr"), (
                f"{path.name} cell {i}: stderr in the output: {''.join(out['text'])[:200]}")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_short_cells_and_lines(path):
    for i, cell in enumerate(code_cells(path)[1:], start=1):  # the generated setup cell is exempt
        lines = "".join(cell["source"]).splitlines()
        assert len(lines) <= 25, f"{path.name} code cell {i}: {len(lines)} lines"
        long = [line for line in lines if len(line) > 80]
        assert not long, f"{path.name} code cell {i}: lines over 80 characters: {long}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_ends_with_summary_and_exercises(path):
    text = "\n".join("".join(c["source"]) for c in json.loads(path.read_text())["cells"]
                     if c["cell_type"] == "markdown")
    assert "## Summary" in text and "## Exercises" in text
    assert text.index("## Summary") < text.index("## Exercises")

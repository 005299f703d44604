"""What a result records about the machine that made it, as fields, and the one function
that rewrites a page's generated block (iic_tutorial.runs)."""

import json
from pathlib import Path

import pytest

from iic_tutorial.runs import MACHINE_FIELDS, run_machine, uncommitted

PACKAGE = Path(__file__).resolve().parent.parent / "iic_tutorial"
#: The uncommitted checkouts ("REV-dirty") that results were made at before benchmarks/collect.py
#: refused them. Those results stay (their runs cannot be repeated as they were), marked by the
#: suffix; no new one may join them.
UNTRACEABLE = set("""
02841d9 134f37c 16429c8 185def6 1bf1c76 2087197 213823d 35d91fd 3b1345a 3b533ac 3c0be0a 4f61d7e
695aa85 7648bfd 7c2f1a5 7e3a4c8 8d7de67 98f71e4 a4e9ce2 a6ef158 a787c8f bf8c74c cec5d52 cffca24
d3460cd dbd4542 dffa9eb e6bc51b e9842e6 eb79761 f0b5a40 fccb95f fcdd00a fd04d12""".split())


def test_the_hardware_sentence_of_older_results_reads_back_as_fields():
    pinned = run_machine({"hardware": "CPU only, 1 of 2 cores, 1 TensorFlow thread(s), x86_64, "
                                      "AMD EPYC (family 26, model 2; bf16: AVX512-BF16)"})
    assert pinned == {"cpu": "AMD EPYC (family 26, model 2; bf16: AVX512-BF16)", "cores": 2,
                      "usable_cores": 1, "tf_threads": "1", "onednn_max_cpu_isa": None, "gpus": []}
    noted = run_machine({"hardware": "CPU only, 1 of 2 cores, 1 TensorFlow thread(s), x86_64 "
                                     "[corrected by hand: pinned, 2, of]"})
    assert (noted["cpu"], noted["cores"], noted["usable_cores"]) == (None, 2, 1)
    assert run_machine({"hardware": "CPU only, 2 cores, x86_64"})["usable_cores"] == 2
    assert run_machine({"hardware": "2 GPU(s): Tesla T4, Tesla T4"})["gpus"] == ["Tesla T4", "Tesla T4"]
    recorded = {"cpu": "X", "cores": 8, "usable_cores": 8, "tf_threads": None,
                "onednn_max_cpu_isa": "AVX2", "gpus": []}
    assert run_machine({"hardware": "CPU only, 2 cores, x86_64", "machine": recorded}) == recorded


def test_new_results_record_the_machine_as_fields():
    from iic_tutorial.runs import machine, provenance, result_fields

    assert "machine" in result_fields()
    fields = machine()
    assert set(fields) == set(MACHINE_FIELDS) and fields["cores"] >= fields["usable_cores"] >= 1
    assert set(provenance("x")["machine"]) == set(MACHINE_FIELDS)  # every benchmark's result too


def test_replace_between_markers_keeps_the_rest_and_says_when_it_wrote(tmp_path):
    from iic_tutorial.runs import replace_between_markers

    page = tmp_path / "page.md"
    page.write_text("top\n<!-- box:begin -->\nold\n<!-- box:end -->\nbottom\n")
    assert replace_between_markers(page, "box", "new\n")
    assert page.read_text() == "top\n<!-- box:begin -->\nnew\n<!-- box:end -->\nbottom\n"
    assert not replace_between_markers(page, "box", "new")
    with pytest.raises(ValueError, match="<!-- other:begin --> once"):
        replace_between_markers(page, "other", "x")


def _revisions(record):
    """Every ``revision`` string anywhere in a result (a benchmark's entries carry their own)."""
    if isinstance(record, dict):
        for key, value in record.items():
            yield from [value] if key == "revision" and isinstance(value, str) else _revisions(value)
    elif isinstance(record, list):
        for value in record:
            yield from _revisions(value)


def test_uncommitted_names_each_checkout_with_changes():
    assert uncommitted("1a2b3c4") == [] and uncommitted("unknown") == []
    assert uncommitted("1a2b3c4-dirty") == ["1a2b3c4-dirty"]
    assert uncommitted("1a2b3c4, 5d6e7f8-dirty, 9a8b7c6-dirty") == ["5d6e7f8-dirty", "9a8b7c6-dirty"]


def test_no_new_result_comes_from_uncommitted_code():
    made_at = {}  # each uncommitted checkout a shipped result names -> one file naming it
    for path in sorted(PACKAGE.rglob("*.json")):
        for revisions in _revisions(json.loads(path.read_text())):
            for revision in uncommitted(revisions):
                made_at.setdefault(revision.removesuffix("-dirty"), path.name)
    assert made_at, "the walk found none of the older results"
    new = {revision: name for revision, name in made_at.items() if revision not in UNTRACEABLE}
    assert not new, f"results made at uncommitted checkouts: {new}; commit, then make them again"

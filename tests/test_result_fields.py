"""What a result records about the machine that made it, as fields, and the one function
that rewrites a page's generated block (iic_tutorial.runs)."""

import pytest

from iic_tutorial.runs import MACHINE_FIELDS, run_machine


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

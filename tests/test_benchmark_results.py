"""The benchmark results shipped as package data, and the tables the book makes of them."""

import pytest

import iic_tutorial as iic
from iic_tutorial.metrics import GROUPS, group_counts
from iic_tutorial.runs import gradients_table, levers_table

SHIPPED = ("fp32_levers", "fp32_levers_avx512", "precision_gradients")  # with full provenance


@pytest.mark.parametrize("name", iic.pretrained.BENCHMARKS)
def test_each_benchmark_result_was_made_by_its_command(name):
    # the table's script and options are those of the command the result recorded
    script, *options = iic.pretrained.BENCHMARKS[name].split()
    words = iic.pretrained.benchmark(name)["command"].split()
    assert words[:2] == ["python", script]
    assert all(" ".join(options[i:i + 2]) in " ".join(words) for i in range(0, len(options), 2))


@pytest.mark.parametrize("name", SHIPPED)
def test_each_shipped_benchmark_result_says_where_it_came_from(name):
    result = iic.pretrained.benchmark(name)
    assert not result["revision"].endswith("-dirty") and result["revision"] != "unknown"
    assert {"tensorflow", "keras", "numpy", "python"} <= set(result["software"])
    assert result["machine"]["cpu"] and result["rows"]


def test_every_result_file_of_the_package_is_a_model_a_run_or_a_benchmark():
    folder = iic.pretrained.weights_path().parent
    models = {f.name for name in iic.pretrained.PRETRAINED
              for f in iic.pretrained.model_files(name).values()}
    others = {p.name for p in folder.glob("*.json")} - models
    assert others == {f"{name}.json" for name in iic.pretrained.BENCHMARKS}


def test_a_benchmark_result_asked_for_wrongly_says_what_to_do(monkeypatch, tmp_path):
    with pytest.raises(ValueError, match=r"no benchmark result named 'no_such_thing'; the "
                                         r"package's are step_speed, distributed"):
        iic.pretrained.benchmark("no_such_thing")
    monkeypatch.setattr(iic.pretrained, "_folder", lambda: tmp_path)  # a package without it
    with pytest.raises(FileNotFoundError, match=r"run python benchmarks/fp32_levers\.py --isa "
                                                r"AVX512_CORE --out iic_tutorial/pretrained/"):
        iic.pretrained.benchmark("fp32_levers_avx512")


def test_the_precision_of_P_barely_moves_the_gradient_and_bf16_does():
    # the sentence of the engineering notes these rows carry: P in float32 instead of float64
    # moves a step's gradient by round-off, the bf16 network by whole percents
    rows = iic.pretrained.benchmark("precision_gradients")["rows"]
    assert all(r["fp32, P float32"]["relative_distance"] < 1e-4 for r in rows)
    assert all(r["bf16, P float64"]["relative_distance"] > 1e-2 for r in rows)


def test_gradients_table_averages_each_network_over_its_batches():
    def row(network, d):
        return {"network": network, "gradient_norm": 1.0,
                "a": {"relative_distance": d, "cosine": 1.0}, "b": {"relative_distance": 2 * d, "cosine": 1.0}}

    table = gradients_table({"rows": [row("net 1", 0.1), row("net 1", 0.3), row("net 2", 1e-6)]})
    lines = table.splitlines()
    assert lines[0] == "| network | batches | a | b |" and len(lines) == 4
    assert lines[2] == "| net 1 | 2 | 20.0 % | 40.0 % |"
    assert lines[3] == "| net 2 | 1 | 0.0001 % | 0.0002 % |"


def test_levers_table_has_a_row_per_timed_step_and_the_evaluation_share():
    timed = {"step": "long_band, oneDNN, 1 thread(s)", "s_per_step": 1.0, "speedup_vs_baseline": 1.0,
             "speedup_vs_article_code_same_settings": 2.0, "evaluation_s": 7.0,
             "evaluation_share_at_eval_every": {"100": 7 / 107, "500": 7 / 507}}
    other = {"step": "article code", "s_per_step": 2.0, "speedup_vs_baseline": 1.0,
             "speedup_vs_article_code_same_settings": 1.0}
    lines = levers_table([{"isa_cap": "AVX2", "rows": [timed, other]},
                          {"isa_cap": None, "rows": [other]}]).splitlines()
    assert len(lines) == 5
    assert lines[2] == "| AVX2 | long_band, oneDNN, 1 thread(s) | 1.00 | 1.00x | 2.00x | 7.0 s | 6.5 % / 1.4 % |"
    assert lines[4].startswith("| no cap | article code |") and lines[4].endswith("| — | — |")


def test_early_losses_are_the_runs_and_choices_they_were_read_from():
    """benchmarks/early_loss.py: every entry is a collected run (or a start of one with restarts),
    its last evaluation is the run's result, and a restart run's starts carry the losses its choice
    recorded, computed there from the same history by the trainer."""
    early = iic.pretrained.benchmark("early_loss")
    assert early["window"] == 100 and early["steps"] == [500, 1000, 1500, 2000]
    results = {r["name"]: r for r in iic.pretrained.experiment_results()}
    starts = 0
    for name, e in early["runs"].items():
        r = results[name.split("/")[0]]
        assert (e["experiment"], e["seed"]) == (r["experiment"], r["seed"]), name
        losses = [e["loss"][str(s)] for s in early["steps"] if str(s) in e["loss"]]
        assert losses == sorted(losses, reverse=True), name  # the loss falls as a run trains
        if e["trained_on"]:
            assert e["last_eval"]["test_accuracy"] == r["test_accuracy"], name
        if e["candidate"] is None:
            assert e["trained_on"] and e["steps"] == r["steps"], name
            continue
        starts += 1
        choice = r["restarts"]
        assert e["trained_on"] == (e["candidate"] == choice["chosen"]), name
        at = str(choice["restart_steps"])
        assert e["loss"][at] == pytest.approx(choice["loss"][str(e["candidate"])], abs=1e-12), name
        if not e["trained_on"]:
            assert e["steps"] == choice["restart_steps"] == e["last_eval"]["step"], name
    assert starts, "no run with restarts among the early losses"


def test_uniform_pull_table_has_a_row_per_run_and_per_scoring_of_each_arm():
    def score(step, acc, nines):
        return {"step": step, "all70k_accuracy": acc, "dev_accuracy": 0.98, "errors": 700,
                "nines_in_eights": nines, "ones_in_twos": 150, "sevens_elsewhere": 30,
                "cluster_sizes": [7000, 7652] + [7000] * 8}

    result = {"digit_counts": [6903, 7877] + [7000] * 8,
              "runs": {"r_s0": {"recipe_alpha": [2.0, 1.0], "start": score(8000, 0.9896, 161),
                                "arms": [{"alpha": 2.0, "alpha_over": 1.0, "scores": [score(8250, 0.99, 160)]},
                                         {"alpha": 0.6, "alpha_over": 0.6,
                                          "scores": [score(8250, 0.9763, 159), score(8500, 0.97, 158)]}]}}}
    lines = iic.runs.uniform_pull_table(result).splitlines()
    assert "ones' cluster (7877 ones)" in lines[0]
    assert lines[2] == "| r_s0 | 2/1 | as it ended | 98.96 | 98.00 | 700 | 161 | 150 | 30 | 7652 |"
    assert [line.split(" | ")[1:3] for line in lines[3:]] == [["2/1", "+250"], ["0.6/0.6", "+250"],
                                                               ["0.6/0.6", "+500"]]
    assert lines[4].split(" | ")[3] == "97.63"


@pytest.mark.parametrize("name", ["uniform_pull", "self_label"])
def test_runs_trained_on_start_from_the_networks_the_collected_runs_scored(name):
    """benchmarks/uniform_pull.py and self_label.py restored each run's last checkpoint: as it
    ended, it scores what the run's result says (all 70k, the 10k test images, the dev split),
    the first arm is the control (the recipe's alpha; no self-labelling), and every arm trained
    the steps asked for from there."""
    bench = iic.pretrained.benchmark(name)
    runs = {r["name"]: r for r in iic.pretrained.experiment_results()}
    assert bench["runs"]
    for run, entry in bench["runs"].items():
        start, result = entry["start"], runs[run]
        assert start["step"] == result["steps"]
        assert start["all70k_accuracy"] == pytest.approx(result["all70k_accuracy"], abs=1.5e-5)
        assert start["test_accuracy"] == pytest.approx(result["test_accuracy"], abs=1e-4)
        assert start["dev_accuracy"] == pytest.approx(result["dev_accuracy"], abs=2e-4)
        assert sum(start["cluster_sizes"]) == 70000
        if name == "uniform_pull":
            assert sum(bench["digit_counts"]) == 70000
            assert entry["recipe_alpha"] == [result["config"]["alpha"], result["config"]["alpha_over"]]
            assert [(a["alpha"], a["alpha_over"]) for a in entry["arms"]][0] == tuple(entry["recipe_alpha"])
        else:
            assert result["config"].get("self_label", 0) == entry["arms"][0]["self_label"] == 0
            assert all(a["self_label"] > 0 for a in entry["arms"][1:]) and len(entry["arms"]) > 1
        for arm in entry["arms"]:
            steps = [r["step"] - start["step"] for r in arm["scores"]]
            assert steps == list(range(bench["every"], bench["steps"] + 1, bench["every"]))


def test_crossed_sevens_are_read_from_the_collected_runs_evaluations():
    """benchmarks/crossed_sevens.py: every entry is a collected run of its experiment and band,
    and its last evaluation is the run's collected end (steps, test accuracy, the test sevens
    in another digit's cluster of its final confusion matrix)."""
    crossed = iic.pretrained.benchmark("crossed_sevens")
    results = {r["name"]: r for r in iic.pretrained.experiment_results()}
    assert crossed["group"] == 80
    for name, e in crossed["runs"].items():
        r = results[name]
        assert (e["experiment"], e["seed"], e["steps"]) == (r["experiment"], r["seed"], r["steps"]), name
        assert e["band"] == r["config"]["view"]["band_p"], name
        last = e["evals"][-1]
        assert last["step"] == r["steps"] and last["test_accuracy"] == e["test_accuracy"] == r["test_accuracy"]
        sevens = [n for c, n in enumerate(r["final_confusion"][7]) if c != 7]
        assert last["sevens"] == max(sevens), name
        steps = [x["step"] for x in e["evals"]]
        assert steps == sorted(set(steps)), name


def test_second_stage_reads_the_collected_runs_dev_scores():
    """benchmarks/second_stage.py scored each collected run's own weights on the dev split: its
    10-cluster head's accuracy, mistakes and two groups are those of the run's dev confusion
    matrix (scored by the run's evaluation or dev_accuracy.py), and a threshold keeps fewer
    images and mistakes the higher it is."""
    stage = iic.pretrained.benchmark("second_stage")
    results = {r["name"]: r for r in iic.pretrained.experiment_results()}
    assert stage["runs"] and stage["thresholds"] == sorted(stage["thresholds"])
    for name, e in stage["runs"].items():
        r, ten = results[name], e["ten"]
        C = r["final_dev_confusion"]  # digits x matched clusters
        assert (e["experiment"], e["seed"], e["steps"]) == (r["experiment"], r["seed"], r["steps"]), name
        assert ten["accuracy"] == pytest.approx(r["dev_accuracy"], abs=2e-4), name
        assert abs(ten["mistakes"] - (stage["dev_images"] - sum(C[d][d] for d in range(10)))) <= 1, name
        assert {g: ten[g] for g in GROUPS} == group_counts(C) == {"nines_in_eights": C[9][8],
                                                                  "ones_in_twos": C[1][2]}, name
        above = [ten["above"][f"{t:g}"] for t in stage["thresholds"]]
        for low, high in zip(above, above[1:]):
            assert high["share"] <= low["share"] and high["mistakes"] <= low["mistakes"], name
        assert all(a["mistakes"] <= ten["mistakes"] and a["nines_in_eights"] <= ten["nines_in_eights"]
                   for a in above), name
        assert ten["accuracy"] > e["fifty"]["accuracy"] > 0.9, name

"""The README's "where it runs" table: the long recipes' speed per processor, from the collected runs."""

import dataclasses
from pathlib import Path

from iic_tutorial.runs import run_cores, run_processor, where_it_runs
from iic_tutorial.training import TrainConfig

ROOT = Path(__file__).resolve().parent.parent


def _run(seed, precision, wall, to_975, to_99, subheads=1, **where):
    config = dataclasses.replace(TrainConfig.long_band(seed=seed), precision=precision,
                                 num_subheads=subheads)
    curve = [{"step": 1000, "wall_time": to_975, "acc": 0.976},
             {"step": 4000, "wall_time": to_99 or wall, "acc": 0.991 if to_99 else 0.977}]
    return {"config": config.to_dict(), "steps": 4000, "wall_time_s": wall, "precision": precision,
            "trained_on": "all (70000 images; an epoch is one pass over them)", "curve": curve,
            **where}


def test_rows_per_processor_cores_and_precision_with_medians():
    new = {"hardware": "CPU only, 2 cores, x86_64, X", "machine": {
        "cpu": "AMD EPYC (family 25, model 17; bf16: AVX512-BF16)", "cores": 2,
        "usable_cores": 2, "gpus": []}}
    old = {"hardware": "CPU only, 1 of 2 cores, 1 TensorFlow thread(s), x86_64"}
    named = {"hardware": "CPU only, 2 cores, x86_64, AMD EPYC (family 26, model 2; bf16: AVX512-BF16)"}
    runs = [_run(0, "bf16", 800, 300, 600, **new), _run(1, "bf16", 1000, 500, None, **new),
            _run(2, "bf16", 900, 400, 700, **new), _run(0, "fp32", 4000, 1000, 3000, **new),
            _run(0, "bf16", 2000, 600, 1200, **old), _run(0, "bf16", 840, 240, 480, **named)]
    other = _run(3, "bf16", 1, 1, 1, **new)
    other["config"]["lr"] = 8e-4  # another recipe: not counted
    short = {**_run(4, "bf16", 1, 1, 1, **new), "steps": 1600}  # not the recipe's length
    # --recipe long_band --subheads 5 is the recipe long_band_sub5, a row of its own
    sub5 = _run(5, "bf16", 2400, 600, 1800, subheads=5, **new)
    three = {**_run(6, "bf16", 1, 1, 1, subheads=3, **new)}  # no recipe's: not counted
    table = where_it_runs(runs + [other, short, sub5, three]).splitlines()
    assert table[0].startswith("| recipe | processor |") and len(table) == 2 + 5
    row = next(r for r in table if "family 25" in r and "bf16" in r)
    # median s/step of 0.20, 0.25, 0.225; 97.5 %: median of 5, 8.3, 6.7 min; 99 %: 2 of 3
    assert row == ("| `long_band` | AMD EPYC (family 25, model 17; bf16: AVX512-BF16) | 2 cores | bf16 "
                   "| 3 | 0.23 | 6.7 min | 11.7 min |")
    assert "| `long_band` | an unnamed CPU | 1 of 2 cores | bf16 | 1 | 0.50 | 10.0 min | 20.0 min |" \
        in table
    assert any(r.startswith("| `long_band` | AMD EPYC (family 26, model 2; bf16: AVX512-BF16) | 2 "
                            "cores |") for r in table)
    assert table[-1] == ("| `long_band_sub5` | AMD EPYC (family 25, model 17; bf16: AVX512-BF16) "
                         "| 2 cores | bf16 | 1 | 0.60 | 10.0 min | 30.0 min |")
    assert where_it_runs([sub5], recipes=("long_band",)).count("\n") == 1  # the header alone


def test_processor_and_cores_read_fields_or_the_older_sentence():
    assert run_processor({"hardware": "CPU only, 2 cores, x86_64, Intel(R) Xeon(R) (family 6, "
                                      "model 143; bf16: AMX)"}) == "Intel(R) Xeon(R) (family 6, model 143; bf16: AMX)"
    assert run_processor({"hardware": "CPU only, 2 cores, x86_64"}) == "an unnamed CPU"
    gpu = {"machine": {"cpu": "x", "cores": 8, "usable_cores": 8, "gpus": ["Tesla T4"]}}
    assert run_processor(gpu) == "Tesla T4" and run_cores(gpu) == "GPU"
    assert run_cores({"machine": {"cores": 2, "usable_cores": 1, "gpus": []}}) == "1 of 2 cores"
    assert run_cores({"hardware": "CPU only, 1 of 2 cores, x86_64"}) == "1 of 2 cores"


def test_the_readme_block_is_generated_from_the_results():
    from iic_tutorial.pretrained import experiment_results

    readme = (ROOT / "README.md").read_text()
    block = readme.split("<!-- where-it-runs:begin -->\n")[1].split("\n<!-- where-it-runs:end -->")[0]
    assert block == where_it_runs(experiment_results())

"""A run's provenance and its result file: what made it, where, when, and what it holds.

Every result this project writes (``python -m iic_tutorial train``, the
benchmarks) records the same fields through :func:`provenance`, so a number in
the book can always be traced to the command that produced it. A training
run's ``result.json`` is built by :func:`training_result` (its schema:
:func:`result_fields`, :func:`curve_fields`); ``benchmarks/collect.py``, the
README and chapter 9 read results back through :func:`time_to_accuracy`,
:func:`at_step`, :func:`mean_std` and :func:`scoreboard`.

One module per layer, every name importable from here:

- :mod:`.probe`: the machine and the software, probed (:func:`provenance`,
  :func:`git_revision`, :func:`hardware`, :func:`machine`, :func:`cpu_flags`, ...);
- :mod:`.files`: atomic writes (:func:`atomic_write_text`, :func:`atomic_save_weights`) and
  the generated blocks of a page (:func:`replace_between_markers`);
- :mod:`.schema`: what a result holds (:func:`result_fields`, :func:`training_result`);
- :mod:`.curves`: reading a result's curve (:func:`time_to_accuracy`, :func:`at_step`, ...);
- :mod:`.tables`: Markdown tables (:func:`speed_table`, :func:`where_it_runs`, ...);
- :mod:`.scoreboard`: the scoreboard and the bottom line, with the experiments they show.
"""

from .curves import at_step, first_step, median_time_to_accuracy, same_trajectory, time_to_accuracy, until
from .files import atomic_save_weights, atomic_write_text, finished_result, replace_between_markers, runs_parser
from .probe import (BF16_FLAGS, benchmark_command, cpu_flags, cpu_name, git_revision, gpu_names, hardware,
                    machine, provenance, require_committed, software, threads, uncommitted)
from .schema import THRESHOLDS, curve_fields, result_fields, training_result
from .scoreboard import (BOTTOM_LINE_HELDOUT, BOTTOM_LINE_RECIPES, BOTTOM_LINE_ROWS, HEADLINE, IDEAS,
                         PROTOCOLS, REPORTED, bottom_line, scoreboard)
from .tables import (MACHINE_FIELDS, crossed_sevens_table, distributed_table, gradients_table, levers_table,
                     mean_std, run_cores, run_machine, run_processor, speed_table, time_table,
                     uniform_pull_table, where_it_runs)

__all__ = ["provenance", "benchmark_command", "hardware", "software", "machine", "gpu_names", "cpu_name",
           "git_revision", "uncommitted", "require_committed",
           "threads", "cpu_flags", "BF16_FLAGS", "atomic_write_text", "atomic_save_weights",
           "replace_between_markers", "finished_result", "runs_parser", "training_result", "result_fields",
           "curve_fields", "THRESHOLDS",
           "time_to_accuracy", "median_time_to_accuracy", "time_table", "same_trajectory", "at_step",
           "until", "first_step", "run_machine", "MACHINE_FIELDS", "run_processor", "run_cores",
           "where_it_runs", "distributed_table", "speed_table", "levers_table", "gradients_table",
           "uniform_pull_table", "crossed_sevens_table", "mean_std", "scoreboard", "HEADLINE", "IDEAS",
           "REPORTED", "bottom_line",
           "BOTTOM_LINE_RECIPES", "BOTTOM_LINE_HELDOUT", "BOTTOM_LINE_ROWS", "PROTOCOLS"]

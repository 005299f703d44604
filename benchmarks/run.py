"""Train the registered experiments (``iic_tutorial.experiments``), one run after another.

    python benchmarks/run.py --list                            # every experiment, its seeds
    python benchmarks/run.py long_band flat --pin 0            # every seed of each, on core 0
    python benchmarks/run.py long_band --seeds 1 --dry-run     # the commands, not run
    nohup python benchmarks/run.py NAME ... --lane 0/2 --pin 0 > runs/lane0.log 2>&1 &
    nohup python benchmarks/run.py NAME ... --lane 1/2 --pin 1 > runs/lane1.log 2>&1 &
    python benchmarks/run.py seg --pin 0 && python benchmarks/run.py seg --publish

Each run (seed s of experiment NAME) is ``python -m iic_tutorial train ... --out
runs/NAME_s<s> --quiet --experiment NAME``, or for a segmentation experiment
``python -m iic_tutorial train-seg ... --out runs/NAME_s<s>`` (``experiments.command``),
its output in ``runs/NAME_s<s>.log``. A finished run (``runs/NAME_s<s>/result.json``) is skipped;
an interrupted one resumes from its checkpoint, since its command is the same, so after
a stop simply start the runner again. A run that another process is training (its
folder's lock is held, or a restart candidate's) is waited for until that process
ends -- it writes result.json after releasing the lock -- and then skipped if done.

``--pin CORE`` runs every run on that one core with one TensorFlow thread: on a
2-core machine two pinned runners side by side (``--lane 0/2`` and ``--lane 1/2``
split the runs between them) train more steps per second in total than one runner on
both cores. Experiments marked ``alone`` are timings: they run on every core and
refuse to start while another training runs.

``--publish`` trains nothing: it copies the finished runs of a ``train-seg``
experiment into the package (:func:`publish`), where chapter 12 reads them. Runs of
``train`` are published by ``benchmarks/collect.py``, which also rewrites the tables.
"""

from __future__ import annotations

import argparse
import fcntl
import os
import shutil
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from iic_tutorial import experiments  # noqa: E402  (no TensorFlow)

#: Seconds between checks while another process trains a run.
POLL_S = 10


def _now() -> str:
    return datetime.now(timezone.utc).astimezone().isoformat(timespec="seconds")


def _say(text: str) -> None:
    print(f"{_now()} {text}", flush=True)


def _holder(lock: Path) -> int | None:
    """The process that holds ``lock`` (a training's folder lock), or None if it is free."""
    try:
        fd = os.open(lock, os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        text = lock.read_text().strip()
        return int(text) if text.isdigit() else -1
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def wait_while_trained(folder: Path, name: str) -> None:
    """Wait while another process trains ``folder`` (its lock, or a restart candidate's)."""
    for lock in [folder / ".lock", *sorted(folder.glob("candidate_seed*/.lock"))]:
        owner = _holder(lock)
        if owner is None:
            continue
        _say(f"wait for {name}: process {owner} is training it")
        while owner > 0 and _alive(owner):
            time.sleep(POLL_S)
        while owner < 0 and _holder(lock) is not None:  # a lock without its owner's id
            time.sleep(POLL_S)


def trainings_running() -> list[int]:
    """Processes of this machine running ``python -m iic_tutorial train`` or ``train-seg``
    (not this one)."""
    commands = {word.encode() for word in experiments.SUBCOMMANDS}
    found = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            words = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"iic_tutorial" in words and commands & set(words) and int(proc.name) != os.getpid():
            found.append(int(proc.name))
    return found


def planned(names: list[str], seeds: list[int] | None) -> list[tuple[str, int]]:
    """(experiment, seed) of every run asked for, in order; ValueError for a bad name or seed."""
    runs = []
    for name in names:
        e = experiments.experiment(name)
        chosen = seeds if seeds is not None else list(e.seeds)
        wrong = [s for s in chosen if s not in e.seeds]
        if wrong:
            raise ValueError(f"experiment {name!r} has the seeds {e.seeds}; not {wrong} "
                             "(a new seed is a change to its entry in iic_tutorial/experiments.py)")
        runs += [(name, s) for s in chosen]
    return runs


def launch(name: str, seed: int, pin: int | None, runs: Path, dry_run: bool = False) -> int:
    """Train one run unless it is finished; returns its exit status (0 if skipped).

    Its output goes to the log unbuffered (PYTHONUNBUFFERED, as ``python -u``), so the
    log shows a run's evaluations as they happen.
    """
    run = experiments.run_name(name, seed)
    folder = runs / run
    words = experiments.command(name, seed, runs=os.path.relpath(runs, ROOT))
    argv = [sys.executable, "-m", "iic_tutorial", *words]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    if pin is not None:
        argv = ["taskset", "-c", str(pin), *argv]
        env.update(TF_NUM_INTRAOP_THREADS="1", TF_NUM_INTEROP_THREADS="1")
    if dry_run:
        print(" ".join(argv))
        return 0
    wait_while_trained(folder, run)
    if (folder / "result.json").exists():
        _say(f"skip {run}: {folder / 'result.json'} exists")
        return 0
    if experiments.experiment(name).alone and trainings_running():
        _say(f"skip {run}: a timing needs the machine to itself, and processes "
             f"{trainings_running()} are training")
        return 1
    _say(f"start {run}: {' '.join(words[1:])}")
    with open(runs / f"{run}.log", "ab") as log:
        status = subprocess.call(argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    _say(f"end {run} rc={status}")
    return status


def publish(name: str, seeds: list[int], runs: Path, results: Path | None = None,
            dry_run: bool = False) -> list[Path]:
    """Copy finished runs of train-seg experiment ``name`` into the package; returns the copies.

    Each seed's ``runs/NAME_s<s>/result.json`` becomes ``<results>/NAME_s<s>.json``,
    and the weights of the experiment's first seed (seed 0 of ``seg``, the network
    chapter 12 loads) ``<results>/NAME_s<s>.weights.h5``; ``results`` defaults to
    ``iic_tutorial.segmentation.plots.results_dir()``, where the chapter reads them.
    Nothing is copied unless every asked run is finished (ValueError naming those that
    are not); ``dry_run`` only prints the copies.

    This is the one place segmentation results are published, beside the runner that
    made their folders: a segmentation result is read as it is (``plots.load_results``),
    so a copy is all its publishing is. A ``train`` experiment's runs are refused here:
    ``benchmarks/collect.py`` publishes them, since their tables must be rewritten too.
    """
    e = experiments.experiment(name)
    if e.subcommand != "train-seg":
        raise ValueError(f"experiment {name!r} runs {e.subcommand}: publish its runs with "
                         f"python benchmarks/collect.py runs/{experiments.run_name(name, seeds[0])} "
                         "..., which also rewrites the tables")
    if results is None:
        from iic_tutorial.segmentation.plots import results_dir  # matplotlib, no TensorFlow

        results = results_dir()
    copies = [(runs / experiments.run_name(name, s) / "result.json",
               results / f"{experiments.run_name(name, s)}.json") for s in seeds]
    if e.seeds[0] in seeds:
        shipped = experiments.run_name(name, e.seeds[0])
        copies.append((runs / shipped / "model.weights.h5", results / f"{shipped}.weights.h5"))
    missing = [str(source) for source, _ in copies if not source.is_file()]
    if missing:
        raise ValueError(f"not finished, nothing published: {', '.join(missing)} missing; train "
                         f"them first (python benchmarks/run.py {name} --pin 0)")
    for source, target in copies:
        print(f"copy {source} -> {target}", flush=True)
        if not dry_run:
            results.mkdir(parents=True, exist_ok=True)
            partial = target.with_name(f".{target.name}.partial")
            shutil.copyfile(source, partial)
            os.replace(partial, target)  # a reader never sees half a file
    return [target for _, target in copies]


def _lane(text: str) -> tuple[int, int]:
    try:
        index, count = (int(v) for v in text.split("/"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected I/N (e.g. 0/2), got {text!r}") from None
    if not 0 <= index < count:
        raise argparse.ArgumentTypeError(f"expected 0 <= I < N in I/N, got {text!r}")
    return index, count


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog=__doc__.split("\n\n", 1)[1])
    parser.add_argument("names", nargs="*", metavar="NAME", help="experiments to run, in order")
    parser.add_argument("--seeds", type=int, nargs="+", default=None,
                        help="only these of each experiment's seeds (default: all of them)")
    parser.add_argument("--pin", type=int, default=None, metavar="CORE",
                        help="run on this one core with one TensorFlow thread")
    parser.add_argument("--lane", type=_lane, default=(0, 1), metavar="I/N",
                        help="only every N-th run, from the I-th (0-based): N runners share a list")
    parser.add_argument("--runs", type=Path, default=ROOT / "runs", help="where run folders go")
    parser.add_argument("--list", action="store_true", help="list the experiments and stop")
    parser.add_argument("--dry-run", action="store_true", help="print the commands, run nothing")
    parser.add_argument("--publish", action="store_true",
                        help="train nothing: copy the finished runs of train-seg experiments into "
                             "the package, where chapter 12 reads them (train runs: collect.py)")
    args = parser.parse_args(argv)
    if args.list or not args.names:
        for name, e in experiments.EXPERIMENTS.items():
            print(f"{name:<20} seeds {','.join(map(str, e.seeds)):<6} {e.about}")
        return 0 if args.list else 2
    try:
        runs = planned(args.names, args.seeds)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if args.publish:
        try:
            for name in dict.fromkeys(args.names):
                publish(name, [s for n, s in runs if n == name], args.runs.absolute(),
                        dry_run=args.dry_run)
        except ValueError as e:
            print(f"error: {e}", file=sys.stderr)
            return 2
        return 0
    index, count = args.lane
    runs = runs[index::count]
    if args.pin is not None:
        alone = sorted({n for n, _ in runs if experiments.experiment(n).alone})
        if alone:
            print(f"error: {', '.join(alone)} time the recipe on every core: run them without --pin",
                  file=sys.stderr)
            return 2
    args.runs.mkdir(parents=True, exist_ok=True)
    # absolute(), not resolve(): a runs/ that is a symlink (a worktree's) stays runs/ in the command
    failed = [experiments.run_name(n, s) for n, s in runs
              if launch(n, s, args.pin, args.runs.absolute(), args.dry_run)]
    if failed:
        _say(f"runs that did not finish: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

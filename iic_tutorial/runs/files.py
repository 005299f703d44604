"""Writing result and weights files so that a process killed at any moment leaves the
previous complete file or the new complete one, never half of one; the one function
that rewrites a generated block between markers of a page; and reading a finished run's
result.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from ..files import atomic_save_weights, atomic_write_text  # the writes training uses too

__all__ = ["atomic_write_text", "atomic_save_weights", "replace_between_markers", "finished_result",
           "runs_parser"]


def finished_result(run: str | os.PathLike) -> dict:
    """The result of a finished run folder (``python -m iic_tutorial train --out run``): its
    ``result.json``, which a run writes at its end. SystemExit naming the folder when there is
    none (the run has not finished), for the scripts that read finished runs.
    """
    path = Path(run) / "result.json"
    if not path.exists():
        raise SystemExit(f"{run} has no result.json: pass finished runs (train them on first)")
    return json.loads(path.read_text())


def runs_parser(doc: str, out: Path) -> argparse.ArgumentParser:
    """The command line of a benchmark that reads finished run folders: ``RUN [RUN ...]
    [--out FILE]`` (default ``out``, the package's copy the book reads), ``doc`` its help.

    A benchmark adds its own options to it before ``parse_args``.
    """
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="+", type=Path, help="finished run folders (with result.json)")
    parser.add_argument("--out", type=Path, default=out,
                        help="the JSON to write (default: the package's, which the book reads)")
    return parser


def replace_between_markers(path: str | os.PathLike, name: str, block: str) -> bool:
    """Put ``block`` between ``<!-- NAME:begin -->`` and ``<!-- NAME:end -->`` in ``path``.

    The page's generated blocks (the README's bottom line, ...) are rewritten
    only through here, by ``benchmarks/collect.py`` (``make results``). The
    markers keep their own lines; the text outside them is left as it is, and
    the file is written (atomically) only when the block changed, so a second
    run changes nothing. Returns whether it wrote. ValueError, naming the
    markers, when the page lacks them or holds either twice.
    """
    path = Path(path)
    begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
    text = path.read_text()
    if text.count(begin) != 1 or text.count(end) != 1 or text.index(begin) > text.index(end):
        raise ValueError(f"{path} must hold {begin} once, then {end} once; add them where "
                         f"the {name} block goes")
    head, rest = text.split(begin, 1)
    tail = rest.split(end, 1)[1]
    new = f"{head}{begin}\n{block.strip(chr(10))}\n{end}{tail}"
    if new == text:
        return False
    atomic_write_text(path, new)
    return True

"""Maintenance of the book's notebooks.

    python tools/book.py sync               # rewrite every notebook's setup cell from _config.yml
    python tools/book.py check              # exit 1 if a setup cell is out of date
    python tools/book.py execute [NB ...]   # run notebooks top to bottom in a fresh kernel (full mode)

The repository URL lives in one place, ``_config.yml`` -> ``repository.url``; the
Colab buttons (Jupyter Book) and the install line of each setup cell (this tool) derive
from it, so publishing the book elsewhere is a one-line change plus ``sync``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import nbformat
import yaml

ROOT = Path(__file__).resolve().parent.parent
BOOK = ROOT / "book"
SETUP_MARKER = "# Setup (the same in every chapter)"


def repository(config_path: Path = ROOT / "_config.yml") -> tuple[str, str, str]:
    """(url, branch, path_to_book) from _config.yml's ``repository`` section.

    ``path_to_book`` is where the book's root (the folder of _config.yml) lies in the
    repository, "" for the repository root, as Jupyter Book reads it.
    """
    config = yaml.safe_load(config_path.read_text())
    repo = config.get("repository") or {}
    url = str(repo.get("url", "")).rstrip("/")
    if not url.startswith("https://github.com/") or url.count("/") != 4:
        raise ValueError(f"{config_path}: repository.url must look like https://github.com/OWNER/REPO; got {url!r}")
    return url, str(repo.get("branch", "main")), str(repo.get("path_to_book") or "").strip("/")


def install_spec(config_path: Path = ROOT / "_config.yml") -> str:
    """The pip requirement that installs this package from the repository (non-editable)."""
    url, branch, _ = repository(config_path)
    return f"iic-tutorial @ git+{url}@{branch}"


def colab_url(notebook: str, config_path: Path = ROOT / "_config.yml") -> str:
    """The Colab address of a chapter, e.g. colab_url('01_entropy').

    Built as the book's Colab button builds it: path_to_book, then the page's
    name in the book (``book/01_entropy``), then ``.ipynb``.
    """
    url, branch, root = repository(config_path)
    owner_repo = url.removeprefix("https://github.com/")
    page = f"{BOOK.relative_to(ROOT).as_posix()}/{notebook}.ipynb"
    path = f"{root}/{page}" if root else page
    return f"https://colab.research.google.com/github/{owner_repo}/blob/{branch}/{path}"


def setup_cell_source(config_path: Path = ROOT / "_config.yml") -> str:
    """The first code cell of every chapter."""
    return "\n".join([
        SETUP_MARKER,
        "import os",
        "import sys",
        "",
        'if "google.colab" in sys.modules:  # in Colab: install this book\'s package',
        f'    %pip install -q "{install_spec(config_path)}"',
        "",
        "import iic_tutorial as iic",
        "",
        "iic.seed_everything(0)",
        'SMOKE = os.environ.get("IIC_SMOKE") == "1"  # tiny settings, for CI',
    ])


def notebooks() -> list[Path]:
    """Every chapter notebook, in file-name order."""
    return sorted(p for p in BOOK.glob("*.ipynb"))


def _setup_index(nb) -> int:
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            return i
    raise ValueError("notebook has no code cell")


def sync() -> list[Path]:
    """Rewrite the setup cell of every notebook; returns the notebooks changed."""
    source = setup_cell_source()
    changed = []
    for path in notebooks():
        nb = nbformat.read(path, as_version=4)
        i = _setup_index(nb)
        if nb.cells[i].source != source:
            nb.cells[i].source = source
            nbformat.write(nb, path)
            changed.append(path)
    return changed


def stale() -> list[Path]:
    """Notebooks whose setup cell differs from :func:`setup_cell_source`."""
    source = setup_cell_source()
    out = []
    for path in notebooks():
        nb = nbformat.read(path, as_version=4)
        if nb.cells[_setup_index(nb)].source != source:
            out.append(path)
    return out


def execute(paths: list[Path], timeout: int = 3600) -> None:
    """Run each notebook top to bottom in a fresh kernel, in full mode, keeping widget state."""
    from nbclient import NotebookClient

    env_smoke = os.environ.pop("IIC_SMOKE", None)
    try:
        for path in paths:
            nb = nbformat.read(path, as_version=4)
            start = time.perf_counter()
            client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                                    resources={"metadata": {"path": str(path.parent)}},
                                    store_widget_state=True)
            client.execute()
            nbformat.write(nb, path)
            print(f"{path.name}: {time.perf_counter() - start:.0f} s")
    finally:
        if env_smoke is not None:
            os.environ["IIC_SMOKE"] = env_smoke


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("sync", help="rewrite every setup cell from _config.yml")
    sub.add_parser("check", help="fail if a setup cell is out of date")
    ex = sub.add_parser("execute", help="run notebooks in full mode and save their outputs")
    ex.add_argument("notebooks", nargs="*", type=Path, help="default: every chapter")
    args = parser.parse_args(argv)
    if args.command == "sync":
        for path in sync():
            print(f"updated {path.relative_to(ROOT)}")
    elif args.command == "check":
        bad = stale()
        for path in bad:
            print(f"{path.relative_to(ROOT)}: setup cell out of date; run python tools/book.py sync")
        return 1 if bad else 0
    else:
        execute(args.notebooks or notebooks())
    return 0


if __name__ == "__main__":
    sys.exit(main())

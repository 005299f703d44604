"""Sphinx extension (set up by ``tools/book_assets.py``): the "draw a digit" page's model.

* **The model, exported by the build.** When the HTML builder starts, this runs
  ``tools/web_model.py`` in a subprocess (TensorFlow stays out of Sphinx's
  process), which walks the Keras layers of ``iic_tutorial.load_pretrained()``
  and writes the network, its provenance and the page's data into
  ``_build/draw-a-digit-assets/draw-a-digit/``; ``_build/draw-a-digit-assets`` is
  on ``html_static_path``, so the site serves them in ``_static/draw-a-digit/``,
  beside the page's committed scripts (``book_static/draw-a-digit/``). The
  export is kept while nothing it depends on changes (the shipped models and
  their provenance, ``iic_tutorial/pretrained.py``, ``iic_tutorial/strokes.py``,
  ``tools/web_model.py``): ``_build/draw-a-digit-assets.stamp`` holds their hash.
  The export is written beside the folder and swapped in whole when it succeeds.
  A failed export is a build warning (an error under ``-W``) that says what to run.
* **Scripts on one page.** A page whose body holds ``id="draw-a-digit-demo"`` (the
  ``{raw} html`` block of ``book/draw_a_digit.md``) loads the data, the
  network, the pre-processing and the widget, deferred and in that order; the
  other pages load none of them.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from sphinx.util import logging

logger = logging.getLogger(__name__)

TOOLS = Path(__file__).resolve().parent
ROOT = TOOLS.parent
#: The files the exported assets depend on (their hash is the cache key).
DEPENDS = (ROOT / "iic_tutorial" / "pretrained.py", ROOT / "iic_tutorial" / "strokes.py",
           TOOLS / "web_model.py")
#: In _static/: the generated data first, then the network, the pre-processing, the widget.
SCRIPTS = ("draw-a-digit/model.js", "draw-a-digit/demo.js", "draw-a-digit/iic-net.js",
           "draw-a-digit/strokes.js", "draw-a-digit/draw-a-digit.js")
CSS = "draw-a-digit/draw-a-digit.css"
MARKER = 'id="draw-a-digit-demo"'
EXPORT_TIMEOUT_S = 600


def assets_dir(app) -> Path:
    """Where the export lands: ``_build/draw-a-digit-assets`` beside ``_build/html``."""
    return Path(app.outdir).parent / "draw-a-digit-assets"


def cache_key() -> str:
    """sha256 of the shipped models (weights and provenance) and the code that exports them."""
    pretrained = ROOT / "iic_tutorial" / "pretrained"
    files = sorted(pretrained.glob("iic_mnist_*.weights.h5"))
    files += [p for p in sorted(pretrained.glob("iic_mnist_*.json"))
              if not p.name.endswith(".history.json")]
    digest = hashlib.sha256()
    for path in [*files, *DEPENDS]:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def add_static_path(app, config) -> None:
    # at config-inited, like book_assets, so the setting is the same when Sphinx compares
    # it with the previous build's (a change would re-read every page)
    # (made now, empty on a first build: Sphinx drops a static path that does not exist)
    assets_dir(app).mkdir(parents=True, exist_ok=True)
    config.html_static_path = [*config.html_static_path, str(assets_dir(app))]


def export(app) -> None:
    if app.builder.format != "html":
        return
    target = assets_dir(app)
    stamp = target.with_name(target.name + ".stamp")
    key = cache_key()
    if stamp.is_file() and stamp.read_text().strip() == key:
        logger.info("draw_a_digit: the page's model is up to date (%s)", target)
        return
    start = time.perf_counter()
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    staging = target.with_name(target.name + ".tmp")
    shutil.rmtree(staging, ignore_errors=True)
    cmd = [sys.executable, str(TOOLS / "web_model.py"), "--out", str(staging)]
    try:
        proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True,
                              timeout=EXPORT_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        logger.warning("draw_a_digit: `%s` took more than %d s; the draw-a-digit page will "
                       "have no model", " ".join(cmd), EXPORT_TIMEOUT_S,
                       type="draw_a_digit", subtype="export")
        return
    if proc.returncode != 0:
        tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-15:])
        logger.warning("draw_a_digit: exporting the shipped model for the draw-a-digit page "
                       "failed (exit %d); run `%s` to see why:\n%s", proc.returncode,
                       " ".join(cmd), tail, type="draw_a_digit", subtype="export")
        return
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)
    stamp.write_text(key + "\n")
    logger.info("draw_a_digit: %s (%.0f s)", proc.stdout.strip(), time.perf_counter() - start)


def page_scripts(app, pagename, templatename, context, doctree) -> None:
    if MARKER not in context.get("body", ""):
        return
    for name in SCRIPTS:
        app.add_js_file(name, defer="defer")
    app.add_css_file(CSS)


def setup(app):
    app.connect("config-inited", add_static_path)
    app.connect("builder-inited", export)
    app.connect("html-page-context", page_scripts)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}

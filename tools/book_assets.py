"""Sphinx extension (``_config.yml`` -> ``sphinx.local_extensions``): the book's pages
load their JavaScript from the book itself, draw their widgets, and declare each
inline script once.

* **Offline JavaScript.** When ``_vendor/static/`` holds the copies that
  ``tools/vendor_js.py`` takes from the npm registry (``make book`` runs it), that
  folder joins ``html_static_path`` and the pages load require.js, the ipywidgets
  embedder and MathJax from ``_static/`` instead of three CDNs, so embedded widgets
  and maths work with no network (CI, a saved copy) as well as online. Without the
  copies the build keeps the CDN addresses and warns (an error under ``-W``).
  The folders are added here rather than as a ``_static/`` folder because Jupyter
  Book 1 links every ``.js`` file under ``_static/`` into every page.
* **Widgets beside MathJax 3.** ipywidgets typesets widget labels with MathJax 2's
  ``MathJax.Hub.Queue``; under the MathJax 3 that Sphinx loads, that call throws and
  the widget (e.g. the slider of ``iic_tutorial.widgets.precomputed_slider``) is not
  drawn. ``book_static/ipywidgets-mathjax3.js`` gives MathJax 3 that one call, and
  ``book_static/ipywidgets-paths.js`` tells require.js where the embedder's fonts are.
* **Output that fits.** ``book_static/wrap-output.css`` wraps printed output at the
  column (long lines were cut off at the block's right edge).
* **The draw-a-digit page.** ``tools/draw_a_digit.py`` (set up from here) exports the
  shipped model into the site when the HTML build starts and loads the page's scripts
  on that page only.
* **Each inline script once.** Sphinx 7.4 registers an inline script that an
  extension adds after the builder starts (sphinx-thebe's ``const THEBE_JS_URL =
  ...``, sphinx-togglebutton's selector) a second time when it prepares to write
  (``None`` and ``""`` as file name compare unequal), so every page declared
  ``const THEBE_JS_URL`` twice: ``Uncaught SyntaxError: Identifier 'THEBE_JS_URL'
  has already been declared``. The page context drops such repeats.
"""

from __future__ import annotations

import sys
from pathlib import Path

from sphinx.util import logging

sys.path.insert(0, str(Path(__file__).resolve().parent))
import vendor_js  # noqa: E402  (tools/ is on sys.path: it holds this extension)

logger = logging.getLogger(__name__)

#: myst-nb's default keeps the embedder's fallback CDN for widget packages it does not
#: bundle (none in this book: base, controls and output are inside embed-amd.js).
WIDGETS_CDN = "https://cdn.jsdelivr.net/npm/"


#: Committed scripts that the pages with widgets load (see the module docstring).
BOOK_STATIC = Path(__file__).resolve().parent / "book_static"
WIDGETS_PATHS = "ipywidgets-paths.js"
WIDGETS_MATHJAX3 = "ipywidgets-mathjax3.js"


def use_local_copies(app, config) -> None:
    config.html_static_path = [*config.html_static_path, str(BOOK_STATIC)]
    if not vendor_js.complete():
        logger.warning(
            "book_assets: no local copies of require.js, the ipywidgets embedder and MathJax "
            "in %s; pages will load them from CDNs (widgets and maths then fail offline). "
            "Run `make vendor` (python tools/vendor_js.py).", vendor_js.STATIC,
            type="book_assets", subtype="vendor")
        return
    config.html_static_path = [*config.html_static_path, str(vendor_js.STATIC)]
    config.mathjax_path = vendor_js.MATHJAX
    # same-origin copies: no SRI hash (cdnjs's hash is of its minified require.js)
    config.nb_ipywidgets_js = {
        vendor_js.REQUIREJS: {},
        WIDGETS_PATHS: {},
        vendor_js.EMBED_AMD: {"data-jupyter-widgets-cdn": WIDGETS_CDN},
    }


def _key(script) -> tuple:
    attributes = tuple(sorted((k, str(v)) for k, v in getattr(script, "attributes", {}).items()))
    return (getattr(script, "filename", None) or "", getattr(script, "priority", 500), attributes)


def one_of_each_script(app, pagename, templatename, context, doctree) -> None:
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, unique = set(), []
    for script in scripts:
        key = _key(script) if hasattr(script, "filename") else ("str", str(script))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    scripts[:] = unique
    names = [str(getattr(script, "filename", None) or "") for script in scripts]
    has_widgets = any(name.endswith("embed-amd.js") for name in names)
    if has_widgets and any(name.endswith(str(app.config.mathjax_path)) for name in names):
        # deferred, right after MathJax (priority 500, deferred): runs once MathJax exists
        # and before the embedder draws the widgets (on the window's load event)
        app.builder.add_js_file(WIDGETS_MATHJAX3, priority=501, defer="defer")


#: Printed output wraps at the column instead of being clipped (see the file).
WRAP_OUTPUT_CSS = "wrap-output.css"


def setup(app):
    app.setup_extension("draw_a_digit")  # tools/draw_a_digit.py (tools/ is on sys.path)
    app.connect("config-inited", use_local_copies)
    app.add_css_file(WRAP_OUTPUT_CSS)
    # after myst-nb (500) has added the page's widget scripts
    app.connect("html-page-context", one_of_each_script, priority=900)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}

"""The built book as its readers see it: every page of _toc.yml in headless Chromium.

This module builds the book from the committed notebooks as ``make book`` does
(``jupyter-book build . -W -n --keep-going``, plus ``--all`` so that warnings of
unchanged pages are not hidden by an incremental build) into ``_build/html``, serves it
on 127.0.0.1 and opens each page in Debian's Chromium driven by Playwright, with every
request that leaves 127.0.0.1 refused: the pages must work with no network, as in CI
and for a reader with a saved copy. For every page it checks:

* no JavaScript error (``pageerror``, console errors, failed requests) and no request
  for anything outside the book;
* maths typeset by MathJax (every ``.math`` element holds MathJax output, no TeX error)
  and no raw TeX (``$$``, ``\\(``, ``$...\\cmd...$``) left in the visible text;
* every ``<img>`` (figures, GIFs, widget images) loaded (``naturalWidth > 0``), and the
  page no wider than the window;
* the sidebar lists every page of _toc.yml, in _toc order, under the _toc captions;
* a chapter made from a notebook has one Colab button, pointing at
  ``https://colab.research.google.com/github/OWNER/REPO/blob/BRANCH/book/CHAPTER.ipynb``
  (from ``_config.yml`` ``repository``, and equal to ``tools/book.py colab_url``); a
  Markdown page has none;
* every embedded widget is drawn (not vanished), a page with widgets also shows static
  images (for readers without JavaScript), and each precomputed slider
  (``iic_tutorial.widgets.precomputed_slider``: a slider above a Tab of images) shows a
  loaded image and switches to another when its handle gets the arrow keys;
* one kernel-free view per control. A chapter tags the cell of a live widget, which needs
  a kernel, ``live-NAME`` and ``remove-output`` (Jupyter Book drops its output; Colab and
  Jupyter run it), and the one cell that shows the control without a kernel (a side-by-side
  figure or a precomputed slider) ``view-NAME``. In the page every live cell is without
  output, every control named in the notebook's tags has exactly one view cell, which
  shows a loaded image, and no widget control (slider, menu, button) lies outside a view
  cell.

A full-page screenshot of each page goes to ``_build/screenshots/`` (printed after these
tests, with a summary of what a reader meets: stderr blocks, widgets, timings).
Needs ``/usr/bin/chromium`` (``make browser`` installs it; ``CHROMIUM=...`` names
another); skipped, with the reason, only when it is missing.
"""

from __future__ import annotations

import functools
import http.server
import os
import re
import shutil
import subprocess
import sys
import threading
import time
import types
from collections import Counter
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
HTML = ROOT / "_build" / "html"
SHOTS = ROOT / "_build" / "screenshots"
BUILD_LOG = ROOT / "_build" / "book-build.log"
CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
BUILD_TIMEOUT_S = 900
PAGE_TIMEOUT_MS = 30_000
VIEWPORT = {"width": 1280, "height": 900}

sys.path.insert(0, str(ROOT / "tools"))
import book as book_tool  # noqa: E402  (tools/book.py)
import vendor_js  # noqa: E402  (tools/vendor_js.py)


# ----------------------------------------------------------------- what the book should hold


def toc_pages(toc_path: Path = ROOT / "_toc.yml") -> list[tuple[str, str | None]]:
    """(docname, caption of its part) for every page of _toc.yml, in reading order."""
    toc = yaml.safe_load(toc_path.read_text())
    pages: list[tuple[str, str | None]] = [(toc["root"], None)]

    def walk(entries, caption):
        for entry in entries or []:
            if "file" in entry:
                pages.append((entry["file"], caption))
            walk(entry.get("sections"), caption)

    for part in toc.get("parts", []):
        walk(part.get("chapters"), part.get("caption"))
    walk(toc.get("chapters"), None)
    return pages


PAGES = toc_pages()
DOCNAMES = [doc for doc, _ in PAGES]


def source_of(docname: str) -> Path | None:
    """The notebook or Markdown file of a page, if it exists."""
    for suffix in (".ipynb", ".md"):
        if (ROOT / f"{docname}{suffix}").is_file():
            return ROOT / f"{docname}{suffix}"
    return None


def notebook_controls(path: Path) -> set[str]:
    """The controls a chapter names in its cell tags ``live-NAME`` and ``view-NAME``."""
    import json

    if path.suffix != ".ipynb":
        return set()
    cells = json.loads(path.read_text())["cells"]
    return {tag.split("-", 1)[1] for c in cells for tag in c.get("metadata", {}).get("tags", [])
            if tag.startswith(("live-", "view-"))}


def expected_colab_url(docname: str, config_path: Path = ROOT / "_config.yml") -> str:
    """The Colab address of a notebook page, from _config.yml's repository section."""
    repo = yaml.safe_load(config_path.read_text())["repository"]
    owner_repo = repo["url"].rstrip("/").removeprefix("https://github.com/")
    path = "/".join(p for p in (str(repo.get("path_to_book") or "").strip("/"), docname) if p)
    return f"https://colab.research.google.com/github/{owner_repo}/blob/{repo['branch']}/{path}.ipynb"


# ----------------------------------------------------------------- build, serve, browse


class Build:
    def __init__(self, returncode: int, output: str, seconds: float):
        self.returncode, self.output, self.seconds = returncode, output, seconds

    def warnings(self) -> list[str]:
        plain = re.sub(r"\x1b\[[0-9;]*m", "", self.output)
        return [line for line in plain.splitlines() if "WARNING" in line or "ERROR" in line]


@pytest.fixture(scope="module")
def report(request):
    """Lines printed after this module (screenshots folder, timings, reader notes)."""
    lines: list[str] = []
    yield lines
    if not lines:
        return
    SHOTS.mkdir(parents=True, exist_ok=True)
    (SHOTS / "summary.txt").write_text("\n".join(lines) + "\n")
    capture = request.config.pluginmanager.getplugin("capturemanager")
    with capture.global_and_fixture_disabled():
        print("\n\n== the built book in Chromium " + "=" * 40)
        print("\n".join(lines))


@pytest.fixture(scope="module")
def built_book(report) -> Build:
    """Vendor the JavaScript (npm) and build the book into _build/html, once."""
    start = time.perf_counter()
    vendor_js.vendor(quiet=True)
    exe = shutil.which("jupyter-book", path=str(Path(sys.executable).parent)) or shutil.which("jupyter-book")
    if exe is None:
        pytest.fail("jupyter-book is not installed: pip install -e '.[book,test]' (make setup)")
    cmd = [exe, "build", ".", "-W", "-n", "--keep-going", "--all"]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=BUILD_TIMEOUT_S)
    output = proc.stdout + proc.stderr
    BUILD_LOG.parent.mkdir(parents=True, exist_ok=True)
    BUILD_LOG.write_text(output)
    build = Build(proc.returncode, output, time.perf_counter() - start)
    report.append(f"build: {' '.join(['jupyter-book', *cmd[1:]])}: {build.seconds:.0f} s, "
                  f"exit {build.returncode}, log {BUILD_LOG.relative_to(ROOT)}")
    return build


def test_book_builds_without_warnings(built_book):
    assert built_book.returncode == 0, (
        f"jupyter-book build -W -n failed (exit {built_book.returncode}); "
        f"see {BUILD_LOG}:\n" + "\n".join(built_book.warnings()[:40]))


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def site(built_book):
    """http://127.0.0.1:PORT serving _build/html from a thread."""
    if not (HTML / "index.html").is_file():
        pytest.fail(f"the build wrote no {HTML / 'index.html'}; see {BUILD_LOG}")
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(HTML)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser(site, tmp_path_factory, report):
    """A Playwright context in Debian's Chromium, a fresh profile, no network but the site."""
    if not CHROMIUM.exists():
        pytest.skip(f"no Chromium at {CHROMIUM}: `make browser` installs Debian's chromium "
                    "(apt-get install -y chromium); CHROMIUM=/path names another")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("Python Playwright is missing: pip install -e '.[test]' (make setup)")
    SHOTS.mkdir(parents=True, exist_ok=True)
    for old in SHOTS.glob("*.png"):
        old.unlink()
    start = time.perf_counter()
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")), executable_path=str(CHROMIUM),
            headless=True, args=CHROMIUM_ARGS, viewport=VIEWPORT)
        browser = types.SimpleNamespace(context=context, outside_requests=[])

        def only_the_site(route):
            if route.request.url.startswith((site + "/", "data:", "blob:")):
                route.continue_()
            else:
                browser.outside_requests.append(route.request.url)
                route.abort()

        context.route("**/*", only_the_site)
        yield browser
        context.close()
    report.append(f"browse: {len(PAGES)} pages in {time.perf_counter() - start:.0f} s; "
                  f"screenshots in {SHOTS.relative_to(ROOT)}/")


# ----------------------------------------------------------------- one page

# Facts about the loaded page, gathered in the browser.
PAGE_FACTS_JS = r"""
() => {
  const article = document.querySelector("article.bd-article") || document.body;
  const text = (root) => {
    const copy = root.cloneNode(true);
    copy.querySelectorAll("pre, code, script, style, mjx-container, .highlight, .widget-subarea")
        .forEach(e => e.remove());
    return copy.textContent;
  };
  const maths = [...document.querySelectorAll(".math")];
  const nav = document.querySelector("nav.bd-docs-nav");
  const widgetViews = [...document.querySelectorAll(
      'script[type="application/vnd.jupyter.widget-view+json"]')];
  const drawn = (s) => {
    const area = s.previousElementSibling;
    return !!(area && area.classList.contains("widget-subarea") && area.querySelector(".lm-Widget"));
  };
  return {
    url: location.href,
    title: document.title,
    text: text(article),
    maths: maths.length,
    mathsUntypeset: maths.filter(m => !m.querySelector("mjx-container")).map(m => m.textContent.slice(0, 80)),
    mathErrors: [...document.querySelectorAll("mjx-merror")].map(e => e.textContent.slice(0, 80)),
    images: [...document.images].map(i => ({
      src: i.src.startsWith("data:") ? i.src.slice(0, 40) + "..." : i.src,
      ok: i.complete && i.naturalWidth > 0,
      inWidget: !!i.closest(".widget-subarea"),
      inOutput: !!i.closest(".cell_output, .output"),
    })),
    navLinks: nav ? [...nav.querySelectorAll("a.reference.internal")].map(a => a.href) : null,
    navCaptions: nav ? [...nav.querySelectorAll(".caption-text")].map(c => c.textContent.trim()) : null,
    colab: [...document.querySelectorAll('.dropdown-launch-buttons a[href*="colab.research.google.com"]')]
        .map(a => a.href),
    widgetState: !!document.querySelector('script[type="application/vnd.jupyter.widget-state+json"]'),
    widgetViews: widgetViews.length,
    widgetsDrawn: widgetViews.filter(drawn).length,
    sliders: [...document.querySelectorAll(".widget-subarea .widget-slider")].length,
    stderr: [...document.querySelectorAll(".cell_output .output.stderr")].map(
        e => e.textContent.trim().split("\n").filter(line => line.trim())),
    // figures drawn much wider than the column: the browser shrinks them, labels and all
    shrunk: [...document.querySelectorAll(".cell_output img")].filter(
        i => !i.closest(".widget-subarea") && i.clientWidth > 0 && i.naturalWidth / i.clientWidth > 1.6
    ).map(i => {
      const cell = i.closest(".cell");
      const code = cell && cell.querySelector(".cell_input pre");
      return {factor: Math.round(10 * i.naturalWidth / i.clientWidth) / 10,
              cell: code ? code.textContent.trim().split("\n").slice(-1)[0].slice(0, 70) : "?"};
    }),
    // cells tagged live-NAME (a widget that needs a kernel) or view-NAME (its kernel-free view)
    controlCells: [...document.querySelectorAll("div.cell")].flatMap(cell =>
      [...cell.classList].filter(c => /^tag_(live|view)-/.test(c)).map(c => ({
        tag: c.slice(4),
        output: !!cell.querySelector(".cell_output"),
        shown: [...cell.querySelectorAll(".cell_output img")].some(
            i => i.complete && i.naturalWidth > 0),
        sliders: cell.querySelectorAll(".widget-slider").length,
      }))),
    // controls (sliders, menus, buttons) outside a view cell: a live widget left in the
    // page, or a second view of a control (a progress bar is no control)
    strayControls: [...document.querySelectorAll(
        ".cell_output .widget-subarea :is(.widget-slider, .widget-dropdown, .jupyter-button)")]
        .filter(w => !w.closest('div.cell[class*="tag_view-"]')).length,
    height: document.documentElement.scrollHeight,
    overflowX: document.documentElement.scrollWidth - window.innerWidth,
    // printed output cut off at the right edge of its block
    clipped: [...document.querySelectorAll(".cell_output pre")].filter(
        p => p.offsetParent !== null && p.scrollWidth > p.clientWidth + 1
    ).map(p => p.textContent.trim().split("\n").sort((a, b) => b.length - a.length)[0].slice(0, 80)),
  };
}
"""

# Precomputed sliders: a box whose children are a slider and a Tab of images.
_SLIDER_BOXES = r"""[...document.querySelectorAll(".widget-subarea .widget-vbox")].filter(
      b => [...b.children].some(c => c.classList.contains("widget-slider")) &&
           [...b.children].some(c => c.classList.contains("widget-tab")))"""
SLIDER_FOCUS_JS = r"""
(i) => {
  const handle = """ + _SLIDER_BOXES + r"""[i].querySelector(".widget-slider [role=slider]");
  if (!handle) return false;
  handle.scrollIntoView({block: "center"});
  handle.focus();
  return document.activeElement === handle;
}
"""
SLIDER_STATE_JS = r"""
(i) => {
  const boxes = """ + _SLIDER_BOXES + r""";
  if (i === null) return boxes.length;
  const box = boxes[i];
  const shown = [...box.querySelectorAll(".widget-tab img.widget-image")].filter(
      img => !img.classList.contains("lm-mod-hidden") && img.offsetParent !== null);
  const handle = box.querySelector(".widget-slider [role=slider]");
  return {
    shown: shown.map(img => img.src),
    loaded: shown.every(img => img.complete && img.naturalWidth > 0),
    value: handle ? handle.getAttribute("aria-valuenow") : null,
    readout: (box.querySelector(".widget-readout") || {}).textContent,
  };
}
"""


def _wait_for_page(page, problems: list[str]) -> None:
    """Let MathJax typeset, the embedder draw the widgets and every image load."""
    try:
        page.wait_for_function(
            "() => !window.MathJax || !MathJax.startup || !MathJax.startup.promise"
            " || MathJax.startup.promise.then(() => true)", timeout=PAGE_TIMEOUT_MS)
        page.evaluate("() => window.MathJax && MathJax.startup && MathJax.startup.promise"
                      " ? MathJax.startup.promise.then(() => true) : true")
    except Exception as err:  # noqa: BLE001 - reported as a page problem
        problems.append(f"MathJax did not finish: {err}")
    try:
        page.wait_for_function(
            """() => {
              const views = document.querySelectorAll('script[type="application/vnd.jupyter.widget-view+json"]');
              const state = 'script[type="application/vnd.jupyter.widget-state+json"]';
              if (!views.length || !document.querySelector(state)) return true;
              return [...views].every(s => s.previousElementSibling
                  && s.previousElementSibling.classList.contains("widget-subarea")
                  && s.previousElementSibling.querySelector(".lm-Widget"));
            }""", timeout=PAGE_TIMEOUT_MS)
    except Exception:  # noqa: BLE001 - the facts below say which widgets are missing
        pass
    try:
        page.wait_for_function(
            "() => [...document.images].every(i => i.complete)", timeout=PAGE_TIMEOUT_MS)
    except Exception:  # noqa: BLE001 - the facts below name the images
        pass


def _check_sliders(page, problems: list[str]) -> int:
    """Press the arrow keys on every precomputed slider; returns how many there were."""
    count = page.evaluate(SLIDER_STATE_JS, None)
    for i in range(count):
        before = page.evaluate(SLIDER_STATE_JS, i)
        name = f"precomputed slider {i + 1} ({before['readout']!r})"
        if len(before["shown"]) != 1 or not before["loaded"]:
            problems.append(f"{name}: shows {len(before['shown'])} images (loaded: {before['loaded']}), expected 1")
            continue
        if not page.evaluate(SLIDER_FOCUS_JS, i):
            problems.append(f"{name}: its handle cannot take the keyboard focus")
            continue
        page.keyboard.press("ArrowRight")
        try:
            page.wait_for_function(
                "([i, src]) => { const s = (" + SLIDER_STATE_JS + ")(i);"
                " return s.shown.length === 1 && s.shown[0] !== src; }",
                arg=[i, before["shown"][0]], timeout=5_000)
        except Exception:  # noqa: BLE001
            after = page.evaluate(SLIDER_STATE_JS, i)
            problems.append(f"{name}: ArrowRight moved the slider from {before['value']} to "
                            f"{after['value']} but the image shown did not change")
            continue
        after = page.evaluate(SLIDER_STATE_JS, i)
        if not after["loaded"]:
            problems.append(f"{name}: the image shown after ArrowRight did not load")
        page.evaluate(SLIDER_FOCUS_JS, i)
        page.keyboard.press("ArrowLeft")
        try:
            page.wait_for_function(
                "([i, src]) => (" + SLIDER_STATE_JS + ")(i).shown[0] === src",
                arg=[i, before["shown"][0]], timeout=5_000)
        except Exception:  # noqa: BLE001
            problems.append(f"{name}: ArrowLeft did not bring back the first image")
    return count


#: The pages that show the scoreboard of iic_tutorial.runs.scoreboard.
SCOREBOARD_PAGES = ("results",)
#: The pages that show the bottom-line box of iic_tutorial.runs.bottom_line.
BOTTOM_LINE_PAGES = ("intro", "11_past_the_plateau")


@pytest.mark.parametrize("docname", DOCNAMES)
def test_page_as_a_reader_sees_it(docname, browser, site, report):
    problems: list[str] = []
    html = HTML / f"{docname}.html"
    if source_of(docname) is None:
        pytest.fail(f"{docname} is in _toc.yml but neither {docname}.ipynb nor {docname}.md exists")
    if not html.is_file():
        pytest.fail(f"{docname} is in _toc.yml but the build wrote no {html.relative_to(ROOT)}")
    errors: list[str] = []
    browser.outside_requests.clear()
    page = browser.context.new_page()
    page.on("pageerror", lambda err: errors.append(f"pageerror: {err}"))
    page.on("console", lambda msg: msg.type == "error" and errors.append(f"console error: {msg.text}"))
    page.on("response", lambda r: r.status >= 400 and errors.append(f"HTTP {r.status}: {r.url}"))
    start = time.perf_counter()
    try:
        page.goto(f"{site}/{docname}.html", wait_until="load", timeout=PAGE_TIMEOUT_MS)
        _wait_for_page(page, problems)
        facts = page.evaluate(PAGE_FACTS_JS)
        sliders = _check_sliders(page, problems)
        shot = SHOTS / f"{docname.replace('/', '__')}.png"
        page.evaluate("() => window.scrollTo(0, 0)")
        page.screenshot(path=str(shot), full_page=True)
    finally:
        page.close()
    seconds = time.perf_counter() - start

    # JavaScript and network
    problems += errors
    problems += [f"request outside the book (must work offline): {url}" for url in browser.outside_requests]

    # maths
    if facts["mathsUntypeset"]:
        problems.append(f"{len(facts['mathsUntypeset'])} of {facts['maths']} maths elements not "
                        f"typeset, e.g. {facts['mathsUntypeset'][:3]}")
    if facts["mathErrors"]:
        problems.append(f"TeX errors: {facts['mathErrors'][:5]}")
    raw = re.findall(r"\$\$|\\\(|\\\[|\$[^$\n]{0,200}?\\[A-Za-z]+[^$\n]{0,200}?\$", facts["text"])
    if raw:
        problems.append(f"raw TeX in the visible text: {raw[:5]}")

    if facts["clipped"]:
        problems.append(f"{len(facts['clipped'])} output blocks are cut off at the right, e.g. "
                        f"{facts['clipped'][:3]}")
    if facts["overflowX"] > 0:
        problems.append(f"the page is {facts['overflowX']} px wider than the window (horizontal scrolling)")

    # images
    broken = [img["src"] for img in facts["images"] if not img["ok"]]
    if broken:
        problems.append(f"{len(broken)} images did not load: {broken[:5]}")

    # navigation: every _toc page, in order, under its caption
    if facts["navLinks"] is None:
        problems.append("no navigation sidebar (nav.bd-docs-nav)")
    else:
        linked = []
        for href in facts["navLinks"]:
            path = href.split("#")[0].removeprefix(site + "/").removesuffix(".html")
            if path not in linked:
                linked.append(path)
        # (a page missing from the sources fails its own test and the build's, not every page's)
        present = [doc for doc in DOCNAMES if source_of(doc) is not None]
        if linked != present:
            problems.append(f"sidebar lists {linked}; _toc.yml has {present}")
        captions = list(dict.fromkeys(c for _, c in PAGES if c))
        if facts["navCaptions"] != captions:
            problems.append(f"sidebar captions {facts['navCaptions']}; _toc.yml has {captions}")

    # Colab
    source = source_of(docname)
    if source is not None and source.suffix == ".ipynb":
        want = expected_colab_url(docname)
        chapter = docname.rsplit("/", 1)[-1]
        if book_tool.colab_url(chapter) != want:
            problems.append(f"tools/book.py colab_url gives {book_tool.colab_url(chapter)}; expected {want}")
        if sorted(set(facts["colab"])) != [want]:
            problems.append(f"Colab button points to {sorted(set(facts['colab']))}; expected {want}")
    elif facts["colab"]:
        problems.append(f"a page with no notebook has a Colab button: {facts['colab']}")

    # widgets
    if facts["widgetViews"]:
        if not facts["widgetState"]:
            problems.append(f"{facts['widgetViews']} widget outputs but no widget state in the page: "
                            "execute the notebook with tools/book.py execute (it stores the state)")
        elif facts["widgetsDrawn"] < facts["widgetViews"]:
            problems.append(f"only {facts['widgetsDrawn']} of {facts['widgetViews']} embedded widgets drawn")
        static = [img for img in facts["images"] if img["inOutput"] and not img["inWidget"]]
        if not static:
            problems.append("a page with widgets shows no static image for readers without JavaScript")

    # the scoreboard (generated from the collected runs) opens the intro and chapter 9
    if docname.rsplit("/", 1)[-1] in SCOREBOARD_PAGES:
        missing = [row for row in ("article (reported)", "paper (reported)", "shipped model")
                   if row not in facts["text"]]
        if missing:
            problems.append(f"the scoreboard is missing from the page (no rows {missing})")
    if docname.rsplit("/", 1)[-1] in BOTTOM_LINE_PAGES:
        from iic_tutorial.runs import BOTTOM_LINE_ROWS

        text = facts["text"].replace("\u2019", "'")  # Sphinx's smart quotes: article’s
        missing = [row for row in BOTTOM_LINE_ROWS + ("all-70k", "held-out", "dev split")
                   if row not in text]
        if missing:
            problems.append(f"the bottom-line box is missing from the page (no {missing})")

    # one kernel-free view per control; live widgets only where a kernel runs
    live = [c for c in facts["controlCells"] if c["tag"].startswith("live-")]
    views = [c for c in facts["controlCells"] if c["tag"].startswith("view-")]
    shown_live = [c["tag"] for c in live if c["output"]]
    if shown_live:
        problems.append(f"live widgets shown in a page with no kernel behind them: {shown_live} "
                        "(tag their cells remove-output)")
    view_count = Counter(c["tag"].split("-", 1)[1] for c in views)
    named = notebook_controls(source) if source is not None else set()
    in_page = {c["tag"].split("-", 1)[1] for c in facts["controlCells"]}
    if in_page != named:
        problems.append(f"controls tagged in the notebook {sorted(named)}, in the page {sorted(in_page)}")
    for name in sorted(named | in_page):
        if view_count[name] != 1:
            problems.append(f"control {name!r}: {view_count[name]} kernel-free views in the page, "
                            "expected exactly one (a cell tagged view-" + name + ")")
    blank = [c["tag"] for c in views if not c["shown"]]
    if blank:
        problems.append(f"kernel-free views that show no loaded image: {blank}")
    if facts["strayControls"]:
        problems.append(f"{facts['strayControls']} widget controls outside a view-* cell: a live "
                        "widget without remove-output, or a second view of a control")
    controls = ", ".join(f"{name} ({view_count[name]} view)" for name in sorted(view_count))

    report.append(
        f"  {docname}: {seconds:.1f} s, {facts['height']} px tall, {len(facts['images'])} images, "
        f"{facts['maths']} maths, {facts['widgetsDrawn']}/{facts['widgetViews']} widgets, "
        f"{sliders} precomputed sliders, {len(facts['stderr'])} stderr blocks"
        + (f", controls: {controls}" if controls else "")
        + "".join(f"\n      stderr ({len(block)} lines): {block[0][:100] if block else ''}"
                  for block in facts["stderr"])
        + "".join(f"\n      figure shrunk {f['factor']}x to fit the column (small labels): {f['cell']}"
                  for f in facts["shrunk"])
        + ("" if not problems else f"\n      PROBLEMS: {len(problems)}"))
    if problems:
        pytest.fail(f"{docname} ({shot.relative_to(ROOT)}):\n  " + "\n  ".join(problems), pytrace=False)

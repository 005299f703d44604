"""Local copies of the JavaScript that the built book would otherwise take from CDNs.

    python tools/vendor_js.py           # fetch (npm pack) into _vendor/ unless up to date
    python tools/vendor_js.py --force   # fetch again

A default Jupyter Book 1 page loads require.js (cdnjs), the ipywidgets embedder
``@jupyter-widgets/html-manager`` (jsdelivr) and MathJax 3 (jsdelivr). Without a
network (CI, a reader offline, a copy of ``_build/html`` on a laptop) the widgets
vanish and the maths stays raw TeX. This script takes the same packages, in the
versions myst-nb and Sphinx ask for, from the npm registry (``npm pack``, which
checks each tarball's integrity) and keeps the files a page needs under
``_vendor/static/``. ``tools/book_assets.py`` (a Sphinx extension named in
``_config.yml``) then serves them from the book's own ``_static/`` folder, which
works offline and online alike. ``_vendor/`` is not committed: ``make book`` and
``make test`` run this script, which does nothing when the copies are current.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENDOR = ROOT / "_vendor"
STATIC = VENDOR / "static"  # its contents land in _build/html/_static/
MANIFEST = VENDOR / "manifest.json"

#: The page-facing files, relative to STATIC (and so to the built _static/).
REQUIREJS = "requirejs/require.js"
EMBED_AMD = "html-manager/embed-amd.js"
MATHJAX = "mathjax/tex-mml-chtml.js"


def wanted() -> dict[str, str]:
    """npm specs of the three packages, read from the CDN addresses myst-nb and Sphinx use."""
    from myst_nb.core.config import ipywidgets_js_factory
    from sphinx.ext.mathjax import MATHJAX_URL

    specs = {}
    for url in ipywidgets_js_factory():
        if m := re.search(r"/require\.js/([\d.]+)/", url):
            specs["requirejs"] = f"requirejs@{m.group(1)}"
        elif m := re.search(r"(@jupyter-widgets/html-manager)@([\w.\-]+)/", url):
            specs["html-manager"] = f"{m.group(1)}@{m.group(2)}"
    if m := re.search(r"/npm/(mathjax)@([\w.\-]+)/", MATHJAX_URL):
        specs["mathjax"] = f"{m.group(1)}@{m.group(2)}"
    missing = {"requirejs", "html-manager", "mathjax"} - set(specs)
    if missing:
        raise RuntimeError(
            f"could not read the version of {sorted(missing)} from myst-nb's ipywidgets_js "
            f"defaults / Sphinx's MATHJAX_URL; update tools/vendor_js.py for the new layout"
        )
    return specs


def _keep(package: str, rel: str) -> bool:
    """Whether file ``rel`` (inside the npm tarball's ``package/``) is needed by a page."""
    if package == "requirejs":
        return rel == "require.js"
    if package == "html-manager":
        # the AMD bundle (base, controls and output widgets) and the Font Awesome files it names
        return rel == "dist/embed-amd.js" or bool(
            re.fullmatch(r"dist/[0-9a-f]{20}\.(woff2?|ttf|eot|svg)", rel))
    if package == "mathjax":
        # the combined component Sphinx loads, plus what it loads on demand: TeX extensions
        # (autoload), the CommonHTML fonts, the menu and its accessibility tools
        return rel == "es5/tex-mml-chtml.js" or rel.startswith(
            ("es5/input/", "es5/output/chtml", "es5/a11y/", "es5/ui/", "es5/sre/"))
    raise KeyError(package)


def _target(package: str, rel: str) -> str:
    if package == "requirejs":
        return REQUIREJS
    if package == "html-manager":
        return "html-manager/" + rel.removeprefix("dist/")
    return "mathjax/" + rel.removeprefix("es5/")


def up_to_date(specs: dict[str, str] | None = None) -> bool:
    """True if _vendor/ holds exactly these packages and every file it lists."""
    if not MANIFEST.is_file():
        return False
    manifest = json.loads(MANIFEST.read_text())
    specs = wanted() if specs is None else specs
    return manifest.get("specs") == specs and all(
        (STATIC / f).is_file() for f in manifest.get("files", []))


def complete() -> bool:
    """True if the three page-facing files are present (what the Sphinx extension needs)."""
    return all((STATIC / f).is_file() for f in (REQUIREJS, EMBED_AMD, MATHJAX))


def npm_pack(spec: str, dest: Path) -> tuple[Path, str]:
    """``npm pack spec`` into ``dest``; returns the tarball and the version npm chose."""
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError(
            "npm is needed to fetch the book's JavaScript from the npm registry "
            "(Debian: apt-get install -y npm); it is not on PATH")
    out = subprocess.run([npm, "pack", spec, "--json", "--pack-destination", str(dest)],
                         capture_output=True, text=True, cwd=dest)
    if out.returncode != 0:
        raise RuntimeError(f"npm pack {spec} failed ({out.returncode}):\n{out.stderr.strip()}")
    packed = json.loads(out.stdout)[0]
    tarball = dest / packed["filename"]
    if not tarball.is_file():  # older npm wrote scoped names as @scope/name-version.tgz
        tarball = next(dest.glob("*.tgz"))
    return tarball, packed["version"]


def vendor(force: bool = False, quiet: bool = False) -> list[str]:
    """Fetch the packages and copy the needed files into _vendor/static/. Returns the files."""
    specs = wanted()
    if not force and up_to_date(specs):
        if not quiet:
            print(f"_vendor/ is up to date ({', '.join(specs.values())})")
        return json.loads(MANIFEST.read_text())["files"]
    files: list[str] = []
    versions: dict[str, str] = {}
    staging = Path(tempfile.mkdtemp(prefix="_vendor.tmp-", dir=ROOT))
    try:
        for package, spec in specs.items():
            with tempfile.TemporaryDirectory() as tmp:
                tarball, versions[package] = npm_pack(spec, Path(tmp))
                with tarfile.open(tarball) as tar:
                    for member in tar.getmembers():
                        rel = member.name.removeprefix("package/")
                        if not member.isfile() or ".." in rel.split("/") or not _keep(package, rel):
                            continue
                        target = _target(package, rel)
                        path = staging / "static" / target
                        path.parent.mkdir(parents=True, exist_ok=True)
                        with tar.extractfile(member) as src, open(path, "wb") as dst:
                            shutil.copyfileobj(src, dst)
                        files.append(target)
            if not quiet:
                print(f"vendored {spec} ({versions[package]})")
        (staging / "manifest.json").write_text(json.dumps(
            {"specs": specs, "versions": versions, "files": sorted(files)}, indent=1) + "\n")
        if VENDOR.exists():
            shutil.rmtree(VENDOR)
        staging.rename(VENDOR)
    finally:
        if staging.exists():
            shutil.rmtree(staging)
    return sorted(files)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--force", action="store_true", help="fetch even if up to date")
    args = parser.parse_args(argv)
    try:
        vendor(force=args.force)
    except RuntimeError as err:
        print(f"vendor_js: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

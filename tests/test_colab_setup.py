"""The first code cell of every chapter works on Google Colab's stack.

The setup cell (``tools/book.py setup_cell_source()``, written from ``_config.yml``
into every notebook by ``tools/book.py sync``) installs this package with ``%pip`` when
``google.colab`` is imported, then imports it and reads ``IIC_SMOKE``. Here it runs as
IPython would run it (``TransformerManager`` turns ``%pip`` into
``get_ipython().run_line_magic``) under a fake IPython that records the magic, with and
without a fake ``google.colab`` module. The package's requirements are checked against
Colab's stack as ``.ci/stacks/colab.txt`` pins it (CI installs that stack too).
"""

from __future__ import annotations

import subprocess
import sys
import types
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import book as book_tool  # noqa: E402  (tools/book.py)

def _stack(name: str) -> tuple[str, dict[str, str]]:
    """(Python version, {package: version}) of a reader's stack, ``.ci/stacks/NAME.txt``.

    The one place that says what Google Colab runs (CI installs exactly that, ``.ci/stack``).
    """
    python, packages = "", {}
    for line in (ROOT / ".ci" / "stacks" / f"{name}.txt").read_text().splitlines():
        if line.startswith("# python:"):
            python = line.split(":", 1)[1].strip()
        elif line and not line.startswith("#"):
            package, version = line.split("==")
            packages[package.strip().lower()] = version.strip()
    return python, packages


#: What Google Colab runs (the versions this book promises to work with there).
COLAB_PYTHON, COLAB_PACKAGES = _stack("colab")


def _config(path: Path = ROOT / "_config.yml") -> dict:
    return yaml.safe_load(path.read_text())


def _pyproject() -> dict:
    from conftest import read_pyproject

    return read_pyproject()


class FakeIPython:
    """Records the line magics a cell runs instead of running them."""

    def __init__(self):
        self.magics: list[tuple[str, str]] = []

    def run_line_magic(self, name: str, line: str) -> None:
        self.magics.append((name, line))


def run_setup_cell(source: str) -> tuple[FakeIPython, dict]:
    """Execute the cell as IPython would; returns the fake shell and the cell's namespace."""
    from IPython.core.inputtransformer2 import TransformerManager

    code = TransformerManager().transform_cell(source)
    shell = FakeIPython()
    namespace = {"get_ipython": lambda: shell, "__name__": "__main__"}
    exec(compile(code, "<setup cell>", "exec"), namespace)  # noqa: S102 - the cell under test
    return shell, namespace


@pytest.fixture
def in_colab(monkeypatch):
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))


@pytest.fixture
def not_in_colab(monkeypatch):
    monkeypatch.delitem(sys.modules, "google.colab", raising=False)


def expected_pip_line(config_path: Path = ROOT / "_config.yml") -> str:
    repo = _config(config_path)["repository"]
    name = _pyproject()["project"]["name"]
    return f'install -q "{name} @ git+{repo["url"].rstrip("/")}@{repo["branch"]}"'


# ----------------------------------------------------------------- the cell itself


def test_in_colab_the_cell_pip_installs_the_package_from_the_repository(in_colab, monkeypatch):
    monkeypatch.delenv("IIC_SMOKE", raising=False)
    shell, _ = run_setup_cell(book_tool.setup_cell_source())
    assert shell.magics == [("pip", expected_pip_line())]
    requirement = Requirement(shell.magics[0][1].split('"')[1])
    assert requirement.name == _pyproject()["project"]["name"]
    assert requirement.url == f"git+{book_tool.repository()[0]}@{book_tool.repository()[1]}"
    assert not {"-e", "--editable"} & set(shell.magics[0][1].split()), "Colab needs a normal install"


def test_outside_colab_the_cell_installs_nothing(not_in_colab):
    shell, namespace = run_setup_cell(book_tool.setup_cell_source())
    assert shell.magics == []
    import iic_tutorial

    assert namespace["iic"] is iic_tutorial


@pytest.mark.parametrize("value, smoke", [("1", True), ("0", False), (None, False)])
def test_the_cell_imports_the_package_and_reads_IIC_SMOKE(value, smoke, not_in_colab, monkeypatch):
    if value is None:
        monkeypatch.delenv("IIC_SMOKE", raising=False)
    else:
        monkeypatch.setenv("IIC_SMOKE", value)
    _, namespace = run_setup_cell(book_tool.setup_cell_source())
    assert namespace["SMOKE"] is smoke
    assert namespace["iic"].__name__ == "iic_tutorial"
    assert {"os", "sys"} <= set(namespace)


def test_every_notebook_has_the_current_setup_cell():
    out = subprocess.run([sys.executable, str(ROOT / "tools" / "book.py"), "check"],
                         capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stdout + out.stderr


# ----------------------------------------------------------------- one place for the URL


def test_the_repository_url_lives_in_config_only(tmp_path):
    config = _config()
    config["repository"]["url"] = "https://github.com/someone-else/a-fork"
    config["repository"]["branch"] = "draft"
    other = tmp_path / "_config.yml"
    other.write_text(yaml.safe_dump(config))

    line = 'install -q "iic-tutorial @ git+https://github.com/someone-else/a-fork@draft"'
    assert line in book_tool.setup_cell_source(other)
    assert line == expected_pip_line(other)
    assert book_tool.colab_url("01_entropy", other) == (
        "https://colab.research.google.com/github/someone-else/a-fork/blob/draft/book/01_entropy.ipynb")
    # and the committed configuration names neither
    assert "someone-else" not in book_tool.setup_cell_source()
    assert "someone-else" not in book_tool.colab_url("01_entropy")


def test_colab_url_is_the_one_the_book_button_builds():
    url, branch, root = book_tool.repository()
    owner_repo = url.removeprefix("https://github.com/")
    path = "/".join(p for p in (root, "book/01_entropy.ipynb") if p)
    assert book_tool.colab_url("01_entropy") == (
        f"https://colab.research.google.com/github/{owner_repo}/blob/{branch}/{path}")
    assert _config()["launch_buttons"]["colab_url"] == "https://colab.research.google.com"


def test_a_bad_repository_url_is_refused(tmp_path):
    config = _config()
    config["repository"]["url"] = "git@github.com:iic-tutorial/iic-tutorial.git"
    other = tmp_path / "_config.yml"
    other.write_text(yaml.safe_dump(config))
    with pytest.raises(ValueError, match="https://github.com/OWNER/REPO"):
        book_tool.setup_cell_source(other)


# ----------------------------------------------------------------- Colab's stack


def test_requires_python_admits_colab():
    spec = SpecifierSet(_pyproject()["project"]["requires-python"])
    assert spec.contains(COLAB_PYTHON + ".0"), f"requires-python {spec} excludes Colab's Python {COLAB_PYTHON}"


def test_dependencies_are_lower_bounds_that_admit_colab_versions():
    deps = [Requirement(d) for d in _pyproject()["project"]["dependencies"]]
    names = {d.name.lower() for d in deps}
    for dep in deps:
        assert all(s.operator == ">=" for s in dep.specifier), (
            f"{dep}: only lower bounds (>=), so pip keeps Colab's preinstalled versions")
        if dep.marker is not None:
            assert dep.marker.evaluate({"python_version": COLAB_PYTHON}), f"{dep} skipped on Colab"
        version = COLAB_PACKAGES.get(dep.name.lower())
        if version is not None:
            assert dep.specifier.contains(version), f"{dep} excludes Colab's {dep.name} {version}"
    assert {"tensorflow", "ipywidgets"} <= names, "tensorflow and ipywidgets must be declared"
    assert not names & {"tensorflow-cpu", "tensorflow-intel", "tf-nightly"}, (
        "a second TensorFlow distribution would be installed next to Colab's")



def test_the_floor_stack_is_what_pyproject_admits_at_its_lowest():
    """.ci/stacks/floor.txt pins each declared dependency at a version its bound admits."""
    python, floor = _stack("floor")
    assert SpecifierSet(_pyproject()["project"]["requires-python"]).contains(python + ".0")
    for dep in (Requirement(d) for d in _pyproject()["project"]["dependencies"]):
        assert dep.name.lower() in floor, f"{dep.name} has no floor in .ci/stacks/floor.txt"
        assert dep.specifier.contains(floor[dep.name.lower()]), f"{dep} excludes its floor"

"""No module of the package grows past what a reader takes in at once: at most 600 lines.

A module that needs more holds more than one concept; split it by topic into a package whose
``__init__`` re-exports its names (as ``plots``, ``runs`` and ``widgets`` do).
"""

from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "iic_tutorial"
MAX_LINES = 600


def test_no_module_is_over_600_lines():
    sizes = {str(p.relative_to(PACKAGE)): len(p.read_text().splitlines()) for p in PACKAGE.rglob("*.py")}
    assert len(sizes) > 20
    too_long = {name: n for name, n in sizes.items() if n > MAX_LINES}
    assert not too_long, f"split these modules by topic (at most {MAX_LINES} lines each): {too_long}"

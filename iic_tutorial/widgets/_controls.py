"""Small pieces every widget uses: an image from PNG bytes or a Figure, a selection
slider that shows its label, the box that carries the controls.
"""

from __future__ import annotations

import ipywidgets as widgets
from matplotlib.figure import Figure

from .. import plots

__all__: list[str] = []


_WIDE = {"description_width": "initial"}


def _png(frame) -> bytes:
    """PNG bytes from PNG bytes or a matplotlib Figure (which is then closed)."""
    if isinstance(frame, (bytes, bytearray)):
        return bytes(frame)
    if isinstance(frame, Figure):
        return plots.figure_to_png(frame, close=True)
    raise ValueError(
        f"a frame must be PNG bytes or a matplotlib Figure; got {type(frame).__name__}. "
        "Render data first (e.g. pass render= to results_alpha_widget)"
    )


def _image(png: bytes, width: int | None = None) -> widgets.Image:
    kwargs = {"width": width} if width else {}
    return widgets.Image(value=png, format="png", **kwargs)


def _selection_slider(
    options: list[tuple[str, object]], value, **kwargs
) -> widgets.SelectionSlider:
    """A SelectionSlider over (label, value) options, then set to ``value``.

    The value is set after construction: ipywidgets 8.1 leaves ``label``
    empty when ``value`` is passed to the constructor.
    """
    slider = widgets.SelectionSlider(options=options, **kwargs)
    slider.value = value
    return slider


def _box(children, controls: dict, image: widgets.Image, readout: widgets.HTML) -> widgets.VBox:
    box = widgets.VBox(children)
    box.controls = controls
    box.image = image
    box.readout = readout
    return box

"""Views that need no kernel: images rendered in advance behind a slider linked in the
browser, and a few settings side by side for readers without JavaScript.
"""

from __future__ import annotations

import base64
import html
from pathlib import Path
from collections.abc import Callable, Mapping, Sequence

import ipywidgets as widgets
from matplotlib.figure import Figure

from .. import plots
from ._controls import _WIDE, _image, _png, _selection_slider

__all__ = [
    "render_frames", "precomputed_slider", "results_alpha_widget", "static_panel",
    "static_html", "embed_html"
]


def render_frames(
    render: Callable[[object], Figure], values: Sequence, fmt: str = "{}"
) -> dict[str, bytes]:
    """``{fmt.format(v): PNG of render(v)}`` for each value, in order.

    E.g. ``render_frames(lambda T: entropy_figure(10, T), [0.1, 1, 10],
    "T = {:g}")`` gives the frames of :func:`precomputed_slider` and
    :func:`static_panel`.
    """
    return {fmt.format(v): _png(render(v)) for v in values}


def precomputed_slider(
    frames: Mapping[object, bytes | Figure],
    description: str = "",
    width: int | None = None,
) -> widgets.VBox:
    """A SelectionSlider that flips between images rendered in advance, with no kernel.

    ``frames``: ``{label: PNG bytes or Figure}`` in slider order. Each frame
    becomes an ``ipywidgets.Image`` inside a ``Tab`` (tab titles = labels).
    The slider's ``index`` is tied to the tab's ``selected_index`` twice:

    * ``widgets.jslink`` in the browser. Both traits are synced integers in
      ipywidgets 7.7.1 and 8.x, so a page that embeds the widget state (a
      static book) switches images with no kernel. ``Tab`` is used rather
      than ``Stack`` because ``Stack`` exists only in 8.x; its tab bar is a
      second way to pick a frame.
    * a Python ``observe`` callback, so setting ``slider.value`` from code
      (or in a test, where no browser runs the link) selects the image too.

    Returns a VBox([slider, tab]) with ``.slider``, ``.tab``, ``.images``
    (list of Image) and ``.link`` (the jslink).
    """
    if not frames:
        raise ValueError("frames is empty; pass {label: PNG bytes or Figure}")
    labels = [str(label) for label in frames]
    if len(set(labels)) != len(labels):
        raise ValueError(f"frame labels must be distinct as strings; got {labels}")
    images = [_image(_png(frame), width) for frame in frames.values()]
    tab = widgets.Tab(children=images)
    for i, label in enumerate(labels):
        tab.set_title(i, label)
    tab.selected_index = 0
    slider = _selection_slider([(label, i) for i, label in enumerate(labels)], 0,
                               description=description, continuous_update=True, style=_WIDE)
    link = widgets.jslink((slider, "index"), (tab, "selected_index"))

    def slider_to_tab(change) -> None:
        if change["new"] is not None:
            tab.selected_index = change["new"]

    def tab_to_slider(change) -> None:
        if change["new"] is not None and change["new"] != slider.index:
            slider.index = change["new"]

    slider.observe(slider_to_tab, names="index")
    tab.observe(tab_to_slider, names="selected_index")
    box = widgets.VBox([slider, tab])
    box.slider, box.tab, box.images, box.link = slider, tab, images, link
    return box


def results_alpha_widget(
    results: Mapping[float, object],
    render: Callable[[object], Figure] | None = None,
    description: str = "alpha",
    fmt: str = "{:g}",
) -> widgets.VBox:
    """A slider over stored experiment outcomes, one per alpha, that needs no kernel.

    ``results``: ``{alpha: Figure, PNG bytes, or data}``; with ``render``
    each value is first drawn as ``render(value) -> Figure`` (e.g. the
    confusion matrix of the run at that alpha). Frames are sorted by alpha
    and labelled ``fmt.format(alpha)``. Returns :func:`precomputed_slider`'s box.
    """
    if not results:
        raise ValueError("results is empty; pass {alpha: figure, PNG or data}")
    frames = {}
    for alpha in sorted(results, key=float):
        value = results[alpha]
        frames[fmt.format(alpha)] = _png(render(value) if render is not None else value)
    return precomputed_slider(frames, description=description)


def static_panel(frames: Mapping[object, object], ncols: int | None = None,
                 panel_size: tuple[float, float] | None = None,
                 max_width: float | None = plots.MAX_WIDTH) -> Figure:
    """One matplotlib figure with every frame side by side, labelled.

    ``frames``: ``{label: PNG bytes, Figure or draw(ax) function}``, e.g.
    from :func:`render_frames`. Each label is written above its frame unless
    the frame's own title already shows it (a frame titled
    "T = 0.1\\nH = ..." is not labelled "T = 0.1" again). ``ncols`` panels per
    row (default: one row if it fits in ``max_width`` inches, else as many as
    fit); ``panel_size`` (inches) defaults to the natural size of the images.
    See :func:`iic_tutorial.plots.side_by_side`. This is the view of a
    widget for readers with no kernel and no JavaScript. Returns the Figure.
    """
    if not frames:
        raise ValueError("frames is empty; pass {label: PNG bytes, Figure or draw(ax)}")
    return plots.side_by_side(list(frames.values()), titles=[str(k) for k in frames],
                              ncols=ncols, panel_size=panel_size, max_width=max_width)


def static_html(frames: Mapping[object, bytes | Figure], ncols: int = 3, width: int = 300) -> str:
    """An HTML table of the frames as inline PNG images (``width`` pixels), labels as captions.

    Display it with ``IPython.display.HTML(static_html(frames))``; it needs
    neither a kernel nor JavaScript and keeps each image at full resolution.
    """
    if not frames:
        raise ValueError("frames is empty; pass {label: PNG bytes or Figure}")
    if ncols < 1:
        raise ValueError(f"ncols must be >= 1; got {ncols}")
    cells = []
    for label, frame in frames.items():
        data = base64.b64encode(_png(frame)).decode("ascii")
        cells.append(f'<td style="text-align:center"><img src="data:image/png;base64,{data}" '
                     f'width="{width}"/><br/>{html.escape(str(label))}</td>')
    rows = ["<tr>" + "".join(cells[i:i + ncols]) + "</tr>" for i in range(0, len(cells), ncols)]
    return "<table>" + "".join(rows) + "</table>"


def embed_html(box: widgets.Widget, path: str | Path, title: str = "iic-tutorial widget") -> Path:
    """Write ``box`` as a standalone HTML page with its widget state embedded.

    The state includes the ``jslink`` of a :func:`precomputed_slider` box
    (``box.link``), which nothing else references, so the page flips images
    with no kernel. (Jupyter's "Save widget state" stores every model and
    needs no such help.) The page loads the widget JavaScript from a CDN.
    Returns the path.
    """
    from ipywidgets.embed import dependency_state, embed_minimal_html

    path = Path(path)
    extra = [box.link] if isinstance(getattr(box, "link", None), widgets.Widget) else []
    embed_minimal_html(str(path), views=[box], title=title, state=dependency_state([box, *extra]))
    return path

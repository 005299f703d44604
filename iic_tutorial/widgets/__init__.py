"""ipywidgets controls for the book, with the logic in plain, testable functions.

Two modules: :mod:`.live` holds the widgets a kernel redraws (entropy, augmentations,
the toy alpha problem) and :mod:`.static` the views that need no kernel; every name is
importable from here.

Every widget is built from core controls that exist, with the same names and
traits, in ipywidgets 7.7.1 (Google Colab) and 8.x: ``FloatSlider``,
``FloatLogSlider``, ``FloatRangeSlider``, ``SelectionSlider``, ``Dropdown``,
``Button``, ``HTML``, ``Image``, ``Tab``, ``VBox``/``HBox`` and ``jslink``.
(``widgets.Stack`` is 8-only and is not used.)

What a control computes lives in a plain function that tests call without a
browser: :func:`peaked_distribution`, :func:`config_from_sliders`,
:func:`toy_result`, and the ``*_figure`` functions that draw one setting.
A widget shows its figure as PNG bytes in an ``ipywidgets.Image`` and its
numbers in an ``HTML`` readout; a Python ``observe`` callback redraws them
when a control changes. The returned box carries ``.controls`` (name ->
control), ``.image`` and ``.readout``, so ``w.controls["alpha"].value = 2.0``
works in a notebook and in a test.

Without a kernel (a static page of the built book) a Python callback cannot
run. Two kinds of fallback need none:

* :func:`precomputed_slider` switches between images rendered in advance,
  linked in the browser with ``jslink`` (works wherever the page embeds the
  widget state, e.g. a Jupyter Book built from a notebook saved with
  "Save widget state");
* :func:`static_panel` (a matplotlib figure) and :func:`static_html` put a few
  settings side by side, for readers without JavaScript.

The book shows each control once per reader. The cell of a live widget is
tagged ``remove-output`` and ``live-NAME``: Jupyter Book drops its output, so
the web page has no slider that moves without redrawing anything, while Colab
and Jupyter, which ignore the tag, run the cell and show the live widget. The
one kernel-free view of that control is the cell tagged ``view-NAME``: a
:func:`static_panel` figure where a live widget exists (a second, precomputed
slider beside the live one would leave a Colab reader with two sliders for one
thing), a :func:`precomputed_slider` where no live widget exists and the
precomputed slider is the control itself. The tests check the tags in the
notebooks and the views in the built page.
"""

from .live import (SIZE_PRESETS, SLIDER_RANGES, alpha_widget, augmentation_figure, augmentation_widget,
                   config_from_sliders, entropy_figure, entropy_widget, peaked_distribution, toy_figure,
                   toy_result)
from .static import embed_html, precomputed_slider, render_frames, results_alpha_widget, static_html, static_panel

__all__ = [
    "peaked_distribution",
    "entropy_figure",
    "entropy_widget",
    "SLIDER_RANGES",
    "config_from_sliders",
    "augmentation_figure",
    "augmentation_widget",
    "toy_result",
    "toy_figure",
    "alpha_widget",
    "render_frames",
    "precomputed_slider",
    "results_alpha_widget",
    "static_panel",
    "static_html",
    "embed_html",
    "SIZE_PRESETS",
]

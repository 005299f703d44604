"""The live widgets, redrawn by Python as a control moves: entropy against temperature
(chapter 1), the augmentations (chapter 5), alpha on the toy problem (chapter 6). Each
control's logic is a plain function that tests call without a browser.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence

import ipywidgets as widgets
import numpy as np
from matplotlib.figure import Figure

from .. import plots
from ..augment import AugmentConfig, slider_ranges
from ..information import entropy
from ._controls import _WIDE, _box, _image, _selection_slider

__all__ = [
    "peaked_distribution", "entropy_figure", "entropy_widget", "SLIDER_RANGES",
    "config_from_sliders", "augmentation_figure", "augmentation_widget", "toy_result",
    "toy_figure", "alpha_widget"
]


def peaked_distribution(k: int, temperature: float) -> np.ndarray:
    """p_i = exp(-i / T) / sum_m exp(-m / T) for i = 0..k-1: a softmax at temperature T.

    High T flattens p toward uniform (``temperature=np.inf`` is exactly
    uniform, H = ln k); low T concentrates it on outcome 0 (T -> 0 is one-hot,
    H = 0). The entropy H(p) grows monotonically with T. Returns shape (k,),
    float64, summing to 1.
    """
    if not isinstance(k, (int, np.integer)) or k < 2:
        raise ValueError(f"k must be an integer >= 2 (number of outcomes); got {k!r}")
    if not temperature > 0:  # also rejects NaN
        raise ValueError(
            f"temperature must be > 0 (np.inf gives the uniform distribution); got {temperature}"
        )
    if math.isinf(temperature):
        return np.full(k, 1.0 / k)
    logits = -np.arange(k, dtype=np.float64) / temperature
    p = np.exp(logits - logits.max())
    return p / p.sum()


def entropy_figure(k: int, temperature: float) -> Figure:
    """Bar plot of :func:`peaked_distribution` (k, temperature) with H in the title."""
    return plots.plot_distribution(peaked_distribution(k, temperature),
                                   title=f"T = {temperature:.3g}")


def _entropy_readout(k: int, temperature: float) -> str:
    H = entropy(peaked_distribution(k, temperature))
    return (f"<b>H = {H:.3f} nats</b> &nbsp; (uniform: ln {k} = {math.log(k):.3f}; "
            f"one-hot: 0)")


def entropy_widget(k: int = 10, temperature: float = 1.0) -> widgets.VBox:
    """A temperature slider (log scale, 0.03-100) that reshapes a k-outcome distribution.

    Shows the bar plot of :func:`peaked_distribution` and its entropy H in
    nats. Returns a VBox with ``.controls["temperature"]``, ``.image``
    (PNG of the plot) and ``.readout`` (HTML with H).
    """
    peaked_distribution(k, temperature)  # validate early
    slider = widgets.FloatLogSlider(value=temperature, base=10, min=-1.5, max=2, step=0.05,
                                    description="temperature T", continuous_update=False,
                                    style=_WIDE, readout_format=".3g")
    image = _image(plots.figure_to_png(entropy_figure(k, temperature), close=True))
    readout = widgets.HTML(_entropy_readout(k, temperature))

    def update(change=None) -> None:
        T = slider.value
        image.value = plots.figure_to_png(entropy_figure(k, T), close=True)
        readout.value = _entropy_readout(k, T)

    slider.observe(update, names="value")
    return _box([slider, readout, image], {"temperature": slider}, image, readout)


#: Slider range (min, max, step) and label of each AugmentConfig knob that has a slider
#: (its ``slider=``; :func:`iic_tutorial.augment.slider_ranges`).
SLIDER_RANGES: dict[str, tuple[float, float, float, str]] = slider_ranges(AugmentConfig)


def _check_slider_value(ranges: Mapping, name: str, value) -> None:
    lo, hi, _, label = ranges[name]
    pair = isinstance(value, (tuple, list))
    values = tuple(value) if pair else (value,)
    if pair and (len(values) != 2 or values[0] > values[1]):
        raise ValueError(
            f"{name} ({label}) must be a pair (low, high) with low <= high; got {value!r}"
        )
    for v in values:
        if not (isinstance(v, (int, float, np.floating, np.integer)) and lo <= v <= hi):
            raise ValueError(
                f"{name} ({label}) must lie in [{lo:g}, {hi:g}], the slider's range; got {value!r}"
            )


def config_from_sliders(base: AugmentConfig | None = None, **values) -> AugmentConfig:
    """The AugmentConfig that slider values describe; unnamed fields come from ``base``.

    ``values``: knob names (the keys of :data:`SLIDER_RANGES`, or of
    ``slider_ranges(type(base))``) -> slider values, e.g.
    ``config_from_sliders(max_degrees=30, noise_p=0.5)``; ``scale`` is a
    (low, high) pair. ``base`` defaults to ``AugmentConfig.article()``. A
    value outside its slider range or an unknown name raises ValueError.
    """
    base = AugmentConfig.article() if base is None else base
    ranges = slider_ranges(type(base))
    unknown = sorted(set(values) - set(ranges))
    if unknown:
        raise ValueError(f"unknown slider(s) {unknown}; choose from {sorted(ranges)}")
    for name, value in values.items():
        _check_slider_value(ranges, name, value)
    fields = {name: (tuple(float(v) for v in value) if isinstance(value, (tuple, list))
                     else float(value))
              for name, value in values.items()}
    return dataclasses.replace(base, **fields)


def augmentation_figure(x, config: AugmentConfig, seed: int = 0, n_views: int = 2) -> Figure:
    """The digits x (first row) and ``n_views`` augmented views of them (rows below).

    View v is ``iic_tutorial.augment.compose(x, config, seed + v)``, so two
    views are an (x', x'') pair. ``x``: (n, 28, 28[, 1]), uint8 or float.
    (:func:`iic_tutorial.plots.plot_augmentations` with ``views=n_views``.)
    """
    return plots.plot_augmentations(x, {"view": config}, seed, n=len(x), views=n_views)


def augmentation_widget(
    x, base: AugmentConfig | None = None, n: int = 10, seed: int = 0
) -> widgets.VBox:
    """One slider per augmentation strength, previewing two views of n digits.

    ``x``: digits (m, 28, 28[, 1]); the first ``n`` are shown. Sliders start
    at ``base`` (default ``AugmentConfig.article()``) and cover every knob of
    its class that has a slider (:data:`SLIDER_RANGES` for AugmentConfig);
    "new views" draws fresh random transforms. ``.controls`` maps knob names
    (and "resample") to controls; :func:`config_from_sliders` turns their
    values into the config shown, which is also kept in ``box.config``. A
    range slider (the zoom) shows its value in an HTML label of its own,
    ``box.scale_readout`` for the zoom (the slider's built-in readout of a
    range is wider than its box).
    """
    base = AugmentConfig.article() if base is None else base
    ranges = slider_ranges(type(base))
    images = np.asarray(x)[:n]
    controls: dict = {}
    range_readouts: dict = {}
    for name, (lo, hi, step, label) in ranges.items():
        value = getattr(base, name)
        _check_slider_value(ranges, name, value)  # a base outside the sliders' range is an error
        if isinstance(value, tuple):
            # the built-in readout of a range ("0.90 - 1.10") is wider than its box
            controls[name] = widgets.FloatRangeSlider(
                value=value, min=lo, max=hi, step=step, description=label,
                continuous_update=False, readout=False, style=_WIDE,
                layout=widgets.Layout(width="210px"))
            range_readouts[name] = widgets.HTML(_range_text(value),
                                                layout=widgets.Layout(width="90px"))
        else:
            controls[name] = widgets.FloatSlider(value=value, min=lo, max=hi, step=step,
                                                 description=label, continuous_update=False,
                                                 style=_WIDE)
    resample = widgets.Button(description="new views")
    state = {"seed": seed}
    image = _image(plots.figure_to_png(augmentation_figure(images, base, seed), close=True))
    readout = widgets.HTML()

    def current() -> AugmentConfig:
        return config_from_sliders(base, **{name: controls[name].value for name in ranges})

    def update(change=None) -> None:
        config = current()
        box.config = config
        for name, text in range_readouts.items():
            text.value = _range_text(getattr(config, name))
        image.value = plots.figure_to_png(augmentation_figure(images, config, state["seed"]),
                                          close=True)
        readout.value = f"<code>seed {state['seed']}</code>"

    def new_views(button=None) -> None:
        state["seed"] += 2
        update()

    sliders = [widgets.HBox([control, range_readouts[name]]) if name in range_readouts else control
               for name, control in controls.items()]
    half = (len(sliders) + 1) // 2
    columns = widgets.HBox([widgets.VBox(sliders[:half]), widgets.VBox(sliders[half:])])
    for control in controls.values():
        control.observe(update, names="value")
    resample.on_click(new_views)
    controls["resample"] = resample
    box = _box([columns, widgets.HBox([resample, readout]), image], controls, image, readout)
    box.config = base
    box.scale_readout = range_readouts.get("scale")
    readout.value = f"<code>seed {seed}</code>"
    return box


def _range_text(pair) -> str:
    """The readout of a (low, high) range slider, e.g. "0.90 – 1.10", on one line."""
    return f'<span style="white-space: nowrap">{pair[0]:.2f} &ndash; {pair[1]:.2f}</span>'


#: Blob-size presets offered by :func:`alpha_widget`.
SIZE_PRESETS: dict[str, tuple[float, ...]] = {
    "unequal (0.60, 0.25, 0.15)": (0.6, 0.25, 0.15),
    "balanced (1/3 each)": (1 / 3, 1 / 3, 1 / 3),
}


_TOY_CACHE: dict = {}


def toy_result(alpha: float, sizes=(0.6, 0.25, 0.15), seed: int = 0, steps: int = 400,
               cache: dict | None = None):
    """:func:`iic_tutorial.toy.train_toy` (alpha, sizes, seed, steps), memoised in ``cache``.

    ``cache`` defaults to a module-level dict, so moving a slider back to a
    setting already seen costs nothing. Returns the ToyResult.
    """
    from ..toy import train_toy

    cache = _TOY_CACHE if cache is None else cache
    key = (float(alpha), tuple(round(float(s), 6) for s in sizes), int(seed), int(steps))
    if key not in cache:
        cache[key] = train_toy(float(alpha), steps=steps, seed=seed, sizes=sizes)
    return cache[key]


def toy_figure(result) -> Figure:
    """:func:`iic_tutorial.toy.plot_toy` of a ToyResult."""
    from ..toy import plot_toy

    return plot_toy(result)


def _toy_readout(result) -> str:
    marginals = ", ".join(f"{p:.2f}" for p in result.P_i)
    return (f"P_i = ({marginals}) &nbsp; I(Z; Z') = {result.I:.3f} &nbsp; "
            f"H(Z) = {result.H_Z:.3f} of ln {result.k} = {math.log(result.k):.3f} nats &nbsp; "
            f"accuracy {100 * result.accuracy:.0f} %")


def alpha_widget(
    alphas: Sequence[float] = (1.0, 1.25, 1.5, 2.0, 3.0, 4.0),
    sizes: str = "unequal (0.60, 0.25, 0.15)",
    seed: int = 0,
    steps: int = 400,
    cache: dict | None = None,
) -> widgets.VBox:
    """A slider over alpha and a blob-size menu; trains the 2-D toy IIC problem live.

    Each setting runs :func:`toy_result` (about 0.2 s, then cached) and
    shows the decision regions, P_i and the numbers I, H(Z), accuracy.
    ``sizes`` is a key of :data:`SIZE_PRESETS`. ``.controls`` holds
    "alpha" (a SelectionSlider over ``alphas``) and "sizes" (a Dropdown);
    ``box.result`` is the ToyResult shown.
    """
    if not alphas:
        raise ValueError("alphas is empty; pass the alpha values the slider offers")
    if sizes not in SIZE_PRESETS:
        raise ValueError(f"sizes must be one of {list(SIZE_PRESETS)}; got {sizes!r}")
    alpha_slider = _selection_slider([(f"{a:g}", float(a)) for a in alphas], float(alphas[0]),
                                     description="alpha", continuous_update=False)
    sizes_menu = widgets.Dropdown(options=list(SIZE_PRESETS), value=sizes, description="blob sizes",
                                  style=_WIDE)
    result = toy_result(alphas[0], SIZE_PRESETS[sizes], seed, steps, cache)
    image = _image(plots.figure_to_png(toy_figure(result), close=True))
    readout = widgets.HTML(_toy_readout(result))

    def update(change=None) -> None:
        res = toy_result(alpha_slider.value, SIZE_PRESETS[sizes_menu.value], seed, steps, cache)
        box.result = res
        image.value = plots.figure_to_png(toy_figure(res), close=True)
        readout.value = _toy_readout(res)

    alpha_slider.observe(update, names="value")
    sizes_menu.observe(update, names="value")
    box = _box([widgets.HBox([alpha_slider, sizes_menu]), readout, image],
               {"alpha": alpha_slider, "sizes": sizes_menu}, image, readout)
    box.result = result
    return box

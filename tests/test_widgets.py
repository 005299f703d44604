"""Tests for iic_tutorial.widgets: the logic behind each control, and the controls themselves.

No browser runs here: a control is changed by setting ``.value`` in Python,
which fires the same ``observe`` callbacks a kernel would.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import json
import math
import pkgutil
import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import ipywidgets  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from iic_tutorial import plots, widgets  # noqa: E402
from iic_tutorial.augment import AugmentConfig  # noqa: E402
from iic_tutorial.information import entropy  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _png(value: float) -> bytes:
    fig, ax = plt.subplots(figsize=(1, 1))
    ax.plot([0, value])
    return plots.figure_to_png(fig, dpi=30, close=True)


# ----------------------------------------------------------------- entropy


def test_peaked_distribution_is_a_distribution_with_monotone_entropy():
    k = 10
    temperatures = [0.05, 0.1, 0.3, 1.0, 3.0, 10.0, 100.0, np.inf]
    H = []
    for T in temperatures:
        p = widgets.peaked_distribution(k, T)
        assert p.shape == (k,)
        assert p.sum() == pytest.approx(1.0)
        assert np.all(p >= 0) and np.all(np.diff(p) <= 0)  # outcome 0 is the peak
        H.append(entropy(p))
    assert np.all(np.diff(H) > 0)  # lower temperature, lower entropy
    assert H[-1] == pytest.approx(math.log(k), abs=1e-12)  # uniform end
    assert H[0] < 0.01  # nearly one-hot
    assert H[-2] == pytest.approx(math.log(k), abs=0.01)  # the slider's top is near-uniform


@pytest.mark.parametrize("k, T", [(1, 1.0), (2.5, 1.0), (10, 0.0), (10, -1.0), (10, float("nan"))])
def test_peaked_distribution_rejects_bad_arguments(k, T):
    with pytest.raises(ValueError):
        widgets.peaked_distribution(k, T)


def test_entropy_widget_updates_image_and_readout():
    w = widgets.entropy_widget(k=6, temperature=1.0)
    slider = w.controls["temperature"]
    assert isinstance(slider, ipywidgets.FloatLogSlider)
    assert w.children[0] is slider and w.image in w.children and w.readout in w.children
    before = w.image.value
    assert before[:4] == b"\x89PNG"
    slider.value = 10.0
    assert w.image.value != before
    H = entropy(widgets.peaked_distribution(6, slider.value))
    assert f"H = {H:.3f} nats" in w.readout.value


# ----------------------------------------------------------------- augmentations


def test_config_from_sliders_maps_fields():
    cfg = widgets.config_from_sliders(max_degrees=30, noise_p=0.25, scale=(0.8, 1.2), shift=4)
    assert isinstance(cfg, AugmentConfig)
    assert cfg.max_degrees == 30.0 and cfg.noise_p == 0.25
    assert cfg.scale == (0.8, 1.2) and cfg.shift == 4.0
    article = AugmentConfig.article()
    assert cfg.binarize_p == article.binarize_p and cfg.rotate_p == article.rotate_p  # from base
    none = widgets.config_from_sliders(base=AugmentConfig.none(), binarize_p=1.0)
    assert none == dataclasses.replace(AugmentConfig.none(), binarize_p=1.0)
    # every knob of AugmentConfig has its slider, the band's too
    assert set(widgets.SLIDER_RANGES) == set(AugmentConfig.__dataclass_fields__)
    banded = widgets.config_from_sliders(band_p=0.5, band_height=8)
    assert banded.band_p == 0.5 and banded.band_height == 8.0


@pytest.mark.parametrize("values, match", [
    ({"max_degrees": 120}, r"max_degrees .* \[0, 90\]"),
    ({"noise_p": -0.1}, "noise_p"),
    ({"scale": (1.2, 0.9)}, "low <= high"),
    ({"scale": (0.2, 1.0)}, "scale"),
    ({"rotation": 10}, "unknown slider"),
])
def test_config_from_sliders_rejects_out_of_range(values, match):
    with pytest.raises(ValueError, match=match):
        widgets.config_from_sliders(**values)


def _digits(n=4):
    x = np.zeros((n, 28, 28), np.uint8)
    for i in range(n):
        x[i, 8 + i:12 + i, 6:22] = 255
    return x


def test_augmentation_widget_controls_and_update():
    w = widgets.augmentation_widget(_digits(), base=AugmentConfig.none(), n=3)
    assert set(w.controls) == set(widgets.SLIDER_RANGES) | {"resample"}
    assert isinstance(w.controls["scale"], ipywidgets.FloatRangeSlider)
    assert w.controls["max_degrees"].value == 0.0  # starts at base
    assert w.config == AugmentConfig.none()
    before = w.image.value
    w.controls["max_degrees"].value = 45.0
    assert w.config.max_degrees == 45.0 and w.image.value != before
    after_rotation = w.image.value
    w.controls["resample"].click()  # new random views
    assert "seed 2" in w.readout.value and w.image.value != after_rotation
    # the zoom range shows its value in a label of its own, kept up to date
    assert not w.controls["scale"].readout
    assert "1.00 &ndash; 1.00" in w.scale_readout.value
    w.controls["scale"].value = (0.9, 1.25)
    assert "0.90 &ndash; 1.25" in w.scale_readout.value and w.config.scale == (0.9, 1.25)


def test_augmentation_figure_rows():
    x = _digits(3)
    fig = widgets.augmentation_figure(x, AugmentConfig.none(), seed=0, n_views=2)
    assert len(fig.axes) == 9
    # identity config: both views equal the originals
    for ax, i in zip(fig.axes, [0, 1, 2] * 3):
        np.testing.assert_allclose(ax.get_images()[0].get_array(), x[i] / 255.0, atol=1e-6)


# ----------------------------------------------------------------- toy alpha


def test_alpha_widget_trains_and_caches():
    cache: dict = {}
    w = widgets.alpha_widget(alphas=(1.0, 3.0), steps=150, cache=cache)
    assert isinstance(w.controls["alpha"], ipywidgets.SelectionSlider)
    assert w.controls["alpha"].label == "1"
    assert w.result.alpha == 1.0 and len(cache) == 1
    before = w.image.value
    w.controls["alpha"].value = 3.0
    assert w.result.alpha == 3.0 and len(cache) == 2 and w.image.value != before
    assert f"H(Z) = {w.result.H_Z:.3f}" in w.readout.value
    w.controls["sizes"].value = "balanced (1/3 each)"
    assert w.result.sizes == pytest.approx((1 / 3,) * 3) and len(cache) == 3
    w.controls["sizes"].value = "unequal (0.60, 0.25, 0.15)"
    assert len(cache) == 3  # served from the cache
    assert widgets.toy_result(3.0, (0.6, 0.25, 0.15), 0, 150, cache) is w.result
    with pytest.raises(ValueError, match="sizes must be one of"):
        widgets.alpha_widget(sizes="huge")


# ----------------------------------------------------------------- precomputed frames


def test_precomputed_slider_switches_images_both_ways():
    frames = {f"alpha = {a}": _png(a) for a in (1, 2, 4)}
    w = widgets.precomputed_slider(frames, description="alpha")
    slider, tab = w.slider, w.tab
    assert w.children == (slider, tab)
    assert [img.value for img in tab.children] == list(frames.values())
    assert [tab.get_title(i) for i in range(3)] == list(frames)
    for i, label in enumerate(frames):
        slider.index = i
        assert slider.label == label and tab.selected_index == i
    slider.index = 0
    assert tab.selected_index == 0
    slider.value = 2
    assert slider.label == "alpha = 4" and tab.selected_index == 2
    tab.selected_index = 1  # clicking a tab moves the slider
    assert slider.index == 1
    # the browser-side link that works without a kernel
    assert isinstance(w.link, ipywidgets.widgets.widget_link.Link)
    assert w.link.source == (slider, "index") and w.link.target == (tab, "selected_index")
    # both linked traits are synced to the front end (in 7.7.1 and 8.x)
    assert "index" in slider.keys and "selected_index" in tab.keys


def test_precomputed_slider_accepts_figures_and_rejects_bad_frames():
    fig = plots.plot_distribution(np.full(2, 0.5))
    w = widgets.precomputed_slider({"a": fig, "b": _png(1.0)})
    assert w.images[0].value[:4] == b"\x89PNG"
    with pytest.raises(ValueError, match="PNG bytes or a matplotlib Figure"):
        widgets.precomputed_slider({"a": np.zeros(3)})
    with pytest.raises(ValueError, match="empty"):
        widgets.precomputed_slider({})


def test_results_alpha_widget_sorts_and_renders():
    results = {2.0: {"acc": 0.8}, 1.0: {"acc": 0.9}, 1.5: {"acc": 0.85}}
    seen = []

    def render(data):
        seen.append(data["acc"])
        fig, ax = plt.subplots(figsize=(1, 1))
        ax.set_title(str(data["acc"]))
        return fig

    w = widgets.results_alpha_widget(results, render=render)
    assert seen == [0.9, 0.85, 0.8]  # sorted by alpha
    assert [w.tab.get_title(i) for i in range(3)] == ["1", "1.5", "2"]
    w.slider.value = 2
    assert w.tab.selected_index == 2
    with pytest.raises(ValueError, match="render="):
        widgets.results_alpha_widget({1.0: {"acc": 0.9}})


def test_render_frames_static_panel_and_static_html():
    frames = widgets.render_frames(lambda T: widgets.entropy_figure(4, T), [0.3, 3.0], "T = {:g}")
    assert list(frames) == ["T = 0.3", "T = 3"]
    fig = widgets.static_panel(frames, ncols=2)
    # each frame's own title starts with its label ("T = 0.3\nH = ..."): not repeated
    assert [ax.get_title() for ax in fig.axes] == ["", ""]
    untitled = {f"view {i}": _png(i) for i in (1, 2, 3)}
    fig = widgets.static_panel(untitled)
    assert [ax.get_title() for ax in fig.axes] == list(untitled)
    assert fig.get_size_inches()[0] <= plots.MAX_WIDTH
    page = widgets.static_html(frames, ncols=1)
    assert page.count("<img") == 2 and page.count("<tr>") == 2 and "T = 0.3" in page


def test_embed_html_keeps_the_kernel_free_link(tmp_path):
    w = widgets.precomputed_slider({"a": _png(1.0), "b": _png(2.0)})
    page = widgets.embed_html(w, tmp_path / "w.html").read_text()
    start = page.index('<script type="application/vnd.jupyter.widget-state+json">')
    state = json.loads(page[page.index(">", start) + 1:page.index("</script>", start)])
    links = [m["state"] for m in state["state"].values() if m["model_name"] == "LinkModel"]
    assert links == [{"source": [f"IPY_MODEL_{w.slider.model_id}", "index"],
                      "target": [f"IPY_MODEL_{w.tab.model_id}", "selected_index"]}]
    assert state["state"][w.tab.model_id]["model_name"] == "TabModel"


def test_only_apis_common_to_ipywidgets_7_and_8():
    modules = [importlib.import_module(f"iic_tutorial.widgets.{m.name}")
               for m in pkgutil.iter_modules(widgets.__path__)]
    source = "\n".join(inspect.getsource(m) for m in [widgets, *modules])
    assert "precomputed_slider" in source and "augmentation_widget" in source
    code = "\n".join(line for line in source.splitlines()
                     if not line.strip().startswith(("#", "*", "``")))
    for name in ("widgets.Stack(", "TagsInput", "Datetime", "ColorsInput", ".titles ="):
        assert name not in code


# ----------------------------------------------------------------- the chapters' use of them

BOOK = Path(__file__).resolve().parent.parent / "book"
#: Calls that build a widget whose figure is redrawn by Python: dead without a kernel.
LIVE = re.compile(r"\bwidgets\.(entropy|augmentation|alpha)_widget\(")
#: Calls that build a kernel-free view of a control.
VIEW = re.compile(r"\bwidgets\.(precomputed_slider|static_panel|static_html|results_alpha_widget)\(")


@pytest.mark.parametrize("path", sorted(BOOK.glob("[0-9][0-9]_*.ipynb")), ids=lambda p: p.stem)
def test_live_widgets_only_with_a_kernel_and_one_view_per_control(path):
    """A live widget's cell is tagged remove-output and live-NAME (the built book drops its
    output, Colab runs it); each control has exactly one cell tagged view-NAME."""
    live, views = set(), []
    for i, cell in enumerate(json.loads(path.read_text())["cells"]):
        if cell["cell_type"] != "code":
            continue
        source, tags = "".join(cell["source"]), cell["metadata"].get("tags", [])
        names = {t.split("-", 1)[1] for t in tags if t.startswith("live-")}
        if LIVE.search(source):
            assert "remove-output" in tags and names, (
                f"{path.name} cell {i}: a live widget needs the tags remove-output and live-NAME")
        live |= names
        if VIEW.search(source):
            assert any(t.startswith("view-") for t in tags), (
                f"{path.name} cell {i}: a kernel-free view needs the tag view-NAME")
        views += [t.split("-", 1)[1] for t in tags if t.startswith("view-")]
    for name in live | set(views):
        assert views.count(name) == 1, f"{path.name}: control {name!r} has {views.count(name)} views"

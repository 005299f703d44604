"""Tests for iic_tutorial.plots: the numbers a figure shows are the numbers computed."""

from __future__ import annotations

import io
import math
import re

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.animation import FuncAnimation  # noqa: E402
from PIL import Image  # noqa: E402

from iic_tutorial import plots  # noqa: E402
from iic_tutorial.information import entropy, mutual_information  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _number_after(text: str, key: str) -> float:
    match = re.search(re.escape(key) + r"\s*=\s*(-?[0-9.]+)", text)
    assert match, f"{key!r} not found in {text!r}"
    return float(match.group(1))


def _axes(fig, label):
    found = [a for a in fig.axes if a.get_label() == label]
    assert len(found) == 1, [a.get_label() for a in fig.axes]
    return found[0]


def _digits(n=6, seed=0) -> np.ndarray:
    """n distinct synthetic 28x28 uint8 'digits' (a random stroke each)."""
    rng = np.random.default_rng(seed)
    x = np.zeros((n, 28, 28), np.uint8)
    for i in range(n):
        r = rng.integers(6, 20)
        x[i, r:r + 3, 5:23] = 255
        x[i, 5:23, rng.integers(6, 20)] = 200
    return x


# ----------------------------------------------------------------- distributions


def test_plot_distribution_title_entropy_and_bars():
    p = np.array([0.5, 0.2, 0.1, 0.1, 0.05, 0.05])
    fig = plots.plot_distribution(p, title="example")
    ax = fig.axes[0]
    title = ax.get_title()
    assert _number_after(title, "H") == pytest.approx(entropy(p), abs=5e-4)
    assert _number_after(title, "ln 6") == pytest.approx(math.log(6), abs=5e-4)
    assert title.startswith("example")
    assert [b.get_height() for b in ax.patches] == pytest.approx(p)


def test_plot_distribution_title_lines_xlabel_and_ticks():
    p = np.full(50, 1 / 50)
    ax = plots.plot_distribution(p, title="z_over", xlabel="cluster").axes[0]
    first, second = ax.get_title().split("\n")
    assert first == "z_over" and second.startswith("H = 3.912 nats")
    assert ax.get_xlabel() == "cluster"
    assert list(ax.get_xticks()) == list(range(0, 50, 5))  # every 5th of 50 outcomes
    small = plots.plot_distribution(np.full(4, 0.25)).axes[0]
    assert small.get_xlabel() == "outcome" and list(small.get_xticks()) == [0, 1, 2, 3]
    assert "\n" not in small.get_title()  # no title given: one line
    with pytest.raises(ValueError, match="one name per outcome"):
        plots.plot_distribution(np.full(4, 0.25), labels=["a"])


def test_plot_distribution_uses_given_ax_and_rejects_bad_p():
    fig, (a, b) = plt.subplots(1, 2)
    assert plots.plot_distribution(np.full(4, 0.25), ax=b) is fig
    assert "1.386" in b.get_title()  # ln 4
    with pytest.raises(ValueError, match="sum to 1"):
        plots.plot_distribution(np.array([0.5, 0.6]))
    with pytest.raises(ValueError, match="shape"):
        plots.plot_distribution(np.full((2, 2), 0.25))


def test_plot_joint_marginal_bars_and_mutual_information():
    rng = np.random.default_rng(0)
    P = rng.random((4, 4)) + 3 * np.eye(4)
    P = (P + P.T) / 2
    P /= P.sum()
    fig = plots.plot_joint(P, title="P")
    main, right, top = _axes(fig, "P"), _axes(fig, "P_i"), _axes(fig, "P_j")
    np.testing.assert_allclose(main.get_images()[0].get_array(), P)
    np.testing.assert_allclose([b.get_width() for b in right.patches], P.sum(axis=1))
    np.testing.assert_allclose([b.get_height() for b in top.patches], P.sum(axis=0))
    # bars sit on the rows / columns they summarise
    np.testing.assert_allclose([b.get_y() + b.get_height() / 2 for b in right.patches], range(4))
    np.testing.assert_allclose([b.get_x() + b.get_width() / 2 for b in top.patches], range(4))
    I = _number_after(top.get_title(), "I(Z; Z')")
    assert I == pytest.approx(mutual_information(P), abs=5e-4)
    assert len(main.texts) == 16  # annotated, k <= 12
    # a colour bar reads the shades back as P_ij, on the heatmap's own scale
    bar = _axes(fig, "colorbar")
    assert bar.get_ylabel() == "P_ij"
    assert bar.get_ylim() == pytest.approx(main.get_images()[0].get_clim())
    fig.canvas.draw()  # the divider places the axes when the figure is drawn
    assert bar.get_position().x0 > right.get_position().x1  # right of the P_i bars
    plain = plots.plot_joint(P, colorbar=False)
    assert "colorbar" not in [a.get_label() for a in plain.axes]


def test_plot_joint_non_square_into_given_ax_and_errors():
    P = np.array([[0.3, 0.1, 0.0], [0.0, 0.2, 0.4]])
    fig, ax = plt.subplots()
    assert plots.plot_joint(P, ax=ax, annotate=False) is fig
    assert [b.get_width() for b in _axes(fig, "P_i").patches] == pytest.approx([0.4, 0.6])
    assert [b.get_height() for b in _axes(fig, "P_j").patches] == pytest.approx([0.3, 0.3, 0.4])
    assert not ax.texts
    with pytest.raises(ValueError, match="sum to 1"):
        plots.plot_joint(np.eye(3))
    with pytest.raises(ValueError, match="non-negative"):
        plots.plot_joint(np.array([[0.5, -0.1], [0.3, 0.3]]))


def test_plot_joints_draws_each_table_with_its_title():
    tables = {f"step {s}": np.eye(3) / 3 if s else np.full((3, 3), 1 / 9)
              for s in (0, 50, 100, 200)}
    fig = plots.plot_joints(tables, vmax=0.4)
    mains = [a for a in fig.axes if a.get_label() == "P"]
    tops = [a for a in fig.axes if a.get_label() == "P_j"]
    assert len(mains) == 4 and len(tops) == 4
    assert [t.get_title().split("\n")[0] for t in tops] == list(tables)
    for main, P in zip(mains, tables.values()):
        np.testing.assert_allclose(main.get_images()[0].get_array(), P)
        assert main.get_images()[0].get_clim() == (0, 0.4)
    bars = [a for a in fig.axes if a.get_label() == "colorbar"]
    assert len(bars) == 4 and all(b.get_ylim() == pytest.approx((0, 0.4)) for b in bars)
    assert len({round(a.get_position().y0, 2) for a in mains}) == 2  # four as 2 x 2
    assert fig.get_size_inches()[0] <= plots.MAX_WIDTH
    three = plots.plot_joints({"a": np.eye(2) / 2, "b": np.eye(2) / 2, "c": np.eye(2) / 2},
                              annotate=False)
    assert len({round(a.get_position().y0, 2) for a in three.axes if a.get_label() == "P"}) == 1
    assert not any(a.texts for a in three.axes)
    with pytest.raises(ValueError, match="empty"):
        plots.plot_joints({})


def test_plot_confusion_normalises_rows_and_reports_accuracy():
    C = np.array([[8, 2, 0], [1, 9, 0], [0, 5, 5]])
    fig = plots.plot_confusion(C, class_names=["a", "b", "c"])
    ax = fig.axes[0]
    np.testing.assert_allclose(ax.get_images()[0].get_array(), C / C.sum(axis=1, keepdims=True))
    assert _number_after(ax.get_title(), "accuracy") == pytest.approx(100 * 22 / 30, abs=0.05)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["a", "b", "c"]
    raw = plots.plot_confusion(C, normalize=False).axes[0]
    np.testing.assert_allclose(raw.get_images()[0].get_array(), C)
    with pytest.raises(ValueError, match="one name per row"):
        plots.plot_confusion(C, class_names=["a"])
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("matched cluster", "true digit")


def test_plot_confusion_has_a_colour_bar_on_its_scale():
    C = np.array([[8, 2, 0], [1, 9, 0], [0, 5, 5]])
    fig = plots.plot_confusion(C)
    main, bar = _axes(fig, "confusion"), _axes(fig, "colorbar")
    assert bar.get_ylabel() == "fraction of the row" and bar.get_ylim() == pytest.approx((0, 1))
    fig.canvas.draw()  # the divider places the axes when the figure is drawn
    assert bar.get_position().x0 >= main.get_position().x1  # on the right
    counts = plots.plot_confusion(C, normalize=False)
    assert _axes(counts, "colorbar").get_ylabel() == "count"
    assert _axes(counts, "colorbar").get_ylim() == pytest.approx((0, 9))
    assert "colorbar" not in [a.get_label() for a in plots.plot_confusion(C, colorbar=False).axes]
    # drawn into a given axes (as in an animation frame), the bar comes along
    f, ax = plt.subplots()
    plots.plot_confusion(np.ones((10, 50)), ax=ax)
    assert [a.get_label() for a in f.axes].count("colorbar") == 1


def test_plot_confusion_other_contingency_tables():
    C = np.array([[0, 9, 1], [8, 1, 1], [1, 1, 8]])  # clusters as numbered: no matching
    ax = plots.plot_confusion(C, title="digits x clusters", show_accuracy=False,
                              xlabel="cluster", ylabel="digit").axes[0]
    assert ax.get_title() == "digits x clusters"
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("cluster", "digit")
    assert plots.plot_confusion(C, show_accuracy=False).axes[0].get_title() == ""
    titled = plots.plot_confusion(C, title="as matched").axes[0].get_title()
    assert titled.startswith("as matched: accuracy") and \
        _number_after(titled, "accuracy") == pytest.approx(100 * 9 / 30, abs=0.05)
    # a wide table (10 x 50) still fits the text column
    wide = plots.plot_confusion(np.ones((10, 50)))
    assert wide.get_size_inches()[0] <= plots.MAX_WIDTH


# ----------------------------------------------------------------- images


@pytest.mark.parametrize("channel", [False, True])
def test_image_grid_shows_each_image(channel):
    x = _digits(7)
    images = x[..., None] if channel else x
    fig = plots.image_grid(images, titles=[f"#{i}" for i in range(7)], ncols=3)
    assert len(fig.axes) == 7
    for i, ax in enumerate(fig.axes):
        np.testing.assert_allclose(ax.get_images()[0].get_array(), x[i] / 255.0, atol=1e-6)
        assert ax.get_title() == f"#{i}"
    floats = plots.image_grid(x.astype(np.float32) / 255.0, ncols=10)
    np.testing.assert_allclose(floats.axes[3].get_images()[0].get_array(), x[3] / 255.0, atol=1e-6)


def test_image_grid_fits_the_text_column():
    x = _digits(30)
    fig = plots.image_grid(x, ncols=10, row_labels=["a", "b", "c"])
    assert fig.get_size_inches()[0] == pytest.approx(7.0)  # 10 x 0.9 in + labels, shrunk
    narrow = plots.image_grid(x[:3], ncols=3)
    assert narrow.get_size_inches()[0] == pytest.approx(3 * 0.9)  # small grids keep their size
    assert plots.image_grid(x, ncols=10, max_width=None).get_size_inches()[0] == pytest.approx(9)


def test_image_grid_rejects_bad_input():
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        plots.image_grid(np.full((2, 28, 28), 255.0))
    with pytest.raises(ValueError, match="shape"):
        plots.image_grid(np.zeros((2, 28, 28, 3)))
    with pytest.raises(ValueError, match="one string per image"):
        plots.image_grid(_digits(3), titles=["a"])


def test_plot_augmentations_rows():
    from iic_tutorial.augment import AugmentConfig

    x = _digits(5)
    fig = plots.plot_augmentations(
        x, {"none": AugmentConfig.none(), "rotation": AugmentConfig.article().only("rotation")}, n=4
    )
    assert len(fig.axes) == 3 * 4
    arrays = [ax.get_images()[0].get_array() for ax in fig.axes]
    labels = [fig.axes[r * 4].get_ylabel() for r in range(3)]
    assert labels == ["original", "none", "rotation"]
    for c in range(4):
        np.testing.assert_allclose(arrays[c], x[c] / 255.0, atol=1e-6)  # original row
        np.testing.assert_allclose(arrays[4 + c], x[c] / 255.0, atol=1e-6)  # identity row
    assert any(not np.allclose(arrays[8 + c], x[c] / 255.0, atol=1e-3) for c in range(4))


def test_cluster_gallery_rows_hold_cluster_members():
    x = _digits(30)
    clusters = np.arange(30) % 5
    fig = plots.cluster_gallery(x, clusters, n_per_cluster=3, order=[4, 1], seed=None)
    ax = _axes(fig, "gallery")
    mosaic = ax.get_images()[0].get_array()
    assert mosaic.shape == (2 * 30, 3 * 30)
    np.testing.assert_allclose(mosaic[:28, :28], x[4] / 255.0, atol=1e-6)  # first member of 4
    np.testing.assert_allclose(mosaic[30:58, 30:58], x[6] / 255.0, atol=1e-6)  # second of 1
    assert [t.get_text() for t in ax.get_yticklabels()] == ["4 (6)", "1 (6)"]
    with pytest.raises(ValueError, match="same length"):
        plots.cluster_gallery(x, clusters[:5])


# ----------------------------------------------------------------- training


def _history(n_steps=200, with_acc=True):
    steps = list(range(1, n_steps + 1))
    history = {"step": steps, "loss": [-0.01 * s for s in steps],
               "loss_k": [-0.01 * s for s in steps], "loss_over": [-0.02 * s for s in steps],
               "evals": []}
    for s, acc in ((100, 0.5), (200, 0.8)):
        record = {"step": s, "epoch": s / 100, "loss": 0.0, "P": np.eye(3).tolist()}
        if with_acc:
            record.update(acc=acc, acc_over=acc + 0.05, nmi=acc / 2)
        history["evals"].append(record)
    return history


def test_plot_history_two_panels():
    history = _history()
    fig = plots.plot_history(history, smooth=1)
    loss_ax, acc_ax = _axes(fig, "loss"), _axes(fig, "accuracy")
    lines = {l.get_label(): l for l in loss_ax.get_lines()}
    np.testing.assert_allclose(lines["10-cluster head"].get_ydata(), history["loss_k"])
    np.testing.assert_allclose(lines["over-clustering head"].get_ydata(), history["loss_over"])
    acc_lines = acc_ax.get_lines()
    np.testing.assert_allclose(acc_lines[0].get_xdata(), [100, 200])
    np.testing.assert_allclose(acc_lines[0].get_ydata(), [50, 80])
    np.testing.assert_allclose(acc_lines[1].get_ydata(), [55, 85])
    # a saved trainer state ({"history": ...}) works too
    assert len(plots.plot_history({"history": history}).axes) == 2


def test_plot_history_without_accuracy_and_on_given_ax():
    assert len(plots.plot_history(_history(with_acc=False)).axes) == 1
    fig, ax = plt.subplots()
    assert plots.plot_history(_history(), ax=ax) is fig
    assert len(fig.axes) == 2  # ax and its twin for accuracy
    with pytest.raises(ValueError, match="loss_over"):
        plots.plot_history({"step": [1], "loss_k": [0.0]})


@pytest.mark.parametrize("kind", ["joint", "confusion"])
def test_animate_matrices_writes_one_gif_frame_per_matrix(tmp_path, kind):
    rng = np.random.default_rng(1)
    mats = []
    for _ in range(4):
        M = rng.random((3, 3)) + np.eye(3)
        mats.append(M / M.sum() if kind == "joint" else np.round(100 * M))
    path = plots.animate_matrices(mats, [f"epoch {t}" for t in range(4)], path=tmp_path / "a.gif",
                                  kind=kind, fps=4)
    assert path == tmp_path / "a.gif"
    with Image.open(path) as gif:
        assert gif.n_frames == 4
        assert gif.info["duration"] == 250


def test_animate_matrices_returns_animation_and_checks_args():
    mats = [np.eye(2) / 2, np.full((2, 2), 0.25)]
    anim = plots.animate_matrices(mats, titles=["a", "b"])
    assert isinstance(anim, FuncAnimation)
    page = anim.to_jshtml()  # how a notebook shows it; works after the figure is closed
    assert page.count("data:image/png;base64") == 2
    with pytest.raises(ValueError, match="kind"):
        plots.animate_matrices(mats, kind="heatmap")
    with pytest.raises(ValueError, match="one string per matrix"):
        plots.animate_matrices(mats, titles=["only one"])


# ----------------------------------------------------------------- experiments and composition


def test_plot_alpha_sweep_mean_and_std():
    values = [[0.9, 0.95], [0.8, 0.85, 0.82], [0.7]]
    fig = plots.plot_alpha_sweep([1, 2, 3], values, label="toy")
    ax = fig.axes[0]
    line = ax.get_lines()[0]
    np.testing.assert_allclose(line.get_ydata(), [np.mean(v) for v in values])
    segments = ax.collections[0].get_segments()  # one error bar per alpha
    half = [abs(s[1][1] - s[0][1]) / 2 for s in segments]
    np.testing.assert_allclose(half, [np.std(values[0], ddof=1), np.std(values[1], ddof=1), 0.0])
    with pytest.raises(ValueError, match="same length"):
        plots.plot_alpha_sweep([1, 2], values)


def test_figure_to_png_and_side_by_side():
    fig = plots.plot_distribution(np.full(3, 1 / 3))
    png = plots.figure_to_png(fig)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    panel = plots.side_by_side(
        [png, plots.plot_distribution(np.array([1.0, 0.0])), lambda ax: ax.plot([0, 1])],
        titles=["a", "b", "c"], ncols=2,
    )
    assert [a.get_title() for a in panel.axes] == ["a", "b", "c"]
    assert panel.axes[0].get_images()[0].get_array().shape[-1] == 4  # RGBA raster of the PNG
    with pytest.raises(ValueError, match="Figure"):
        plots.figure_to_png("not a figure")
    with pytest.raises(ValueError, match="panel 0"):
        plots.side_by_side([42])


def test_figure_to_png_stores_the_titles():
    fig, (a, b) = plt.subplots(1, 2)
    a.set_title("alpha = 1\nI = 0.5")
    b.set_title("second")
    assert plots.png_titles(plots.figure_to_png(fig)) == ["alpha = 1", "I = 0.5", "second"]
    bare, _ = plt.subplots()
    assert plots.png_titles(plots.figure_to_png(bare)) == []


@pytest.mark.parametrize("label, shown", [
    ("T = 1", True), ("T = 10", False), ("T = 1.5", False), ("I = 0.5", True),
    ("H = 0.2", False),
])
def test_shows_matches_whole_lines_or_their_start(label, shown):
    assert plots._shows(label, ["T = 1: H = 0.2", "I = 0.5"]) is shown


def test_side_by_side_does_not_repeat_titles():
    titled = plots.figure_to_png(plots.plot_distribution(np.full(3, 1 / 3), title="T = 1"))
    untitled = plots.figure_to_png(plt.subplots(figsize=(2, 2))[0])
    fig = plots.side_by_side([titled, untitled], titles=["T = 1", "T = 10"])
    assert [ax.get_title() for ax in fig.axes] == ["", "T = 10"]  # the first shows it already

    def draw_titled(ax):
        plots.plot_distribution(np.full(2, 0.5), ax=ax, title="z")

    def draw_joint(ax):
        plots.plot_joint(np.eye(2) / 2, ax=ax, title="diagonal")

    fig = plots.side_by_side([draw_titled, draw_titled, draw_joint, lambda ax: ax.plot([0, 1])],
                             titles=["z", "head 1", "k = 2", "line"], ncols=2)
    titles = sorted(ax.get_title() for ax in fig.axes if ax.get_title())
    assert len(titles) == 4
    assert titles[0].startswith("head 1\nz\nH = 0.693")  # label added above the own title
    assert titles[1].startswith("k = 2\ndiagonal\nI(Z; Z')")  # on the panel's top axes
    assert titles[2] == "line"
    assert titles[3].startswith("z\nH = 0.693")  # kept as drawn, not overwritten


def test_side_by_side_fits_max_width():
    png = plots.figure_to_png(plots.plot_distribution(np.full(3, 1 / 3)))  # about 450 px wide
    natural = Image.open(io.BytesIO(png)).width / 100 + 0.1  # inches per panel
    fig = plots.side_by_side([png] * 6)  # 6 x 4.6 in in a row would be 27.6 in
    assert fig.get_size_inches()[0] <= plots.MAX_WIDTH + 1e-9
    assert len(fig.axes) == 6
    rows = {round(ax.get_position().y0, 3) for ax in fig.axes}
    assert len(rows) == 3  # two per row: each at least 70 % of its natural size
    one_row = plots.side_by_side([png] * 6, ncols=6)  # as asked, scaled down to fit
    assert one_row.get_size_inches()[0] == pytest.approx(plots.MAX_WIDTH)
    unlimited = plots.side_by_side([png] * 6, max_width=None)
    assert unlimited.get_size_inches()[0] == pytest.approx(6 * natural)
    small = plots.side_by_side([lambda ax: ax.plot([0, 1])] * 2)  # 2 x 3.6 in fits in a row
    assert small.get_size_inches() == pytest.approx((7.2, 3.2))
    with pytest.raises(ValueError, match="ncols"):
        plots.side_by_side([png], ncols=0)


def _fake_history():
    evals = [{"step": s, "acc": a, "acc_raw_bn": r} for s, a, r in ((50, 0.3, 0.11), (100, 0.6, 0.4))]
    return {"evals": evals}


def test_batchnorm_pitfall_draws_both_accuracies():
    from iic_tutorial.plots import plot_batchnorm_pitfall

    fig = plot_batchnorm_pitfall(_fake_history())
    lines = fig.axes[0].get_lines()
    np.testing.assert_allclose(lines[0].get_ydata(), [11, 40])
    np.testing.assert_allclose(lines[1].get_ydata(), [30, 60])
    with pytest.raises(ValueError, match="acc_raw_bn"):
        plot_batchnorm_pitfall({"evals": [{"step": 1, "acc": 0.5}]})


def test_plot_runs_draws_both_heads_of_a_run():
    # one run, two keys of one kind: a line per head, named by the key (collect.py's picture)
    from iic_tutorial.plots import plot_runs

    run = {"name": "a", "curve": [{"step": 10, "wall_time": 60, "acc": 0.5, "acc_over": 0.6, "mi": 1.0},
                                  {"step": 20, "wall_time": 120, "acc": 0.9, "acc_over": 0.8, "mi": 2.0}]}
    ax = plot_runs([run], y=("acc", "acc_over")).axes[0]
    (k, over) = ax.get_lines()
    np.testing.assert_allclose(over.get_ydata(), [60, 80])
    assert (k.get_label(), over.get_label()) == ("test accuracy (%)",
                                                "test over-clustering (many-to-one) (%)")
    assert ax.get_ylabel() == "accuracy (%)"
    two = plot_runs([run, {**run, "name": "b"}], y=("acc", "acc_over")).axes[0].get_lines()
    assert [line.get_label() for line in two][1:3] == ["a: test over-clustering (many-to-one) (%)",
                                                     "b: test accuracy (%)"]
    with pytest.raises(ValueError, match="several of one kind"):
        plot_runs([run], y=("acc", "mi"))


def test_plot_runs_draws_each_curve_in_percent_and_minutes():
    from iic_tutorial.plots import plot_runs

    runs = [{"name": "a", "curve": [{"step": 10, "wall_time": 60, "acc": 0.5},
                                    {"step": 20, "wall_time": 120, "acc": 0.9}]},
            {"name": "b", "curve": [{"step": 10, "wall_time": 30, "acc": 0.2}]}]
    fig = plot_runs(runs)
    first, second = fig.axes[0].get_lines()
    np.testing.assert_allclose(first.get_xdata(), [1, 2])
    np.testing.assert_allclose(first.get_ydata(), [50, 90])
    assert second.get_label() == "b"
    with pytest.raises(ValueError, match="2 labels for 1 runs"):
        plot_runs(runs[:1], labels=["x", "y"])
    for run in runs:
        for point in run["curve"]:
            point["epoch"] = point["step"] / 4
    by_epoch = plot_runs(runs, y="acc", x="epoch")
    np.testing.assert_allclose(by_epoch.axes[0].get_lines()[0].get_xdata(), [2.5, 5])
    assert by_epoch.axes[0].get_xlabel() == "epoch"
    with pytest.raises(ValueError, match="x must be 'minutes', 'step' or 'epoch'"):
        plot_runs(runs, x="hours")


def test_a_curve_key_has_one_kind_that_the_result_and_the_plot_share():
    # metrics.curve_keys() alone says what a curve point holds and how each key is shown:
    # the result's curve keeps exactly its keys, and plot_runs reads its axis name and unit
    from iic_tutorial import metrics
    from iic_tutorial.plots import plot_runs
    from iic_tutorial.runs import curve_fields

    keys = metrics.curve_keys()
    assert curve_fields() == tuple(keys)
    assert {k for k, c in keys.items() if c.percent} == {"acc", "acc_over", "acc_raw_bn", "dev_acc"}
    run = {"name": "a", "curve": [{"step": 1, "wall_time": 60, "dev_acc": 0.9, "acc_raw_bn": 0.8,
                                   "nmi": 0.7, "mi": 2.1}]}
    both = plot_runs([run], y=("dev_acc", "acc_raw_bn")).axes[0]
    assert [line.get_ydata()[0] for line in both.get_lines()] == pytest.approx([90, 80])
    assert both.get_lines()[0].get_label() == "accuracy on the dev split (%)"
    nmi = plot_runs([run], y="nmi").axes[0]
    assert nmi.get_ylabel() == "test NMI" and nmi.get_lines()[0].get_ydata()[0] == pytest.approx(0.7)
    with pytest.raises(ValueError, match="several of one kind"):
        plot_runs([run], y=("dev_acc", "mi"))
    with pytest.raises(ValueError, match="'accuracy' is not a key of a training curve; choose"):
        plot_runs([run], y="accuracy")


def test_plot_bars_heights_are_means_in_percent():
    from iic_tutorial.plots import plot_bars

    fig = plot_bars({"one": 0.5, "seeds": [0.8, 0.9, 1.0]})
    heights = [p.get_height() for p in fig.axes[0].patches]
    np.testing.assert_allclose(heights, [50, 90])
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert texts == ["50.0", "90.0±10.0"]
    assert fig.axes[0].get_ylim()[0] == 0  # bars far apart: the whole bar
    assert "axis starts" not in fig.axes[0].get_ylabel()


def test_plot_bars_zooms_in_on_tenths_and_says_so():
    from iic_tutorial.plots import plot_bars

    values = {"fast": [0.972, 0.9731, 0.9711], "erasing": [0.9757, 0.9397, 0.9756]}
    ax = plot_bars(values).axes[0]
    low, high = ax.get_ylim()
    assert 80 < low < 93.88 and high > 98.52  # near the data, every error bar inside
    assert low == int(low)  # a whole number, named in the label
    assert ax.get_ylabel().endswith(f"axis starts at {low:g} %")
    # the bars still end at the means (they start at the cut)
    tops = [p.get_y() + p.get_height() for p in ax.patches]
    np.testing.assert_allclose(tops, [97.206667, 96.366667], atol=1e-4)
    assert all(p.get_y() == low for p in ax.patches)
    assert len(ax.get_lines()) >= 2  # the break mark at the foot of the axis
    fixed = plot_bars(values, bottom=None).axes[0]
    assert fixed.get_ylim()[0] == 0 and "axis starts" not in fixed.get_ylabel()
    assert plot_bars(values, bottom=90).axes[0].get_ylim()[0] == 90
    with pytest.raises(ValueError, match="bottom must be"):
        plot_bars(values, bottom="low")


def test_plot_confusion_names_every_column_when_asked():
    from iic_tutorial.plots import plot_confusion

    C = np.eye(3, 4, dtype=int) * 5
    fig = plot_confusion(C, cluster_names=["a", "b", "c", "d"], show_accuracy=False)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "b", "c", "d"]
    with pytest.raises(ValueError, match=r"one name per column of C \(4\); got 2"):
        plot_confusion(C, cluster_names=["a", "b"])

"""The σ slider's callbacks (vaebook.plotting): a sweep and an index give numbers and a
picture."""

from __future__ import annotations

import dataclasses

import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from vaebook.experiment import run_sigma_sweep  # noqa: E402
from vaebook.plotting import image_strip, sigma_figure, sigma_frame, sigma_numbers, sigma_slider  # noqa: E402


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    import os

    os.environ["VAEBOOK_CACHE_DIR"] = str(tmp_path_factory.mktemp("cache"))
    try:
        return run_sigma_sweep([0.05, 0.3, 1.5], steps=300, progress=False)
    finally:
        del os.environ["VAEBOOK_CACHE_DIR"]


def test_numbers_are_the_sweeps_numbers_for_that_sigma(sweep):
    for i in range(len(sweep.sigmas)):
        numbers = sigma_numbers(sweep, i)
        assert float(numbers["σ (decoder standard deviation)"]) == pytest.approx(
            sweep.sigmas[i], rel=1e-2
        )
        assert float(numbers["per-pixel MSE, test digits"]) == pytest.approx(sweep.mse[i], abs=1e-4)
        assert float(numbers["per-pixel MSE, training digits"]) == pytest.approx(
            sweep.train_mse[i], abs=1e-4
        )
        assert float(numbers["KL, total (nats)"]) == pytest.approx(sweep.kl[i], abs=5e-3)
        assert numbers["active latent units"].startswith(str(int(sweep.active_units[i])))
    assert sigma_numbers(sweep, 0) != sigma_numbers(sweep, 2)


def test_each_sigma_gets_its_own_picture(sweep):
    frames = [sigma_frame(sweep, i) for i in range(len(sweep.sigmas))]
    assert all(f.png.startswith(b"\x89PNG") for f in frames)
    assert len({f.png for f in frames}) == len(frames), "two σ values gave the same picture"
    assert all("σ = " in f.alt and f.label in f.alt for f in frames)


def test_figure_has_the_four_panels(sweep):
    fig = sigma_figure(sweep, 1)
    titles = [ax.get_title() for ax in fig.axes]
    for expected in ["reconstructions", "prior", "latent space", "rate–distortion"]:
        assert any(expected in title for title in titles), (expected, titles)
    matplotlib.pyplot.close(fig)


def test_slider_shows_the_frame_of_the_selected_sigma(sweep):
    slider = sigma_slider(sweep)
    assert slider.index == len(sweep.sigmas) // 2
    shown = slider.select(0)
    assert shown.numbers_html == sigma_slider(sweep, start=0).current.numbers_html
    assert shown.label == f"{sweep.sigmas[0]:.3g}"


def test_bad_indices_and_empty_grids_raise_clear_errors(sweep):
    for bad in (-1, 3, 0.5, None, True):
        with pytest.raises(ValueError, match="index"):
            sigma_numbers(sweep, bad)
    empty = dataclasses.replace(sweep, hyperparameters={"configs": []})
    with pytest.raises(ValueError, match="empty"):
        sigma_slider(empty)
    with pytest.raises(ValueError, match="empty"):
        sigma_numbers(empty, 0)


def test_image_strip_tiles_and_validates():
    strip = image_strip(np.zeros((5, 64)), n_cols=3)
    assert strip.shape == (2 * 8 + 1, 3 * 8 + 2)
    with pytest.raises(ValueError, match="images"):
        image_strip(np.zeros((5, 63)), n_cols=3)


# --- the one-pixel likelihood slider (chapter Other likelihoods side by side) ----------------


def test_pixel_densities_are_the_likelihoods_densities():
    import math

    import torch

    from vaebook.plotting import pixel_densities

    result = pixel_densities(0.3, 0.2, 0.1)
    x, densities = result["x"], result["densities"]
    f64 = dict(dtype=torch.float64)
    normal = torch.distributions.Normal(torch.tensor(0.3, **f64), torch.tensor(0.2, **f64))
    normal = normal.log_prob(torch.tensor(x)).exp().numpy()
    np.testing.assert_allclose(densities["Gaussian"], normal, rtol=1e-10)
    laplace = np.exp(-np.abs(x - 0.3) / 0.1) / 0.2
    np.testing.assert_allclose(densities["Laplace"], laplace, rtol=1e-10)
    cb = torch.distributions.ContinuousBernoulli(
        probs=torch.tensor(result["lambda_cb"], dtype=torch.float64)
    )
    assert abs(float(cb.mean) - 0.3) < 1e-9
    np.testing.assert_allclose(
        densities["continuous Bernoulli"], cb.log_prob(torch.tensor(x)).exp().numpy(), rtol=1e-8
    )
    np.testing.assert_allclose(densities["BCE"], 0.3**x * 0.7 ** (1 - x), rtol=1e-10)
    assert abs(result["mass"]["continuous Bernoulli"] - 1) < 1e-4
    gaussian_mass = 0.5 * (
        math.erf(0.7 / (0.2 * math.sqrt(2))) + math.erf(0.3 / (0.2 * math.sqrt(2)))
    )
    assert abs(result["mass"]["Gaussian"] - gaussian_mass) < 1e-12
    assert abs(result["mass"]["Laplace"] - np.trapezoid(laplace, x)) < 1e-5
    assert result["mass"]["BCE"] < 0.5


@pytest.mark.parametrize(
    "arguments",
    [
        (0.0, 0.2, 0.1),
        (1.0, 0.2, 0.1),
        (0.5, 0.0, 0.1),
        (0.5, 0.2, -1.0),
        (float("nan"), 0.2, 0.1),
        ("0.5", 0.2, 0.1),
    ],
)
def test_pixel_functions_refuse_bad_input(arguments):
    from vaebook.plotting import pixel_likelihood_numbers

    with pytest.raises(ValueError, match="must"):
        pixel_likelihood_numbers(*arguments)


def test_pixel_slider_frames_follow_the_prediction():
    from vaebook.plotting import pixel_likelihood_numbers, pixel_likelihood_slider

    slider = pixel_likelihood_slider(0.2, 0.1, means=(0.1, 0.5, 0.9))
    assert [frame.label for frame in slider.frames] == ["0.10", "0.50", "0.90"]
    assert slider.index == 1
    assert len({frame.png for frame in slider.frames}) == 3
    for frame, mean in zip(slider.frames, (0.1, 0.5, 0.9)):
        numbers = pixel_likelihood_numbers(mean, 0.2, 0.1)
        assert all(value in frame.numbers_html for value in numbers.values())
        assert frame.alt.startswith(f"For a predicted pixel value of {mean:.2f}")
    with pytest.raises(ValueError, match="at least one"):
        pixel_likelihood_slider(0.2, 0.1, means=())


def test_use_book_style_sets_the_shared_figure_settings():
    import matplotlib

    from vaebook.plotting import BOOK_STYLE, use_book_style

    with matplotlib.rc_context({"figure.dpi": 123}):
        use_book_style()
        assert all(matplotlib.rcParams[key] == value for key, value in BOOK_STYLE.items())


# --- figures for every screen (issue 28, item 3: phones) -------------------------------------


def _texts_outside(fig) -> list[str]:
    """The shown texts of ``fig`` that reach beyond its edges (clipped in the picture)."""
    from matplotlib.text import Text

    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    tick_labels, shown = set(), []
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            low, high = sorted(axis.get_view_interval())
            for tick in axis.get_major_ticks() + axis.get_minor_ticks():
                labels = (tick.label1, tick.label2)
                tick_labels |= {id(label) for label in labels}
                drawn = ax.axison and axis.get_visible() and low <= tick.get_loc() <= high
                shown += [label for label in labels if drawn and label.get_visible()]
    shown += [text for text in fig.findobj(Text) if id(text) not in tick_labels]
    box, outside = fig.bbox, []
    for text in shown:
        if not (text.get_visible() and text.get_text().strip()):
            continue
        if text.axes is not None and not text.axes.axison and text is not text.axes.title:
            if text in (text.axes.xaxis.label, text.axes.yaxis.label):
                continue
        extent = text.get_window_extent(renderer)
        if (
            extent.x0 < box.x0 - 1
            or extent.x1 > box.x1 + 1
            or extent.y0 < box.y0 - 1
            or (extent.y1 > box.y1 + 1)
        ):
            outside.append(text.get_text())
    return outside


def test_text_sizes_reads_the_tick_labels_and_every_shown_text():
    import matplotlib.pyplot as plt

    from vaebook.plotting import text_sizes

    fig, (ax, off) = plt.subplots(1, 2)
    ax.plot([0, 1], [0, 1], label="a line")
    ax.tick_params(labelsize=12)
    ax.legend(fontsize=7)
    ax.set_title("title", fontsize=15)
    off.tick_params(labelsize=3)  # an axis switched off shows no tick labels
    off.set_axis_off()
    assert text_sizes(fig) == {"tick": 12, "text": 7}
    fig.clear()
    fig.add_subplot().set_axis_off()
    assert text_sizes(fig) == {"tick": None, "text": None}
    plt.close(fig)


def test_figure_picture_knows_its_font_sizes_and_where_its_marker_is():
    """The data of a picture are those of the PNG: the marker's fractions point at the red
    pixels of the marker, and the font sizes are points at twice the dpi."""
    import io

    import matplotlib.pyplot as plt
    from PIL import Image

    from vaebook.plotting import MARKER_GID, figure_picture

    fig = plt.figure(figsize=(4, 3))
    ax = fig.add_axes((0.25, 0.25, 0.5, 0.5), xlim=(0, 1), ylim=(0, 1))
    ax.plot([0.8], [0.3], "s", color="red", ms=6, gid=MARKER_GID)
    ax.tick_params(labelsize=9)
    picture = figure_picture(fig, dpi=50, tight=False)
    assert (picture.width, picture.height) == (200, 150)
    assert picture.attributes()["png-width"] == "400"
    assert float(picture.data["tick-px"]) == pytest.approx(9 * 100 / 72, abs=0.01)
    assert float(picture.data["marker-x"]) == pytest.approx(0.25 + 0.5 * 0.8, abs=1e-3)
    assert float(picture.data["marker-y"]) == pytest.approx(1 - (0.25 + 0.5 * 0.3), abs=1e-3)
    pixels = np.asarray(Image.open(io.BytesIO(picture.png)).convert("RGB")).astype(int)
    red = (pixels[..., 0] > 200) & (pixels[..., 1] < 60) & (pixels[..., 2] < 60)
    rows, cols = np.nonzero(red)
    assert rows.size > 10
    assert cols.mean() / 400 == pytest.approx(float(picture.data["marker-x"]), abs=0.01)
    assert rows.mean() / 300 == pytest.approx(float(picture.data["marker-y"]), abs=0.01)
    assert matplotlib.pyplot.fignum_exists(fig.number), "figure_picture closed the figure"
    plt.close(fig)


def test_stack_panels_makes_one_column_in_the_order_asked():
    import matplotlib.pyplot as plt

    from vaebook.plotting import NARROW_WIDTH, stack_panels

    fig, axes = plt.subplots(2, 2, figsize=(8, 6), constrained_layout=True)
    for k, ax in enumerate(axes.flat):
        ax.set_title(f"panel {k}")
    points = axes[1, 0].scatter([0, 1], [0, 1], c=[0, 1])
    fig.colorbar(points, ax=axes[1, 0])
    stack_panels(fig, order=[3, 0, 1, 2], heights=[2, 1, 1, 2])
    assert tuple(fig.get_size_inches()) == (NARROW_WIDTH, 6)
    fig.canvas.draw()
    tops = {ax.get_title(): ax.get_position().y1 for ax in axes.flat}
    assert sorted(tops, key=tops.get, reverse=True) == ["panel 3", "panel 0", "panel 1", "panel 2"]
    assert all(ax.get_position().x0 < 0.3 for ax in axes.flat), "not one column"
    with pytest.raises(ValueError, match="order"):
        stack_panels(fig, order=[0, 1, 2])
    plt.close(fig)


def test_responsive_figure_is_one_picture_with_a_phone_rendering_and_one_alt_text():
    import matplotlib.pyplot as plt

    from vaebook.plotting import responsive_figure
    from vaebook.widgets import NARROW_MEDIA

    fig, axes = plt.subplots(1, 2, figsize=(9, 3.2), constrained_layout=True)
    for ax in axes:
        ax.plot([1, 2, 3], [3, 1, 2])
    shown = responsive_figure(fig, 'Two "panels" & lines')
    assert not plt.fignum_exists(fig.number), "the figure was left open (it would show twice)"
    page = shown.to_html()
    assert page.count("<img") == 1 and page.count("<source") == 1
    assert f'media="{NARROW_MEDIA}"' in page and " 2x" in page
    assert 'alt="Two &quot;panels&quot; &amp; lines"' in page
    assert 330 <= shown.narrow.width <= 352 and shown.wide.width > 600
    assert shown.narrow.height > 1.5 * shown.wide.height, "the phone's panels are not stacked"
    bundle, metadata = shown._repr_mimebundle_()
    assert bundle["image/png"] == shown.wide.png and metadata["image/png"]["width"] == (
        shown.wide.width
    )
    phone = plt.figure(figsize=(4, 3))
    phone.add_subplot().plot([0, 1])
    wide = plt.figure(figsize=(8, 3))
    drawn = responsive_figure(wide, "x", narrow=phone)
    assert drawn.narrow.width < 300
    assert not plt.fignum_exists(wide.number) and not plt.fignum_exists(phone.number)


def test_slider_frames_put_the_sigma_point_first_on_a_phone(sweep):
    frame = sigma_frame(sweep, 1)
    wide, narrow = frame.wide, frame.narrow
    assert frame.width == wide.width == 588 and narrow.width == 352
    for picture in (wide, narrow):
        assert 0 < float(picture.data["marker-x"]) < 1
        assert 0 < float(picture.data["marker-y"]) < 1
        assert float(picture.data["tick-px"]) / 2 >= 9.5  # CSS px when shown at its size
    assert float(narrow.data["marker-y"]) < 0.3, "the σ point is not near the top on a phone"
    assert float(wide.data["marker-y"]) > 0.5  # bottom right on a wide screen
    assert {sigma_frame(sweep, i).narrow.height for i in range(3)} == {narrow.height}


def test_every_slider_figure_keeps_its_text_inside_in_both_layouts(sweep, tmp_path, monkeypatch):
    """No title or label is cut off by the picture's edge (issue 28 item 8: the linear VAE's
    "reconstructions (lowe"), wide or stacked; the eigen-directions axis has integer ticks."""
    import matplotlib.pyplot as plt

    from vaebook.linear import run_linear_sweep
    from vaebook.plotting import linear_figure, pixel_likelihood_figure, stack_panels

    monkeypatch.setenv("VAEBOOK_CACHE_DIR", str(tmp_path))
    linear = run_linear_sweep([0.3, 0.9], latent_dim=2, steps=5, progress=False)
    figures = {
        "σ slider": lambda: sigma_figure(sweep, 0),
        "linear slider": lambda: linear_figure(linear, 0),
        "one-pixel slider": lambda: pixel_likelihood_figure(0.1, 0.2, 0.1),
    }
    for name, draw in figures.items():
        for stacked in (False, True):
            fig = draw()
            if stacked:
                stack_panels(fig)
            assert not _texts_outside(fig), (name, stacked, _texts_outside(fig))
            plt.close(fig)
    fig = linear_figure(linear, 0)
    ticks = fig.axes[0].get_xticks()
    assert list(ticks) == [1, 5, 10, 15, 20] and all(float(t).is_integer() for t in ticks)
    plt.close(fig)


def test_variant_images_have_a_phone_layout_of_one_panel_per_variant():
    import matplotlib.pyplot as plt

    from vaebook.plotting import variant_images_figure

    class Variants:
        labels = ["a", "b"]
        recon_originals = np.zeros((8, 64))
        reconstructions = np.zeros((2, 8, 64))
        prior_samples = np.zeros((2, 8, 64))

        def index_of(self, label):
            return self.labels.index(label)

    fig = variant_images_figure(Variants(), narrow=True)
    assert [ax.get_title() for ax in fig.axes] == ["a", "b"]
    assert fig.axes[0].images[0].get_array().shape == (3 * 8 + 2, 8 * 8 + 7)
    assert fig.get_size_inches()[0] == 4.4
    plt.close(fig)
    with pytest.raises(ValueError, match="narrow"):
        variant_images_figure(Variants(), narrow="yes")

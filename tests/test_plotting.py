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

"""Tests of the linear VAE and its closed form (chapter "Posterior collapse in the linear VAE").

The closed form is checked against brute force (numpy, scipy's Gaussian density and a
numerical maximisation of the pPCA likelihood) on small synthetic data with a known spectrum;
a short training of the linear VAE on the digits is checked against the closed form.
"""

import math

import numpy as np
import pytest
import torch
from scipy.optimize import minimize
from scipy.stats import multivariate_normal

from vaebook.data import PIXEL_RANGES, load_digits_split, to_pixel_range
from vaebook.linear import (
    LinearSweepResult,
    PixelRangeLinearVAE,
    covariance_eigenvalues,
    linear_vae_neg_elbo,
    ppca_active_dims,
    ppca_column_norms_sq,
    ppca_kl_per_latent,
    ppca_neg_log_likelihood,
    run_linear_sweep,
)
from vaebook.models import BatchedLinearVAE, BatchedMLPVAE
from vaebook.plotting import linear_numbers, linear_slider
from vaebook.training import evaluate, train_vae

SPECTRUM = np.array([4.0, 2.0, 1.0, 0.5, 0.25])


pytestmark = pytest.mark.usefixtures("private_cache")  # an empty cache per test


@pytest.fixture(scope="module")
def synthetic():
    """5-D Gaussian data with covariance Q diag(SPECTRUM) Qᵀ and mean 1, 4000 points."""
    rng = np.random.default_rng(0)
    q, _ = np.linalg.qr(rng.normal(size=(5, 5)))
    z = rng.normal(size=(4000, 5)) * np.sqrt(SPECTRUM)
    return z @ q.T + 1.0


@pytest.fixture(scope="module")
def short_sweep():
    """Two σ that converge in a few hundred steps: 3 and 0 active latents predicted."""
    return run_linear_sweep([0.7, 0.9], latent_dim=8, steps=800, cache=False, progress=False)


# --- closed form vs brute force ------------------------------------------------------------


def test_covariance_eigenvalues_match_numpy_and_the_known_spectrum(synthetic):
    values = covariance_eigenvalues(synthetic)
    expected = np.linalg.eigvalsh(np.cov(synthetic.T, bias=True))[::-1]
    np.testing.assert_allclose(values, expected, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(values, SPECTRUM, rtol=0.1)
    assert np.all(np.diff(values) <= 0)
    np.testing.assert_allclose(covariance_eigenvalues(torch.as_tensor(synthetic)), values)


def test_active_dims_and_column_norms_by_hand():
    assert ppca_active_dims(SPECTRUM, 1.2) == 2  # 4, 2 > 1.44
    assert ppca_active_dims(SPECTRUM, 1.2, latent_dim=1) == 1
    assert ppca_active_dims(SPECTRUM, 3.0) == 0
    assert ppca_active_dims(SPECTRUM, 0.1) == 5
    np.testing.assert_allclose(ppca_column_norms_sq(SPECTRUM, 1.0, 3), [3.0, 1.0, 0.0])
    np.testing.assert_allclose(
        ppca_column_norms_sq(SPECTRUM, 0.5, 7), [3.75, 1.75, 0.75, 0.25, 0.0, 0.0, 0.0]
    )
    np.testing.assert_allclose(
        ppca_kl_per_latent(SPECTRUM, 1.0, 3), [0.5 * math.log(4), 0.5 * math.log(2), 0.0]
    )
    # Unsorted eigenvalues are sorted first.
    np.testing.assert_allclose(ppca_column_norms_sq(SPECTRUM[::-1], 1.0, 2), [3.0, 1.0])


def _ppca_nll(x, w, sigma):
    """Brute force: −log N(x; mean, W Wᵀ + σ² I) averaged over the rows of x."""
    cov = w @ w.T + sigma**2 * np.eye(x.shape[1])
    return -multivariate_normal(mean=x.mean(axis=0), cov=cov).logpdf(x).mean()


@pytest.mark.parametrize("sigma, latent_dim", [(0.8, 2), (1.2, 3), (0.3, 5), (3.0, 2)])
def test_neg_log_likelihood_matches_the_gaussian_density_at_the_optimal_w(
    synthetic, sigma, latent_dim
):
    values, vectors = np.linalg.eigh(np.cov(synthetic.T, bias=True))
    order = np.argsort(values)[::-1][:latent_dim]
    w = vectors[:, order] * np.sqrt(np.maximum(values[order] - sigma**2, 0))
    assert ppca_neg_log_likelihood(synthetic, sigma, latent_dim) == pytest.approx(
        _ppca_nll(synthetic, w, sigma), abs=1e-9
    )


def test_neg_log_likelihood_is_the_numerical_maximum_of_the_likelihood(synthetic):
    sigma, latent_dim = 0.9, 2
    rng = np.random.default_rng(1)
    objective = lambda flat: _ppca_nll(synthetic, flat.reshape(5, latent_dim), sigma)  # noqa: E731
    best = minimize(objective, rng.normal(size=5 * latent_dim), method="BFGS")
    closed = ppca_neg_log_likelihood(synthetic, sigma, latent_dim)
    assert best.fun == pytest.approx(closed, abs=1e-5)
    for _ in range(5):  # no random W does better
        assert objective(rng.normal(size=5 * latent_dim)) > closed
    # The optimal squared column norms: eigenvalues of WᵀW (W is defined up to a rotation).
    w = best.x.reshape(5, latent_dim)
    np.testing.assert_allclose(
        np.sort(np.linalg.eigvalsh(w.T @ w))[::-1],
        ppca_column_norms_sq(covariance_eigenvalues(synthetic), sigma, latent_dim),
        atol=1e-3,
    )


# --- the linear VAE model ------------------------------------------------------------------


def test_linear_vae_shapes_and_encoder_variance_independent_of_x():
    model = BatchedLinearVAE(3, data_dim=10, latent_dim=4, seed=0)
    assert model.dtype == torch.float64 and model.n_models == 3
    x = torch.randn(7, 10, dtype=torch.float64)
    mu, logvar = model.encode(x)
    assert mu.shape == logvar.shape == (3, 7, 4)
    assert torch.equal(logvar, logvar[:, :1].expand_as(logvar))
    x_hat, mu2, _ = model(x, torch.Generator().manual_seed(0))
    assert x_hat.shape == (3, 7, 10) and torch.equal(mu, mu2)
    # Linear decoder: decode(a z) - b = a (decode(z) - b).
    z = torch.randn(7, 4, dtype=torch.float64)
    b = model.decode(torch.zeros(7, 4, dtype=torch.float64))
    torch.testing.assert_close(model.decode(3 * z) - b, 3 * (model.decode(z) - b))
    # Members start equal.
    for p in model.parameters():
        assert torch.equal(p[0], p[1]) and torch.equal(p[0], p[2])
    with pytest.raises(ValueError, match="latent_dim"):
        BatchedLinearVAE(1, latent_dim=0)
    with pytest.raises(ValueError, match="dtype"):
        BatchedLinearVAE(1, dtype=torch.int64)


def test_exact_neg_elbo_matches_the_sampled_one_of_evaluate():
    x, y, _, _ = load_digits_split(dtype=torch.float64)
    model = BatchedLinearVAE(2, latent_dim=4, seed=0)
    train_vae(model, x, [0.5, 0.8], steps=50, batch_size=512, lr=1e-2, seed=0, progress=False)
    exact = linear_vae_neg_elbo(model, x, [0.5, 0.8])
    sampled = evaluate(model, x, y, [0.5, 0.8])["neg_elbo"]
    np.testing.assert_allclose(exact, sampled, atol=0.2)
    with pytest.raises(ValueError, match="BatchedLinearVAE"):
        linear_vae_neg_elbo(BatchedMLPVAE(1), x.float(), [0.5])
    with pytest.raises(ValueError, match="one σ per member"):
        linear_vae_neg_elbo(model, x, [0.5])


# --- training agrees with the closed form --------------------------------------------------


def test_short_training_agrees_with_the_closed_form(short_sweep):
    r = short_sweep
    np.testing.assert_array_equal(r.predicted_active, [3, 0])
    np.testing.assert_array_equal(r.active_units, r.predicted_active)
    assert np.abs(r.column_norms_sq - r.predicted_norms_sq).max() < 0.05
    assert np.all(np.abs(r.elbo_gap) < 0.05), r.elbo_gap
    assert np.all(r.elbo_gap > -1e-6)
    kl_sorted = -np.sort(-r.kl_per_latent, axis=1)
    assert np.abs(kl_sorted - r.predicted_kl_per_latent).max() < 0.05
    assert r.reconstructions.shape == (2, 8, 64)


def test_sweep_is_cached_and_slider_renders():
    first = run_linear_sweep([0.9], latent_dim=2, steps=5, progress=False)
    second = run_linear_sweep([0.9], latent_dim=2, steps=5, progress=False)
    assert not first.from_cache and second.from_cache
    for name in first._array_fields():
        np.testing.assert_array_equal(getattr(first, name), getattr(second, name))
    assert isinstance(second, LinearSweepResult)
    slider = linear_slider(second)
    assert len(slider.frames) == 1 and "σ = 0.9" in slider.frames[0].alt
    assert linear_numbers(second, 0)["σ (decoder standard deviation)"] == "0.9"


def test_pixel_ranges_map_zero_and_one_to_their_ends():
    x = torch.tensor([0.0, 0.5, 1.0], dtype=torch.float64)
    for name, (low, high) in PIXEL_RANGES.items():
        mapped = to_pixel_range(x, name)
        assert mapped.tolist() == [low, (low + high) / 2, high]
    assert to_pixel_range(x, "0..1") is x
    np.testing.assert_array_equal(to_pixel_range(np.array([0.5]), "-1..1"), [0.0])


def test_pixel_range_model_is_the_plain_model_in_other_units():
    plain = BatchedLinearVAE(2, 6, 3, seed=4)
    same = PixelRangeLinearVAE(2, 6, 3, seed=4)
    wide = PixelRangeLinearVAE(2, 6, 3, pixel_range="-1..1", seed=4)
    x = torch.rand(5, 6, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    z = torch.randn(5, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    for mine, theirs in (
        (same.encode(x), plain.encode(x)),
        ((same.decode(z),), (plain.decode(z),)),
    ):
        for a, b in zip(mine, theirs):
            assert torch.equal(a, b)
    for a, b in zip(wide.encode(2 * x - 1), plain.encode(x)):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(wide.decode(z), 2 * plain.decode(z) - 1, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(wide.column_norms_sq(), 4 * plain.column_norms_sq())


def test_training_on_0_255_pixels_is_training_on_0_1_pixels_with_sigma_times_255():
    """A change of units moves σ, the eigenvalues and −log p(x) (by D log 255), nothing else."""
    unit = run_linear_sweep([0.6], latent_dim=3, steps=150, cache=False, progress=False)
    byte = run_linear_sweep(
        [0.6 * 255], latent_dim=3, steps=150, pixel_range="0..255", cache=False, progress=False
    )
    np.testing.assert_allclose(byte.kl_per_latent, unit.kl_per_latent, rtol=1e-6, atol=1e-9)
    np.testing.assert_array_equal(byte.active_units, unit.active_units)
    np.testing.assert_allclose(byte.eigenvalues, 255**2 * unit.eigenvalues, rtol=1e-9, atol=1e-6)
    np.testing.assert_allclose(byte.column_norms_sq, 255**2 * unit.column_norms_sq, rtol=1e-6)
    np.testing.assert_allclose(
        byte.train_neg_elbo, unit.train_neg_elbo + 64 * math.log(255), rtol=1e-9
    )
    np.testing.assert_allclose(byte.elbo_gap, unit.elbo_gap, atol=1e-6)
    np.testing.assert_allclose(byte.reconstructions, 255 * unit.reconstructions, rtol=1e-6)
    assert byte.pixel_width == 255 and unit.pixel_width == 1
    assert byte.hyperparameters["pixel_range"] == "0..255"


# --- bad inputs ----------------------------------------------------------------------------


@pytest.mark.parametrize("sigma", [0.0, -1.0, float("nan"), float("inf"), [0.5, 0.6]])
def test_closed_form_rejects_bad_sigma(synthetic, sigma):
    with pytest.raises(ValueError, match="sigma"):
        ppca_active_dims(SPECTRUM, sigma)
    with pytest.raises(ValueError, match="sigma"):
        ppca_column_norms_sq(SPECTRUM, sigma, 2)
    with pytest.raises(ValueError, match="sigma"):
        ppca_neg_log_likelihood(synthetic, sigma, 2)


def test_closed_form_rejects_bad_data_and_sizes(synthetic):
    with pytest.raises(ValueError, match="x"):
        covariance_eigenvalues(np.ones(5))
    bad = synthetic.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        covariance_eigenvalues(bad)
    with pytest.raises(ValueError, match="eigenvalues"):
        ppca_active_dims([], 0.5)
    with pytest.raises(ValueError, match="eigenvalues"):
        ppca_active_dims([1.0, float("nan")], 0.5)
    with pytest.raises(ValueError, match="latent_dim"):
        ppca_column_norms_sq(SPECTRUM, 0.5, 0)
    with pytest.raises(ValueError, match="latent_dim"):
        ppca_neg_log_likelihood(synthetic, 0.5, 2.5)


@pytest.mark.parametrize(
    "sigmas, match",
    [([], "empty"), ([0.5, 0.0], "positive"), ([float("nan")], "NaN"), ([-0.3], "positive")],
)
def test_run_linear_sweep_rejects_bad_grids(sigmas, match):
    with pytest.raises(ValueError, match=match):
        run_linear_sweep(sigmas, steps=1, cache=False, progress=False)


def test_run_linear_sweep_rejects_bad_hyperparameters():
    with pytest.raises(ValueError, match="steps"):
        run_linear_sweep([0.5], steps=0, cache=False)
    with pytest.raises(ValueError, match="latent_dim"):
        run_linear_sweep([0.5], latent_dim=0, cache=False)
    with pytest.raises(ValueError, match="lr"):
        run_linear_sweep([0.5], lr=-1.0, cache=False)

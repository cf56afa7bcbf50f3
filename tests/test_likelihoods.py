"""Tests of vaebook.likelihoods against torch.distributions, torch.nn and SciPy.

Every reference value is computed independently of the code under test (another library or
a formula written out here), in float64, so a wrong constant or sign makes a test fail.
"""

import math

import numpy as np
import pytest
import scipy.stats
import torch
import torch.nn.functional as F
from torch.distributions import (
    Bernoulli,
    ContinuousBernoulli,
    Laplace,
    Normal,
    kl_divergence,
)

from vaebook.likelihoods import (
    bernoulli_nll,
    continuous_bernoulli_log_normalizer,
    continuous_bernoulli_nll,
    effective_sigma,
    gaussian_nll,
    kl_standard_normal,
    laplace_nll,
    optimal_sigma,
    recon_sse,
)

SHAPES = [(3, 5), (4, 8, 8), (2, 3, 4, 4)]
TOL = dict(rtol=0, atol=1e-10)


def rand(*shape, seed=0, low=-2.0, high=2.0):
    gen = torch.Generator().manual_seed(seed)
    return low + (high - low) * torch.rand(*shape, generator=gen, dtype=torch.float64)


def per_sample(values):
    return values.reshape(values.shape[0], -1).sum(dim=1)


# --- Gaussian ------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", SHAPES)
def test_recon_sse_matches_mse_loss_times_elements(shape):
    x, x_hat = rand(*shape, seed=1), rand(*shape, seed=2)
    expected = torch.stack([F.mse_loss(x_hat[b], x[b], reduction="sum") for b in range(shape[0])])
    assert recon_sse(x_hat, x).shape == (shape[0],)
    torch.testing.assert_close(recon_sse(x_hat, x), expected, **TOL)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("sigma", [0.05, 0.7, 3.0])
def test_gaussian_nll_matches_torch_normal(shape, sigma):
    x, x_hat = rand(*shape, seed=3), rand(*shape, seed=4)
    expected = -per_sample(Normal(x_hat, sigma).log_prob(x))
    got = gaussian_nll(x_hat, x, sigma, reduction="none")
    assert got.shape == (shape[0],)
    torch.testing.assert_close(got, expected, **TOL)
    torch.testing.assert_close(gaussian_nll(x_hat, x, sigma), expected.sum(), **TOL)
    torch.testing.assert_close(
        gaussian_nll(x_hat, x, sigma, reduction="mean"), expected.mean(), **TOL
    )


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("sigma", [0.05, 0.7, 3.0])
def test_gaussian_nll_matches_gaussian_nll_loss_full(shape, sigma):
    x, x_hat = rand(*shape, seed=5), rand(*shape, seed=6)
    # GaussianNLLLoss takes the variance and clamps it at eps=1e-6: sigma^2 is far above.
    var = torch.full_like(x, sigma**2)
    expected = torch.nn.GaussianNLLLoss(full=True, reduction="sum")(x_hat, x, var)
    torch.testing.assert_close(gaussian_nll(x_hat, x, sigma), expected, **TOL)


@pytest.mark.parametrize("shape", SHAPES)
def test_gaussian_nll_matches_scipy(shape):
    x, x_hat = rand(*shape, seed=7), rand(*shape, seed=8)
    sigma = 0.3
    logpdf = scipy.stats.norm.logpdf(x.numpy(), loc=x_hat.numpy(), scale=sigma)
    expected = -logpdf.reshape(shape[0], -1).sum(axis=1)
    got = gaussian_nll(x_hat, x, sigma, reduction="none").numpy()
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-10)


@pytest.mark.parametrize("shape", SHAPES)
def test_gaussian_nll_per_pixel_sigma(shape):
    x, x_hat = rand(*shape, seed=9), rand(*shape, seed=10)
    sigma = rand(*shape[1:], seed=11, low=0.1, high=2.0)  # one sigma per pixel
    expected = -per_sample(Normal(x_hat, sigma.expand(shape)).log_prob(x))
    torch.testing.assert_close(gaussian_nll(x_hat, x, sigma, reduction="none"), expected, **TOL)
    var = sigma.expand(shape).clone() ** 2
    loss = torch.nn.GaussianNLLLoss(full=True, reduction="sum")(x_hat, x, var)
    torch.testing.assert_close(gaussian_nll(x_hat, x, sigma), loss, **TOL)
    logpdf = scipy.stats.norm.logpdf(x.numpy(), loc=x_hat.numpy(), scale=sigma.numpy())
    np.testing.assert_allclose(gaussian_nll(x_hat, x, sigma).item(), -logpdf.sum(), atol=1e-10)


def test_gaussian_nll_equals_sse_formula():
    """The closed form -log N = SSE/(2 sigma^2) + (D/2) log(2 pi sigma^2), written out."""
    x, x_hat = rand(4, 8, 8, seed=12), rand(4, 8, 8, seed=13)
    sigma, dim = 0.4, 64
    sse = ((x - x_hat) ** 2).sum(dim=(1, 2))
    expected = sse / (2 * sigma**2) + dim / 2 * math.log(2 * math.pi * sigma**2)
    torch.testing.assert_close(gaussian_nll(x_hat, x, sigma, reduction="none"), expected, **TOL)


def test_gaussian_nll_gradient_is_scaled_sse_gradient():
    x = rand(3, 5, seed=14)
    x_hat = rand(3, 5, seed=15).requires_grad_()
    sigma = 0.25
    (g_nll,) = torch.autograd.grad(gaussian_nll(x_hat, x, sigma), x_hat)
    (g_sse,) = torch.autograd.grad(recon_sse(x_hat, x).sum(), x_hat)
    torch.testing.assert_close(g_nll, g_sse / (2 * sigma**2), **TOL)


def test_gaussian_nll_float32_and_tensor_sigma_gradient():
    x = rand(2, 6, seed=16).float()
    x_hat = rand(2, 6, seed=17).float()
    log_sigma = torch.zeros((), requires_grad=True)
    loss = gaussian_nll(x_hat, x, log_sigma.exp())
    assert loss.dtype == torch.float32
    loss.backward()
    # d/d log(sigma) of SSE/(2 sigma^2) + N log sigma at sigma = 1 is N - SSE.
    n, sse = x.numel(), ((x - x_hat) ** 2).sum()
    torch.testing.assert_close(log_sigma.grad, n - sse, rtol=1e-5, atol=1e-4)


# --- Laplace, Bernoulli, continuous Bernoulli --------------------------------------------


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("scale", [0.1, 1.5])
def test_laplace_nll_matches_torch(shape, scale):
    x, x_hat = rand(*shape, seed=20), rand(*shape, seed=21)
    expected = -per_sample(Laplace(x_hat, scale).log_prob(x))
    torch.testing.assert_close(laplace_nll(x_hat, x, scale, reduction="none"), expected, **TOL)
    torch.testing.assert_close(laplace_nll(x_hat, x, scale), expected.sum(), **TOL)
    logpdf = scipy.stats.laplace.logpdf(x.numpy(), loc=x_hat.numpy(), scale=scale)
    np.testing.assert_allclose(laplace_nll(x_hat, x, scale).item(), -logpdf.sum(), atol=1e-10)


@pytest.mark.parametrize("shape", SHAPES)
def test_bernoulli_nll_matches_torch_on_binary_data(shape):
    x = (rand(*shape, seed=22, low=0, high=1) > 0.5).double()
    logits = rand(*shape, seed=23, low=-6, high=6)
    expected = -per_sample(Bernoulli(logits=logits).log_prob(x))
    torch.testing.assert_close(bernoulli_nll(logits, x, reduction="none"), expected, **TOL)
    bce = F.binary_cross_entropy_with_logits(logits, x, reduction="sum")
    torch.testing.assert_close(bernoulli_nll(logits, x), bce, **TOL)


@pytest.mark.parametrize("shape", SHAPES)
def test_bernoulli_nll_is_bce_on_grey_data(shape):
    x = rand(*shape, seed=24, low=0, high=1)
    logits = rand(*shape, seed=25, low=-6, high=6)
    lam = torch.sigmoid(logits)
    bce = -(x * torch.log(lam) + (1 - x) * torch.log1p(-lam))
    torch.testing.assert_close(bernoulli_nll(logits, x, reduction="none"), per_sample(bce), **TOL)
    torch.testing.assert_close(
        bernoulli_nll(logits, x, reduction="mean"),
        F.binary_cross_entropy_with_logits(logits, x, reduction="sum") / shape[0],
        **TOL,
    )


def test_continuous_bernoulli_log_normalizer_matches_torch():
    logits = torch.tensor(
        [0.0, 1e-12, -1e-9, 1e-6, 3e-3, -0.05, 0.0999, 0.1, 0.1001, 0.5, -1.0, 4.0, -10.0],
        dtype=torch.float64,
    )
    expected = ContinuousBernoulli(logits=logits)._cont_bern_log_norm()
    torch.testing.assert_close(continuous_bernoulli_log_normalizer(logits), expected, **TOL)


def test_continuous_bernoulli_log_normalizer_closed_form_and_limit():
    # Away from 1/2: log(2 artanh(1 - 2 lam) / (1 - 2 lam)) written out with NumPy.
    logits = np.array([-30.0, -7.0, -0.3, 0.2, 2.0, 25.0, 200.0])
    lam = 1 / (1 + np.exp(-logits))
    expected = np.log(logits / np.tanh(logits / 2))  # = log(2 artanh(1-2 lam)/(1-2 lam))
    direct = np.log(2 * np.arctanh(1 - 2 * lam[2:5]) / (1 - 2 * lam[2:5]))
    np.testing.assert_allclose(direct, expected[2:5], rtol=1e-12)
    got = continuous_bernoulli_log_normalizer(torch.tensor(logits)).numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-13)
    # C(1/2) = 2, and the function is continuous there.
    near = torch.tensor([0.0, 1e-15, 0.049999, 0.050001], dtype=torch.float64)
    got = continuous_bernoulli_log_normalizer(near)
    assert got[0].item() == pytest.approx(math.log(2), abs=1e-15)
    assert got[1].item() == pytest.approx(math.log(2), abs=1e-15)
    assert abs(got[3].item() - got[2].item()) < 1e-7


def test_continuous_bernoulli_log_normalizer_full_precision():
    """Against 50-digit mpmath values of log(eta / tanh(eta / 2)), on both sides of 1/2."""
    mpmath = pytest.importorskip("mpmath")
    logits = [1e-7, -0.001, 0.02, 0.0999, -0.0999, 0.1001, 0.3, -2.0]
    with mpmath.workdps(50):
        expected = [
            float(mpmath.log(mpmath.mpf(e) / mpmath.tanh(mpmath.mpf(e) / 2))) for e in logits
        ]
    got = continuous_bernoulli_log_normalizer(torch.tensor(logits, dtype=torch.float64))
    np.testing.assert_allclose(got.numpy(), expected, rtol=0, atol=2e-15)


def test_continuous_bernoulli_normalizer_integrates_density_to_one():
    logits = torch.tensor([-3.0, -0.2, 1e-8, 0.7, 5.0], dtype=torch.float64)
    grid = np.linspace(0, 1, 20001)
    lam = torch.sigmoid(logits).numpy()[:, None]
    unnormalised = lam**grid * (1 - lam) ** (1 - grid)
    integral = np.trapezoid(unnormalised, grid, axis=1)
    log_c = continuous_bernoulli_log_normalizer(logits).numpy()
    np.testing.assert_allclose(np.exp(log_c) * integral, 1.0, rtol=1e-8)


@pytest.mark.parametrize("shape", SHAPES)
def test_continuous_bernoulli_nll_matches_torch(shape):
    x = rand(*shape, seed=26, low=0, high=1)
    logits = rand(*shape, seed=27, low=-5, high=5)
    logits.view(-1)[:3] = torch.tensor([0.0, 1e-9, -2e-4], dtype=torch.float64)
    expected = -per_sample(ContinuousBernoulli(logits=logits).log_prob(x))
    got = continuous_bernoulli_nll(logits, x, reduction="none")
    torch.testing.assert_close(got, expected, **TOL)
    torch.testing.assert_close(continuous_bernoulli_nll(logits, x), expected.sum(), **TOL)


def test_continuous_bernoulli_gradient_is_finite_at_half():
    logits = torch.tensor([[0.0, 1e-10, 0.3]], dtype=torch.float64, requires_grad=True)
    x = torch.tensor([[0.2, 0.5, 0.9]], dtype=torch.float64)
    continuous_bernoulli_nll(logits, x).backward()
    assert torch.isfinite(logits.grad).all()


# --- KL --------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(3, 5), (4, 2, 8), (1, 1)])
def test_kl_standard_normal_matches_torch(shape):
    mu = rand(*shape, seed=30)
    logvar = rand(*shape, seed=31)
    q = Normal(mu, torch.exp(0.5 * logvar))
    p = Normal(torch.zeros_like(mu), torch.ones_like(mu))
    expected = per_sample(kl_divergence(q, p))
    got = kl_standard_normal(mu, logvar)
    assert got.shape == (shape[0],)
    torch.testing.assert_close(got, expected, **TOL)


def test_kl_is_zero_at_the_prior():
    zeros = torch.zeros(2, 7, dtype=torch.float64)
    assert torch.equal(kl_standard_normal(zeros, zeros), torch.zeros(2, dtype=torch.float64))


# --- optimal_sigma -----------------------------------------------------------------------


@pytest.mark.parametrize("shape", SHAPES)
def test_optimal_sigma_maximises_the_likelihood(shape):
    x, x_hat = rand(*shape, seed=40), rand(*shape, seed=41)
    best = optimal_sigma(x_hat, x)
    assert best.ndim == 0
    # The derivative of the negative log-likelihood in sigma vanishes at the optimum ...
    sigma = best.clone().requires_grad_()
    (grad,) = torch.autograd.grad(gaussian_nll(x_hat, x, sigma), sigma)
    assert abs(grad.item()) < 1e-9
    # ... and no sigma on a fine grid around it does better.
    grid = best.item() * np.linspace(0.5, 1.5, 2001)
    losses = np.array([gaussian_nll(x_hat, x, float(s)).item() for s in grid])
    assert losses.min() >= gaussian_nll(x_hat, x, best).item() - 1e-9
    assert abs(grid[losses.argmin()] - best.item()) <= best.item() * 1e-3


def test_optimal_sigma_is_root_mean_squared_error():
    x = torch.tensor([[0.0, 1.0], [2.0, 2.0]], dtype=torch.float64)
    x_hat = torch.tensor([[1.0, 1.0], [0.0, 3.0]], dtype=torch.float64)
    # squared errors 1, 0, 4, 1: mean 1.5
    assert optimal_sigma(x_hat, x).item() == pytest.approx(math.sqrt(1.5), abs=1e-15)


# --- effective_sigma ---------------------------------------------------------------------


def test_effective_sigma_mse_loss_and_kl_batchmean_is_d_over_2():
    for dim in (64, 784, 3072):
        assert effective_sigma(dim, 128, "mean", "batchmean") ** 2 == pytest.approx(dim / 2)


def test_effective_sigma_mse_loss_and_kl_summed_over_batch():
    s = effective_sigma(data_dim=784, batch_size=128, recon_reduction="mean", kl_reduction="sum")
    assert s**2 == pytest.approx(784 * 128 / 2)
    assert s**2 == pytest.approx(50_176)
    assert s == pytest.approx(224.0)


def test_effective_sigma_other_reductions():
    assert effective_sigma(784, 128, "sum", "sum") == pytest.approx(math.sqrt(0.5))
    assert effective_sigma(784, 128, "batchmean", "batchmean") == pytest.approx(math.sqrt(0.5))
    assert effective_sigma(784, 128, "batchmean", "sum") ** 2 == pytest.approx(64)
    assert effective_sigma(784, 128, "sum", "batchmean") ** 2 == pytest.approx(1 / 256)
    # KL averaged over B * L elements, MSE averaged over B * D elements: sigma^2 = D / (2 L).
    got = effective_sigma(784, 128, "mean", "mean", latent_dim=20)
    assert got**2 == pytest.approx(784 / 40)
    # A KL weight beta multiplies sigma^2.
    assert effective_sigma(784, 1, "sum", "sum", kl_weight=4.0) ** 2 == pytest.approx(2.0)


@pytest.mark.parametrize(
    "recon_reduction, kl_reduction",
    [(r, k) for r in ("sum", "batchmean", "mean") for k in ("sum", "batchmean", "mean")],
)
def test_effective_sigma_loss_is_a_multiple_of_the_gaussian_elbo(recon_reduction, kl_reduction):
    """Build the loss with the given reductions and compare it with the Gaussian -ELBO."""
    batch, dim, latent, kl_weight = 5, 12, 3, 0.7
    x, x_hat = rand(batch, dim, seed=50), rand(batch, dim, seed=51)
    mu, logvar = rand(batch, latent, seed=52), rand(batch, latent, seed=53)
    sq = (x_hat - x) ** 2
    recon = {"sum": sq.sum(), "batchmean": sq.sum() / batch, "mean": F.mse_loss(x_hat, x)}
    kl_elements = 0.5 * (logvar.exp() + mu**2 - 1 - logvar)
    kl = {
        "sum": kl_elements.sum(),
        "batchmean": kl_elements.sum() / batch,
        "mean": kl_elements.mean(),
    }
    loss = recon[recon_reduction] + kl_weight * kl[kl_reduction]
    sigma = effective_sigma(dim, batch, recon_reduction, kl_reduction, latent, kl_weight)
    const = batch * dim / 2 * math.log(2 * math.pi * sigma**2)
    neg_elbo = gaussian_nll(x_hat, x, sigma) - const + kl_standard_normal(mu, logvar).sum()
    # loss = c * neg_elbo for one c > 0: check with a second, different batch.
    c = (loss / neg_elbo).item()
    assert c > 0
    x2 = rand(batch, dim, seed=54)
    sq2 = (x_hat - x2) ** 2
    recon2 = {"sum": sq2.sum(), "batchmean": sq2.sum() / batch, "mean": F.mse_loss(x_hat, x2)}
    loss2 = recon2[recon_reduction] + kl_weight * kl[kl_reduction]
    neg_elbo2 = gaussian_nll(x_hat, x2, sigma) - const + kl_standard_normal(mu, logvar).sum()
    assert (loss2 / neg_elbo2).item() == pytest.approx(c, rel=1e-12)


# --- bad input ---------------------------------------------------------------------------

X = rand(2, 3, seed=60, low=0, high=1)
Y = rand(2, 3, seed=61, low=0, high=1)


def with_nan(t):
    t = t.clone()
    t[0, 0] = float("nan")
    return t


@pytest.mark.parametrize("sigma", [0.0, -1.0, float("nan"), float("inf")])
def test_gaussian_nll_rejects_bad_sigma(sigma):
    with pytest.raises(ValueError, match="sigma"):
        gaussian_nll(Y, X, sigma)


def test_gaussian_nll_rejects_bad_sigma_tensor():
    with pytest.raises(ValueError, match="sigma"):
        gaussian_nll(Y, X, torch.tensor([1.0, 0.0, 1.0], dtype=torch.float64))
    with pytest.raises(ValueError, match="sigma"):
        gaussian_nll(Y, X, torch.tensor([1.0, float("nan"), 1.0], dtype=torch.float64))
    with pytest.raises(ValueError, match="sigma"):
        gaussian_nll(Y, X, torch.ones(4, dtype=torch.float64))  # does not broadcast
    with pytest.raises(ValueError, match="sigma"):
        gaussian_nll(Y, X, torch.ones(5, 2, 3, dtype=torch.float64))  # would grow the batch
    with pytest.raises(ValueError, match="sigma"):
        gaussian_nll(Y, X, torch.tensor(1))  # integer tensor


def test_gaussian_nll_rejects_bool_sigma():
    with pytest.raises(ValueError, match="sigma"):
        gaussian_nll(Y, X, True)


@pytest.mark.parametrize("scale", [0.0, -0.5, float("nan")])
def test_laplace_nll_rejects_bad_scale(scale):
    with pytest.raises(ValueError, match="scale"):
        laplace_nll(Y, X, scale)


def test_rejects_nan_in_x():
    with pytest.raises(ValueError, match=r"^x\b"):
        gaussian_nll(Y, with_nan(X), 1.0)
    with pytest.raises(ValueError, match=r"^x\b"):
        recon_sse(Y, with_nan(X))


def test_rejects_nan_in_x_hat():
    with pytest.raises(ValueError, match=r"^x_hat\b"):
        gaussian_nll(with_nan(Y), X, 1.0)
    with pytest.raises(ValueError, match=r"^x_hat\b"):
        optimal_sigma(with_nan(Y), X)


def test_rejects_nan_in_logits():
    with pytest.raises(ValueError, match=r"^logits\b"):
        bernoulli_nll(with_nan(Y), X)
    with pytest.raises(ValueError, match=r"^logits\b"):
        continuous_bernoulli_log_normalizer(with_nan(Y))


def test_rejects_nan_in_mu_and_logvar():
    with pytest.raises(ValueError, match=r"^mu\b"):
        kl_standard_normal(with_nan(X), Y)
    with pytest.raises(ValueError, match=r"^logvar\b"):
        kl_standard_normal(X, with_nan(Y))


def test_rejects_mismatched_x_and_x_hat():
    with pytest.raises(ValueError, match=r"^x and x_hat\b"):
        recon_sse(rand(2, 4), X)
    with pytest.raises(ValueError, match=r"^x and x_hat\b"):
        gaussian_nll(rand(1, 3), X, 1.0)  # broadcastable, but still refused


def test_rejects_mismatched_x_and_logits():
    with pytest.raises(ValueError, match=r"^x and logits\b"):
        continuous_bernoulli_nll(rand(3, 2), X)


def test_rejects_mismatched_mu_and_logvar():
    with pytest.raises(ValueError, match=r"^mu and logvar\b"):
        kl_standard_normal(rand(2, 4), rand(2, 5))


def test_rejects_integer_x():
    with pytest.raises(ValueError, match=r"^x\b"):
        recon_sse(Y, torch.ones(2, 3, dtype=torch.int64))


def test_rejects_bool_x_for_bernoulli():
    with pytest.raises(ValueError, match=r"^x\b"):
        bernoulli_nll(Y, torch.ones(2, 3, dtype=torch.bool))


def test_rejects_integer_mu():
    with pytest.raises(ValueError, match=r"^mu\b"):
        kl_standard_normal(torch.zeros(2, 3, dtype=torch.int32), Y)


def test_rejects_non_tensor_x_hat():
    with pytest.raises(ValueError, match=r"^x_hat\b"):
        gaussian_nll([[0.0] * 3] * 2, X, 1.0)


def test_rejects_zero_dim_x():
    with pytest.raises(ValueError, match=r"^x\b"):
        recon_sse(torch.tensor(1.0), torch.tensor(1.0))


@pytest.mark.parametrize("bad", [-0.1, 1.1])
def test_bernoulli_rejects_x_outside_unit_interval(bad):
    x = X.clone()
    x[1, 2] = bad
    with pytest.raises(ValueError, match=r"^x\b"):
        bernoulli_nll(Y, x)
    with pytest.raises(ValueError, match=r"^x\b"):
        continuous_bernoulli_nll(Y, x)


@pytest.mark.parametrize(
    "call",
    [
        lambda r: gaussian_nll(Y, X, 1.0, reduction=r),
        lambda r: laplace_nll(Y, X, 1.0, reduction=r),
        lambda r: bernoulli_nll(Y, X, reduction=r),
        lambda r: continuous_bernoulli_nll(Y, X, reduction=r),
    ],
)
@pytest.mark.parametrize("reduction", ["batchmean", "avg", None])
def test_rejects_unknown_reduction(call, reduction):
    with pytest.raises(ValueError, match="reduction"):
        call(reduction)


def test_effective_sigma_rejects_unknown_reductions():
    with pytest.raises(ValueError, match="recon_reduction"):
        effective_sigma(784, 128, recon_reduction="elementwise")
    with pytest.raises(ValueError, match="kl_reduction"):
        effective_sigma(784, 128, kl_reduction="none")


@pytest.mark.parametrize("data_dim", [0, -3, 2.5, True])
def test_effective_sigma_rejects_bad_data_dim(data_dim):
    with pytest.raises(ValueError, match="data_dim"):
        effective_sigma(data_dim, 128)


@pytest.mark.parametrize("batch_size", [0, -1, 1.0])
def test_effective_sigma_rejects_bad_batch_size(batch_size):
    with pytest.raises(ValueError, match="batch_size"):
        effective_sigma(784, batch_size)


def test_effective_sigma_needs_latent_dim_for_mean_kl():
    with pytest.raises(ValueError, match="latent_dim"):
        effective_sigma(784, 128, kl_reduction="mean")
    with pytest.raises(ValueError, match="latent_dim"):
        effective_sigma(784, 128, kl_reduction="mean", latent_dim=0)


@pytest.mark.parametrize("kl_weight", [0.0, -1.0, float("nan")])
def test_effective_sigma_rejects_bad_kl_weight(kl_weight):
    with pytest.raises(ValueError, match="kl_weight"):
        effective_sigma(784, 128, kl_weight=kl_weight)


def test_kl_to_recon_weight_is_twice_the_implied_variance():
    from vaebook.likelihoods import effective_sigma, kl_to_recon_weight

    # F.mse_loss (mean over B*D) + KL summed over latents and batch: one nat of KL weighs as
    # much as B*D units of the mean squared error.
    assert math.isclose(kl_to_recon_weight(784, 128, "mean", "sum"), 128 * 784, rel_tol=1e-12)
    assert math.isclose(
        kl_to_recon_weight(64, 8, "batchmean", "mean", latent_dim=4, kl_weight=2.0),
        0.5,
        rel_tol=1e-12,
    )
    for reductions in (("sum", "sum"), ("mean", "batchmean"), ("batchmean", "mean")):
        weight = kl_to_recon_weight(64, 8, *reductions, latent_dim=4, kl_weight=3.0)
        sigma = effective_sigma(64, 8, *reductions, latent_dim=4, kl_weight=3.0)
        assert abs(weight / 2 - sigma**2) < 1e-12 * weight


def test_member_likelihoods_give_each_member_its_own_likelihood_and_scale():
    """Members grouped by likelihood come back in member order, each with its own σ; a
    learned σ is the parameter log σ, softly floored."""
    import vaebook.likelihoods as lk

    generator = torch.Generator().manual_seed(0)
    x = torch.rand(2, 5, 4, generator=generator)  # one data set per member... of two
    x = torch.cat([x, x[:1]])  # three members
    output = torch.randn(3, 5, 8, generator=generator)  # two outputs per pixel (per-pixel σ)
    names = ["gaussian", "bernoulli", "gaussian-per-pixel"]
    members = lk.MemberLikelihoods(names, torch.tensor([0.3, 1.0, 1.0]), 4)
    nll = members.nll(output, x)
    expected = [
        lk.gaussian_nll(output[0, :, :4], x[0], 0.3),
        lk.bernoulli_nll(output[1, :, :4], x[1]),
        lk.get_likelihood("gaussian-per-pixel").nll(output[2], x[2]).sum(),
    ]
    assert torch.allclose(nll, torch.stack(expected))
    scales = members.pixel_scales(x, output)
    assert torch.all(scales[0] == 0.3) and torch.isnan(scales[1]).all()
    assert torch.allclose(scales[2], output[2, :, 4:].exp())
    assert torch.allclose(members.means(output)[1], torch.sigmoid(output[1, :, :4]))
    learned = lk.MemberLikelihoods(
        [lk.get_likelihood("gaussian-learned", 0.1)] * 2, torch.tensor([0.5, 0.01]), 4
    )
    # exp(soft_floor(log σ, f)) = f · (1 + σ / f) = σ + f
    assert learned.scales().detach().flatten().tolist() == pytest.approx([0.6, 0.11])
    learned.log_scale.data += 1.0  # what an optimiser step does
    assert float(learned.scales().detach()[0]) == pytest.approx(0.5 * math.e + 0.1)

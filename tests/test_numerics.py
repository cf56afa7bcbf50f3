"""Numerics at the edges: every case gives a correct finite value or a clear ValueError.

Each case below used to give a silent NaN or inf, or to crash deep inside torch. Now an extreme
but representable input gives the value that float64 gives (checked against a formula written
out here), and an input whose answer cannot be represented, or that makes no sense, raises a
``ValueError`` whose exact message is asserted.
"""

import math
import re

import pytest
import torch

from vaebook.data import binarise, dequantise
from vaebook.likelihoods import (
    bernoulli_nll,
    continuous_bernoulli_log_normalizer,
    continuous_bernoulli_logit_for_mean,
    continuous_bernoulli_mean,
    continuous_bernoulli_nll,
    gaussian_nll,
    kl_standard_normal,
    laplace_nll,
    optimal_sigma,
    recon_sse,
    soft_floor,
)


def grid(dtype=torch.float32, shape=(3, 16), seed=0):
    generator = torch.Generator().manual_seed(seed)
    return torch.rand(shape, generator=generator, dtype=torch.float64).to(dtype)


def gaussian_reference(x, x_hat, sigma):
    """``-log N`` per sample in float64 from ``z = (x - x_hat) / sigma`` and ``log sigma``."""
    z = (x.double() - x_hat.double()) / sigma
    return (z**2 / 2 + math.log(sigma) + math.log(2 * math.pi) / 2).sum(dim=1)


# --- extreme but representable: the right finite value ---------------------------------------


@pytest.mark.parametrize("sigma", [1e-30, 1e-20, 1e-19, 1e19, 1e20, 1e30])
def test_gaussian_nll_of_a_perfect_reconstruction_is_finite_and_right_at_any_sigma(sigma):
    x = grid()
    value = gaussian_nll(x.clone(), x, sigma, reduction="none")
    assert value.dtype == torch.float32 and torch.isfinite(value).all()
    torch.testing.assert_close(value.double(), gaussian_reference(x, x, sigma), rtol=1e-6, atol=0)


@pytest.mark.parametrize("sigma", [1e19, 1e20, 1e30])
def test_gaussian_nll_with_a_huge_sigma_is_finite_and_right(sigma):
    x, x_hat = grid(seed=1), grid(seed=2)
    value = gaussian_nll(x_hat, x, sigma, reduction="none")
    torch.testing.assert_close(
        value.double(), gaussian_reference(x, x_hat, sigma), rtol=1e-6, atol=0
    )


def test_gaussian_nll_with_a_tiny_per_pixel_sigma_is_finite_and_right():
    x = grid()
    sigma = torch.full((16,), 1e-25)
    value = gaussian_nll(x.clone(), x, sigma, reduction="sum")
    expected = gaussian_reference(x, x, 1e-25).sum()
    assert math.isclose(value.item(), expected.item(), rel_tol=1e-6)


def test_gaussian_nll_in_the_normal_range_is_unchanged_bit_for_bit():
    """The edge handling must not touch ordinary values (the trained numbers depend on them)."""
    x, x_hat = grid(seed=1), grid(seed=2)
    var = torch.tensor(0.3) ** 2
    direct = ((x - x_hat) ** 2 / (2 * var) + 0.5 * torch.log(2 * math.pi * var)).sum(dim=1)
    assert torch.equal(gaussian_nll(x_hat, x, 0.3, reduction="none"), direct)


@pytest.mark.parametrize("mean", [1e-300, 1e-100, 1e-10, 1e-4, 0.3, 0.5, 0.7, 1 - 1e-4, 1 - 1e-10])
def test_continuous_bernoulli_logit_for_mean_finds_extreme_means(mean):
    eta = continuous_bernoulli_logit_for_mean(mean)
    assert torch.isfinite(eta)
    assert math.isclose(continuous_bernoulli_mean(eta).item(), mean, rel_tol=1e-9)


# --- not representable or meaningless: a clear ValueError -----------------------------------

OVERFLOW = (
    "gaussian_nll overflows torch.float32: the squared errors divided by sigma^2 exceed "
    "its largest number. Compute in float64 (.double()) or bring the inputs into a "
    "sensible range"
)


@pytest.mark.parametrize("sigma", [1e-30, 1e-25, 1e-22])
def test_gaussian_nll_whose_value_overflows_float32_says_so(sigma):
    x, x_hat = grid(seed=1), grid(seed=2)
    with pytest.raises(ValueError) as error:
        gaussian_nll(x_hat, x, sigma)
    assert str(error.value) == OVERFLOW
    # the same call in float64 is finite and right
    value = gaussian_nll(x_hat.double(), x.double(), sigma, reduction="none")
    torch.testing.assert_close(value, gaussian_reference(x, x_hat, sigma), rtol=1e-9, atol=0)


@pytest.mark.parametrize("logvar", [89.0, 100.0, 1e4])
def test_kl_that_overflows_float32_says_so_and_names_logvar(logvar):
    mu, lv = torch.zeros(2, 3), torch.zeros(2, 3)
    lv[1, 2] = logvar
    with pytest.raises(ValueError) as error:
        kl_standard_normal(mu, lv)
    assert str(error.value) == (
        f"kl_standard_normal overflows torch.float32: logvar reaches {logvar:g}, mu reaches 0, "
        "and exp(logvar) + mu^2 exceeds its largest number (3.4e+38); an encoder usually "
        "clamps logvar, e.g. to [-30, 20]. Compute in float64 (.double()) or bring the inputs "
        "into a sensible range"
    )


def test_kl_with_a_large_but_representable_logvar_is_right():
    lv = torch.full((1, 2), 80.0)
    value = kl_standard_normal(torch.zeros(1, 2), lv)
    assert math.isclose(value.item(), math.exp(80) - 80 - 1, rel_tol=1e-6)


def _pair(dtype=torch.float32, shape=(3, 16)):
    return grid(dtype, shape, seed=1), grid(dtype, shape, seed=2)


BATCH_FUNCTIONS = {
    "recon_sse": lambda x, y: recon_sse(y, x),
    "gaussian_nll": lambda x, y: gaussian_nll(y, x, 0.5),
    "laplace_nll": lambda x, y: laplace_nll(y, x, 0.5),
    "bernoulli_nll": lambda x, y: bernoulli_nll(y, x),
    "continuous_bernoulli_nll": lambda x, y: continuous_bernoulli_nll(y, x),
    "kl_standard_normal": lambda x, y: kl_standard_normal(x, y),
    "optimal_sigma": lambda x, y: optimal_sigma(y, x),
}
FIRST_ARGUMENT = {"kl_standard_normal": "mu"}


@pytest.mark.parametrize("function", sorted(BATCH_FUNCTIONS))
@pytest.mark.parametrize("shape", [(0, 64), (0,), (4, 0), (0, 8, 8)])
def test_an_empty_batch_is_a_clear_error(function, shape):
    x, y = torch.zeros(shape), torch.zeros(shape)
    name = FIRST_ARGUMENT.get(function, "x")
    with pytest.raises(ValueError) as error:
        BATCH_FUNCTIONS[function](x, y)
    assert str(error.value) == (
        f"{name} is empty (shape {shape}): a batch needs at least one "
        "sample with at least one element"
    )


@pytest.mark.parametrize("function", sorted(BATCH_FUNCTIONS))
@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_half_precision_is_refused_with_the_conversion_to_use(function, dtype):
    x, y = _pair(dtype)
    name = FIRST_ARGUMENT.get(function, "x")
    with pytest.raises(ValueError) as error:
        BATCH_FUNCTIONS[function](x, y)
    assert str(error.value) == (
        f"{name} has dtype {dtype}, too coarse for log-likelihoods in "
        f"nats: convert it with {name}.float() (float32) or "
        f"{name}.double() (float64)"
    )


@pytest.mark.parametrize(
    "function", [continuous_bernoulli_log_normalizer, continuous_bernoulli_mean]
)
@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_half_precision_logits_are_refused(function, dtype):
    with pytest.raises(ValueError, match=re.escape(f"logits has dtype {dtype}, too coarse")):
        function(torch.zeros(3, dtype=dtype))


@pytest.mark.parametrize("floor", [-1, -1e-9, math.nan, math.inf, -math.inf, "0.1", None, True])
def test_soft_floor_refuses_a_floor_that_is_not_a_number_at_least_zero(floor):
    with pytest.raises(ValueError) as error:
        soft_floor(torch.zeros(3), floor)
    assert str(error.value) == f"floor must be a number >= 0 (0 means no floor), got {floor!r}"


@pytest.mark.parametrize("floor", [0, 0.0, 1e-3, 0.5])
def test_soft_floor_accepts_a_floor_of_zero_or_more(floor):
    values = soft_floor(torch.tensor([-20.0, 0.0, 5.0]), floor)
    assert torch.isfinite(values).all()
    assert (values.exp() >= floor).all()


@pytest.mark.parametrize("low, high", [(-0.5, 1.0), (0.0, 1.5), (-1.0, 2.0)])
def test_dequantise_refuses_values_outside_the_unit_interval(low, high):
    x = torch.tensor([[low, 0.5, high]])
    with pytest.raises(ValueError) as error:
        dequantise(x, seed=0)
    assert str(error.value) == f"x must lie in [0, 1], got values in [{low:g}, {high:g}]"


def test_dequantise_refuses_nan():
    with pytest.raises(ValueError, match="^x contains NaN$"):
        dequantise(torch.tensor([[0.5, math.nan]]), seed=0)


@pytest.mark.parametrize("function", [dequantise, binarise])
@pytest.mark.parametrize("bad", [[0.5], torch.tensor([1, 0])])
def test_dequantise_and_binarise_need_a_floating_point_tensor(function, bad):
    arguments = (bad, 0) if function is dequantise else (bad,)
    with pytest.raises(ValueError, match=r"^x must be a floating-point torch.Tensor$"):
        function(*arguments)


@pytest.mark.parametrize("mean", [0.0, 1.0, -0.1, 1.1, math.nan, 1e-310])
def test_continuous_bernoulli_logit_for_mean_refuses_impossible_means(mean):
    with pytest.raises(ValueError, match=r"^mean must "):
        continuous_bernoulli_logit_for_mean(mean)

"""Tests of the named decoder likelihoods, training with them, and the variant comparisons.

Chapters *Training with a learned σ* and *Training other likelihoods side by side* rest on these: a
learned scale settles at the error it sees, the floor holds, members with different likelihoods
train as if alone, and bad input (unknown names, data outside [0, 1] for Bernoulli types) is
refused.
"""

import math

import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from torch.distributions import ContinuousBernoulli, Laplace, Normal  # noqa: E402

from vaebook import cache  # noqa: E402
from vaebook.data import binarise, dequantise  # noqa: E402
from vaebook.experiment import Config, Result, run  # noqa: E402
from vaebook.likelihoods import (
    LIKELIHOOD_NAMES,
    continuous_bernoulli_mean,  # noqa: E402
    get_likelihood,
    soft_floor,
)
from vaebook.models import BatchedMLPVAE  # noqa: E402
from vaebook.plotting import (
    history_figure,
    pixel_maps_figure,
    rate_distortion_figure,  # noqa: E402
    variant_images_figure,
)
from vaebook.training import evaluate, train_vae  # noqa: E402
from vaebook.variants import QUANTISATION_SIGMA  # noqa: E402

SHORT = dict(steps=300, batch_size=256, lr=1e-2, seed=0)
MATCH = dict(rtol=1e-5, atol=1e-6)  # as in test_training: batched == alone


pytestmark = pytest.mark.usefixtures("private_cache")  # an empty cache per test


@pytest.fixture(scope="module")
def small_comparison(tmp_path_factory):
    """Four variants of every kind, 600 steps: enough for a learned σ to settle."""
    import os

    os.environ[cache.ENV_VAR] = str(tmp_path_factory.mktemp("cache"))
    try:
        variants = [
            Config("learned", "gaussian-learned"),
            Config("per pixel", "gaussian-per-pixel", scale_floor=QUANTISATION_SIGMA),
            Config("cb", "continuous-bernoulli"),
            Config("binary", "bernoulli", data="binary"),
        ]
        return run(variants, steps=600, record_every=100, progress=False)
    finally:
        del os.environ[cache.ENV_VAR]


# --- the Likelihood class --------------------------------------------------------------------


def test_unknown_likelihood_names_are_refused_with_the_known_ones():
    with pytest.raises(ValueError, match="unknown likelihood 'mse'.*gaussian-learned"):
        get_likelihood("mse")
    with pytest.raises(ValueError, match="likelihood must be a name"):
        get_likelihood(3)
    with pytest.raises(ValueError, match="scale_floor"):
        get_likelihood("gaussian-learned", scale_floor=-1.0)
    with pytest.raises(ValueError, match="scale_floor"):
        get_likelihood("gaussian-learned", scale_floor=float("nan"))
    with pytest.raises(ValueError, match="has none"):
        get_likelihood("bernoulli", scale_floor=0.1)
    assert get_likelihood("laplace") == get_likelihood("laplace")
    assert get_likelihood("gaussian-learned", 0.1) != get_likelihood("gaussian-learned")
    assert set(LIKELIHOOD_NAMES) >= {"gaussian", "bernoulli", "continuous-bernoulli", "laplace"}


@pytest.mark.parametrize("name", LIKELIHOOD_NAMES)
def test_every_name_is_one_family_class_and_one_way_to_set_its_scale(name):
    floor = 0.01 if name.endswith(("-learned", "-optimal", "-per-pixel")) else 0.0
    likelihood = get_likelihood(name, floor)
    assert likelihood.name == name and name.startswith(likelihood.family)
    assert eval(repr(likelihood), {"get_likelihood": get_likelihood}) == likelihood
    assert likelihood.scale_kind in type(likelihood).scale_kinds
    assert type(likelihood)(likelihood.scale_kind, floor) == likelihood
    assert likelihood.learns_scale == name.endswith("-learned")
    assert likelihood.has_shared_scale == (
        likelihood.outputs_per_pixel == 1 and not likelihood.needs_unit_interval
    )
    frozen = likelihood.frozen()
    assert frozen.family == likelihood.family and not frozen.learns_scale
    assert (frozen is likelihood) == (likelihood.scale_kind in ("fixed", "per-pixel", "none"))


@pytest.mark.parametrize("name", ["bernoulli", "continuous-bernoulli"])
def test_bernoulli_types_refuse_data_outside_the_unit_interval(name):
    likelihood = get_likelihood(name)
    with pytest.raises(ValueError, match=r"must lie in \[0, 1\].*" + name):
        likelihood.check_data(torch.tensor([[0.5, 1.2]]))
    with pytest.raises(ValueError, match=r"must lie in \[0, 1\]"):
        likelihood.check_data(torch.tensor([[-0.1, 0.5]]))
    likelihood.check_data(torch.tensor([[0.0, 1.0]]))
    get_likelihood("gaussian").check_data(torch.tensor([[-3.0, 7.0]]))  # any real value


def test_nll_matches_torch_distributions_for_every_likelihood():
    torch.manual_seed(0)
    x = torch.rand(5, 64, dtype=torch.float64)
    out = torch.randn(5, 64, dtype=torch.float64)
    raw_log_sigma = torch.randn(5, 64, dtype=torch.float64) - 1
    expected = {
        "gaussian": -Normal(out, 0.3).log_prob(x).sum(1),
        "gaussian-learned": -Normal(out, 0.3).log_prob(x).sum(1),
        "laplace": -Laplace(out, 0.3).log_prob(x).sum(1),
        "continuous-bernoulli": None,  # torch's normaliser is wrong at large logits
        "bernoulli": torch.nn.functional.binary_cross_entropy_with_logits(
            out, x, reduction="none"
        ).sum(1),
    }
    for name, value in expected.items():
        got = get_likelihood(name).nll(out, x, 0.3)
        if value is not None:
            torch.testing.assert_close(got, value)
    cb = -ContinuousBernoulli(logits=out.clamp(-5, 5)).log_prob(x).sum(1)
    torch.testing.assert_close(get_likelihood("continuous-bernoulli").nll(out.clamp(-5, 5), x), cb)
    # σ-VAE: σ is sqrt of the MSE of each sample (each row), so the NLL is the profiled one.
    mse = ((x - out) ** 2).mean(1)
    profiled = 64 / 2 * (torch.log(2 * math.pi * mse) + 1)
    torch.testing.assert_close(get_likelihood("gaussian-optimal").nll(out, x), profiled)
    # Per-pixel σ: the second half of the output is log σ.
    per_pixel = get_likelihood("gaussian-per-pixel").nll(torch.cat([out, raw_log_sigma], 1), x)
    torch.testing.assert_close(per_pixel, -Normal(out, raw_log_sigma.exp()).log_prob(x).sum(1))
    with pytest.raises(ValueError, match="scale is needed"):
        get_likelihood("gaussian").nll(out, x)


def test_soft_floor_is_a_smooth_max_and_bounds_the_scale():
    log_scale = torch.linspace(-30, 5, 200, dtype=torch.float64)
    floored = soft_floor(log_scale, 0.02)
    assert (floored.exp() >= 0.02).all()
    assert torch.allclose(floored[log_scale > 2], log_scale[log_scale > 2], atol=3e-3)
    assert torch.allclose(floored[log_scale < -20].exp(), torch.tensor(0.02, dtype=torch.float64))
    assert torch.equal(soft_floor(log_scale, 0.0), log_scale)
    per_pixel = get_likelihood("gaussian-per-pixel", scale_floor=0.02)
    sigma = per_pixel.scale(torch.zeros(1, 3), torch.tensor([[0.0, 0.0, 0.0, -50.0, 0.0, 3.0]]))
    assert sigma[0, 0] >= 0.02 and abs(sigma[0, 2] / math.exp(3) - 1) < 2e-3


def test_continuous_bernoulli_mean_matches_torch_and_is_not_lambda():
    logits = torch.tensor(
        [-20.0, -3.0, -0.5, -1e-3, 0.0, 1e-3, 0.5, 3.0, 20.0], dtype=torch.float64
    )
    torch.testing.assert_close(
        continuous_bernoulli_mean(logits), ContinuousBernoulli(logits=logits).mean
    )
    lam = torch.sigmoid(torch.tensor(-3.0))
    assert abs(continuous_bernoulli_mean(torch.tensor(-3.0)) - lam) > 0.1
    assert get_likelihood("bernoulli").mean(torch.tensor([0.0])) == 0.5


def test_frozen_turns_learned_and_optimal_scales_into_fixed_ones():
    assert get_likelihood("gaussian-learned", 0.1).frozen() == get_likelihood("gaussian")
    assert get_likelihood("gaussian-optimal").frozen() == get_likelihood("gaussian")
    assert get_likelihood("laplace-learned").frozen() == get_likelihood("laplace")
    per_pixel = get_likelihood("gaussian-per-pixel", 0.1)
    assert per_pixel.frozen() is per_pixel


# --- training with likelihoods ---------------------------------------------------------------


def test_train_vae_refuses_bad_likelihood_arguments(digits):
    x_train = digits[0][:64]
    model = BatchedMLPVAE(2, seed=0)
    common = dict(steps=2, batch_size=32, lr=1e-2, seed=0, progress=False)
    with pytest.raises(ValueError, match="unknown likelihood 'l2'"):
        train_vae(model, x_train, [1.0, 1.0], likelihood="l2", **common)
    with pytest.raises(ValueError, match="one name or 2"):
        train_vae(model, x_train, [1.0, 1.0], likelihood=["gaussian"] * 3, **common)
    with pytest.raises(ValueError, match="outputs_per_pixel=2"):
        train_vae(model, x_train, [1.0, 1.0], likelihood="gaussian-per-pixel", **common)
    with pytest.raises(ValueError, match=r"x_train of member 1 must lie in \[0, 1\]"):
        train_vae(
            model, x_train * 2 - 0.5, [1.0, 1.0], likelihood=["gaussian", "bernoulli"], **common
        )
    with pytest.raises(ValueError, match=r"shape \(N, 64\) or \(2, N, 64\)"):
        train_vae(model, torch.stack([x_train] * 3), [1.0, 1.0], **common)
    with pytest.raises(ValueError, match="sigmas must be positive"):
        train_vae(model, x_train, [1.0, 0.0], likelihood="gaussian-learned", **common)


def test_mixed_likelihood_members_train_exactly_as_alone(digits):
    x_train, y_train, x_test, y_test = digits
    names = [
        "gaussian-learned",
        "continuous-bernoulli",
        get_likelihood("gaussian-per-pixel", 0.05),
        "laplace",
    ]
    sigmas = [1.0, 1.0, 1.0, 0.2]
    data = torch.stack([x_train, x_train, x_train, binarise(x_train)])
    test = torch.stack([x_test, x_test, x_test, binarise(x_test)])
    together = BatchedMLPVAE(4, seed=0, outputs_per_pixel=2)
    trained = train_vae(together, data, sigmas, likelihood=names, progress=False, **SHORT)
    measured = evaluate(
        together, test, y_test, np.nan_to_num(trained["scale"], nan=1.0), likelihood=names
    )
    for k, name in enumerate(names):
        alone = BatchedMLPVAE(1, seed=0, outputs_per_pixel=2)
        single = train_vae(alone, data[k], [sigmas[k]], likelihood=name, progress=False, **SHORT)
        np.testing.assert_allclose(single["loss"], trained["loss"][k : k + 1], **MATCH)
        np.testing.assert_allclose(single["scale"], trained["scale"][k : k + 1], **MATCH)
        scale = np.nan_to_num(single["scale"], nan=1.0)
        one = evaluate(alone, test[k], y_test, scale, likelihood=name)
        for key in ("neg_elbo", "mse", "kl", "reconstructions", "prior_samples"):
            np.testing.assert_allclose(one[key], measured[key][k : k + 1], **MATCH)


def test_a_learned_sigma_settles_where_sigma_squared_is_the_mse(digits):
    model = BatchedMLPVAE(2, seed=0)
    trained = train_vae(
        model,
        digits[0],
        [1.0, 0.5],
        likelihood="gaussian-learned",
        steps=800,
        batch_size=256,
        lr=1e-2,
        seed=0,
        progress=False,
    )
    # Both start far from it and end within 2 % of their own root mean squared error.
    np.testing.assert_allclose(trained["scale"], trained["fitted_scale"], rtol=0.02)
    assert (0.1 < trained["scale"]).all() and (trained["scale"] < 0.3).all()


def test_a_fixed_sigma_does_not_move_and_the_optimal_sigma_is_the_rmse(digits):
    model = BatchedMLPVAE(2, seed=0)
    trained = train_vae(
        model,
        digits[0],
        [0.3, 0.3],
        likelihood=["gaussian", "gaussian-optimal"],
        progress=False,
        **SHORT,
    )
    assert trained["scale"][0] == pytest.approx(0.3, rel=1e-6)
    assert trained["scale"][1] == pytest.approx(trained["fitted_scale"][1], rel=1e-6)
    assert trained["fitted_scale"][0] != pytest.approx(0.3, rel=0.05)


def test_record_every_gives_training_curves_and_the_floor_holds(digits):
    model = BatchedMLPVAE(2, seed=0, outputs_per_pixel=2)
    names = [get_likelihood("gaussian-per-pixel", 0.03), "bernoulli"]
    trained = train_vae(
        model, digits[0], [1.0, 1.0], likelihood=names, record_every=100, progress=False, **SHORT
    )
    history = trained["history"]
    assert history["step"].tolist() == [0, 100, 200, 299]
    for key in ("loss", "nll", "kl", "min_scale"):
        assert history[key].shape == (4, 2)
    assert (history["min_scale"][:, 0] >= 0.03).all()
    assert np.isnan(history["min_scale"][:, 1]).all()
    assert np.isnan(trained["scale"]).all()  # no shared scale for either member
    with pytest.raises(ValueError, match="record_every"):
        train_vae(
            model, digits[0], [1.0, 1.0], likelihood=names, record_every=0, progress=False, **SHORT
        )


def test_evaluate_reports_per_pixel_scales_and_per_member_originals(digits):
    x_train, y_train, x_test, y_test = digits
    model = BatchedMLPVAE(2, seed=0, outputs_per_pixel=2)
    names = [get_likelihood("gaussian-per-pixel", 0.03), "gaussian"]
    train_vae(model, x_train, [1.0, 0.2], likelihood=names, progress=False, **SHORT)
    measured = evaluate(
        model, torch.stack([x_test, binarise(x_test)]), y_test, [1.0, 0.2], likelihood=names
    )
    assert measured["pixel_scale"].shape == (2, 64)
    assert (measured["pixel_scale"][0] >= 0.03).all()
    np.testing.assert_allclose(measured["pixel_scale"][1], 0.2, rtol=1e-6)
    assert measured["recon_originals"].shape == (2, 8, 64)
    assert set(np.unique(measured["recon_originals"][1])) <= {0.0, 1.0}


# --- variants --------------------------------------------------------------------------------


def test_variants_are_validated():
    with pytest.raises(ValueError, match="unknown likelihood"):
        Config("x", "gauss")
    with pytest.raises(ValueError, match="sigma"):
        Config("x", "gaussian", sigma=-1.0)
    with pytest.raises(ValueError, match="label"):
        Config("", "gaussian")
    with pytest.raises(ValueError, match="unique"):
        run([Config("a", "gaussian"), Config("a", "laplace")], steps=1)
    with pytest.raises(ValueError, match="non-empty list"):
        run(Config("a", "gaussian"), steps=1)
    with pytest.raises(ValueError, match="data must be one of"):
        Config("x", "gaussian", data="noisy")
    with pytest.raises(ValueError, match="floating-point"):
        binarise(torch.tensor([1, 0]))
    with pytest.raises(ValueError, match="floating-point"):
        dequantise(torch.tensor([1, 0]), seed=0)
    assert binarise(torch.tensor([0.0, 0.5, 0.51, 1.0])).tolist() == [0.0, 0.0, 1.0, 1.0]


def test_run_variants_measures_caches_and_reloads(small_comparison, tmp_path):
    result = small_comparison
    assert result.labels == ["learned", "per pixel", "cb", "binary"]
    assert np.isfinite(result.scale[0]) and np.isnan(result.scale[1:]).all()
    assert result.history["step"][-1] == 599
    result.save(tmp_path / "saved")
    loaded = Result.load(tmp_path / "saved")
    assert loaded.labels == result.labels
    np.testing.assert_array_equal(loaded.history["min_scale"], result.history["min_scale"])
    np.testing.assert_array_equal(loaded.neg_elbo, result.neg_elbo)
    # The rebuilt model reproduces the stored measurements.
    model = loaded.model()
    x, y = loaded.test_data()
    again = evaluate(
        model, x, y, np.nan_to_num(loaded.scale, nan=1.0), likelihood=loaded.likelihoods
    )
    np.testing.assert_allclose(again["neg_elbo"], result.neg_elbo, rtol=1e-6)
    with pytest.raises(ValueError, match="no config is labelled"):
        result.index_of("nope")


def test_per_pixel_nll_sums_to_the_reconstruction_term(small_comparison):
    result = small_comparison
    model = result.model()
    x, y = result.test_data()
    with torch.no_grad():
        output = model.decode(model.encode(x)[0])
    for k, label in enumerate(result.labels):
        per_pixel = result.per_pixel_nll(label)
        assert per_pixel.shape == (450, 64)
        likelihood = result.likelihoods[k].frozen()
        output_k = output[k] if likelihood.outputs_per_pixel == 2 else output[k][:, :64]
        scale = None if np.isnan(result.scale[k]) else float(result.scale[k])
        torch.testing.assert_close(per_pixel.sum(1), likelihood.nll(output_k, x[k], scale))


def test_neg_log_likelihood_lies_below_each_members_bound(small_comparison):
    # Every member of every kind (learned, per-pixel, Bernoulli types, binarised data): the
    # importance-weighted estimate is below the −ELBO, and falls as the samples grow.
    result = small_comparison
    few, many = result.neg_log_likelihood(samples=10), result.neg_log_likelihood(samples=200)
    assert few.shape == many.shape == (len(result.labels),)
    assert (many < result.neg_elbo).all() and (many <= few + 0.05).all(), (
        result.neg_elbo,
        few,
        many,
    )


def test_variant_plots_draw_and_refuse_bad_input(small_comparison):
    import matplotlib.pyplot as plt

    result = small_comparison
    for fig in (
        history_figure(result, ["learned", "per pixel"]),
        variant_images_figure(result),
        pixel_maps_figure({"σ": result.pixel_scale[1]}, log=True),
    ):
        assert fig.axes
        plt.close(fig)
    with pytest.raises(ValueError, match="quantity"):
        history_figure(result, ["learned"], quantity="step")
    with pytest.raises(ValueError, match="no config is labelled"):
        history_figure(result, ["missing"])
    with pytest.raises(ValueError, match="NaN"):
        pixel_maps_figure({"cb": result.pixel_scale[2]})
    with pytest.raises(ValueError, match="at least one"):
        pixel_maps_figure({})

    class Sweep:  # the three fields rate_distortion_figure reads from a SweepResult
        train_kl, train_mse, sigmas = np.array([1.0, 3.0]), np.array([0.05, 0.03]), [1.0, 0.3]

    fig = rate_distortion_figure(Sweep, result, ["learned"])
    assert len(fig.axes[0].lines) == 2
    plt.close(fig)


def test_run_variants_is_deterministic():
    variants = [
        Config("learned", "gaussian-learned"),
        Config("binary", "bernoulli", data="binary"),
        Config("dequantised", "laplace", data="dequantised"),
    ]
    first, second = (
        run(variants, steps=60, record_every=20, cache=False, progress=False) for _ in range(2)
    )
    for name in ("scale", "neg_elbo", "train_neg_elbo", "prior_samples", "reconstructions"):
        np.testing.assert_array_equal(getattr(first, name), getattr(second, name))
    for name, value in first.weights.items():
        np.testing.assert_array_equal(value, second.weights[name])
    other_seed = run(variants, steps=60, seed=1, cache=False, progress=False)
    assert not np.array_equal(other_seed.neg_elbo, first.neg_elbo)


def test_dequantise_spreads_each_grey_level_over_its_own_bin(digits):
    x = digits[0]
    spread = dequantise(x, seed=3)
    level = torch.round(x * 16)
    assert ((spread >= level / 17) & (spread < (level + 1) / 17)).all()
    assert torch.unique(spread).numel() > 0.99 * spread.numel()  # no repeated values
    assert torch.equal(dequantise(x, seed=3), spread)
    assert not torch.equal(dequantise(x, seed=4), spread)


def test_lower_floor_fine_tunes_a_control_and_a_lower_floor(small_comparison):
    from vaebook.variants import lower_floor

    result = small_comparison
    with pytest.raises(ValueError, match="per-pixel σ with a floor; 'learned' is"):
        lower_floor(result, "learned")
    with pytest.raises(ValueError, match="factor must be > 1"):
        lower_floor(result, "per pixel", factor=0.5)
    with pytest.raises(ValueError, match="no config is labelled"):
        lower_floor(result, "nothing")
    lowered = lower_floor(result, "per pixel", steps=30, progress=False)
    floors = [item.scale_floor for item in lowered.configs]
    base = result.configs[result.index_of("per pixel")].scale_floor
    assert floors == pytest.approx([base, base / 10])
    assert lowered.labels == [f"floor {base:.2g}", f"floor {base / 10:.2g}"]
    assert lowered.history["step"][-1] == 29
    # Only the decoder's output layer moved away from the trained member.
    source = result.model()
    k = result.index_of("per pixel")
    for name, value in lowered.weights.items():
        same = np.array_equal(value[0], getattr(source, name)[k].detach().numpy())
        assert same != name.startswith("dec_out"), name
    assert (lowered.train_pixel_scale[1] >= base / 10 * 0.999).all()
    assert lower_floor(result, "per pixel", steps=30, progress=False).from_cache

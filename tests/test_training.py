"""Tests of the batched VAEs, the training loop, the σ sweeps and their cache.

The sweeps here are short (a few hundred steps on a reduced σ grid), so the file runs in well
under a minute; ``bench/training.py`` measures the converged sweep.
"""

import math

import numpy as np
import pytest
import torch

from vaebook import cache, experiment, training
from vaebook.data import load_digits_split
from vaebook.experiment import Result, run_sigma_sweep, sigma_grid, train_single
from vaebook.models import BatchedMLPVAE
from vaebook.training import evaluate, train_vae

SHORT = dict(steps=300, batch_size=256, lr=1e-2, seed=0)
# Batched and lone training run the same float32 arithmetic; only the matrix products differ
# (one bmm over K members vs one per member), which may sum in another order on another BLAS.
# On this machine the parameters come out bitwise equal; a coupling bug between members (noise
# or batches drawn per member, a loss term mixing members) changes them by > 1e-3.
MATCH = dict(rtol=1e-5, atol=1e-6)


pytestmark = pytest.mark.usefixtures("private_cache")  # an empty cache per test


@pytest.fixture(scope="module")
def short_sweep():
    """Four σ from 0.05 to 1.5, 2000 steps: enough for the σ trends, not for convergence.

    Small σ converge slowest: after only ~600 steps a σ below 0.1 still has a *larger* MSE than
    σ = 0.2, so 2000 steps are needed for the trend to show from σ = 0.05 on.
    """
    return run_sigma_sweep(
        [0.05, 0.2, 0.5, 1.5], steps=2000, batch_size=256, lr=1e-2, cache=False, progress=False
    )


# --- data and model ------------------------------------------------------------------------


def test_digits_split_is_fixed_stratified_and_scaled():
    x_train, y_train, x_test, y_test = load_digits_split()
    assert x_train.shape == (1347, 64) and x_test.shape == (450, 64)
    assert x_train.dtype == torch.float32 and y_train.dtype == torch.int64
    assert float(x_train.min()) == 0.0 and float(x_train.max()) == 1.0
    train_share = np.bincount(y_train.numpy()) / len(y_train)
    test_share = np.bincount(y_test.numpy()) / len(y_test)
    np.testing.assert_allclose(train_share, test_share, atol=0.01)
    again = load_digits_split()
    assert torch.equal(again[0], x_train) and torch.equal(again[3], y_test)
    assert not torch.equal(load_digits_split(seed=1)[0], x_train)


def test_model_shapes_and_shared_or_per_member_input():
    model = BatchedMLPVAE(3, hidden_dim=8, latent_dim=2)
    x = torch.rand(5, 64)
    mu, logvar = model.encode(x)
    assert mu.shape == logvar.shape == (3, 5, 2)
    mu3, _ = model.encode(x.expand(3, 5, 64))
    torch.testing.assert_close(mu3, mu)
    x_hat, mu, logvar = model(x, torch.Generator().manual_seed(0))
    assert x_hat.shape == (3, 5, 64) and model.decode(torch.zeros(7, 2)).shape == (3, 7, 64)
    with pytest.raises(ValueError, match="x must have shape"):
        model.encode(torch.rand(5, 63))


def test_copy_member_from_copies_exactly_one_member():
    source = BatchedMLPVAE(3, seed=1)
    with torch.no_grad():
        for param in source.parameters():
            param.add_(torch.arange(3.0).reshape(3, 1, 1))  # make the members differ
    target = BatchedMLPVAE(2, seed=2)
    untouched = target.enc_hidden_weight[0].clone()
    target.copy_member_from(source, source_index=2, target_index=1)
    torch.testing.assert_close(target.enc_hidden_weight[1], source.enc_hidden_weight[2])
    torch.testing.assert_close(target.enc_hidden_weight[0], untouched)
    z = torch.randn(4, 2)
    torch.testing.assert_close(source.member(2).decode(z)[0], source.decode(z)[2])


# --- training ------------------------------------------------------------------------------


def test_batched_training_matches_each_sigma_trained_alone(digits):
    x_train, y_train, x_test, y_test = digits
    sigmas = [0.03, 0.2, 1.0]
    batched = BatchedMLPVAE(3)
    train_vae(batched, x_train, sigmas, progress=False, **SHORT)
    together = evaluate(batched, x_test, y_test, sigmas)
    for k, sigma in enumerate(sigmas):
        alone = BatchedMLPVAE(1)
        train_vae(alone, x_train, [sigma], progress=False, **SHORT)
        for name, param in alone.named_parameters():
            torch.testing.assert_close(param[0], getattr(batched, name)[k], **MATCH)
        single = evaluate(alone, x_test, y_test, [sigma])
        for name in ("neg_elbo", "mse", "kl", "latent_means", "prior_samples"):
            np.testing.assert_allclose(single[name][0], together[name][k], **MATCH)


def test_train_single_matches_member_of_sweep():
    sigmas = [0.05, 0.5]
    sweep = run_sigma_sweep(sigmas, cache=False, progress=False, **SHORT)
    alone = train_single(0.5, progress=False, **SHORT)
    np.testing.assert_allclose(alone.neg_elbo[0], sweep.neg_elbo[1], **MATCH)
    np.testing.assert_allclose(alone.reconstructions[0], sweep.reconstructions[1], **MATCH)


def test_kl_falls_and_reconstruction_error_rises_as_sigma_grows(short_sweep):
    assert np.all(np.diff(short_sweep.sigmas) > 0)
    assert np.all(np.diff(short_sweep.kl) < -0.5), short_sweep.kl
    assert np.all(np.diff(short_sweep.train_kl) < -0.5), short_sweep.train_kl
    # On the training digits (what σ trades off) the MSE rises with σ at every step of the grid.
    # On the test digits small σ overfit, so only the collapse at σ = 1.5 is clear-cut there.
    assert np.all(np.diff(short_sweep.train_mse) > 0), short_sweep.train_mse
    assert np.all(short_sweep.mse[-1] > short_sweep.mse[:-1] + 0.02), short_sweep.mse
    # σ = 1.5 is far above every pixel's spread: the posterior collapses onto the prior and
    # x_hat is the mean image, whose MSE is the data's variance per pixel (≈ 0.073).
    assert short_sweep.kl[-1] < 0.05 and short_sweep.active_units[-1] == 0
    assert short_sweep.active_units[0] == 2
    assert abs(short_sweep.mse[-1] - 0.073) < 0.005


def test_evaluate_shapes_and_consistency(short_sweep):
    n = len(short_sweep.sigmas)
    assert short_sweep.kl_per_latent.shape == (n, 2)
    np.testing.assert_allclose(short_sweep.kl_per_latent.sum(axis=1), short_sweep.kl, rtol=1e-5)
    np.testing.assert_allclose(short_sweep.recon_sse, 64 * short_sweep.mse, rtol=1e-6)
    assert short_sweep.reconstructions.shape == (n, 8, 64)
    assert short_sweep.prior_samples.shape == (n, 16, 64)
    assert short_sweep.latent_means.shape == (n, 450, 2) and short_sweep.latent_labels.shape == (
        450,
    )
    assert list(short_sweep.recon_labels) == list(range(8))  # one image of each digit 0..7
    # σ = 1.5 collapses: x_hat no longer depends on z, so the sampled −ELBO equals the NLL
    # at the posterior mean plus the KL (with the constant (D/2) log(2 pi sigma^2)).
    sigma = short_sweep.sigmas[-1]
    constant = 32 * math.log(2 * math.pi * sigma**2)
    nll_at_mean = short_sweep.recon_sse[-1] / (2 * sigma**2) + constant
    assert abs(short_sweep.neg_elbo[-1] - (nll_at_mean + short_sweep.kl[-1])) < 0.05


@pytest.mark.parametrize("sigma", [1e-3, 10.0])
def test_extreme_sigmas_give_finite_numbers(sigma):
    result = train_single(sigma, steps=100, batch_size=256, lr=1e-2, progress=False)
    for name in ("neg_elbo", "mse", "kl", "kl_per_latent", "reconstructions", "prior_samples"):
        assert np.isfinite(getattr(result, name)).all(), name


def test_training_is_deterministic():
    first = run_sigma_sweep(
        [0.1, 0.4], cache=False, progress=False, steps=100, batch_size=64, lr=1e-2, seed=3
    )
    second = run_sigma_sweep(
        [0.1, 0.4], cache=False, progress=False, steps=100, batch_size=64, lr=1e-2, seed=3
    )
    other = run_sigma_sweep(
        [0.1, 0.4], cache=False, progress=False, steps=100, batch_size=64, lr=1e-2, seed=4
    )
    for name in ("neg_elbo", "reconstructions", "latent_means"):
        np.testing.assert_array_equal(getattr(first, name), getattr(second, name))
    assert not np.array_equal(first.neg_elbo, other.neg_elbo)


@pytest.mark.parametrize(
    "sigmas, message",
    [
        ([0.1, 0.0], "positive"),
        ([0.1, -0.5], "positive"),
        ([0.1, float("nan")], "NaN"),
        ([float("inf")], "finite"),
        ([], "at least one"),
        (["a"], "sigmas"),
    ],
)
def test_bad_sigmas_raise_a_clear_value_error(digits, sigmas, message):
    model = BatchedMLPVAE(max(len(sigmas), 1))
    with pytest.raises(ValueError, match=message) as error:
        train_vae(model, digits[0], sigmas, progress=False, **SHORT)
    assert "sigmas" in str(error.value)
    with pytest.raises(ValueError, match="sigmas"):
        run_sigma_sweep(sigmas, steps=1, progress=False)


@pytest.mark.parametrize(
    "change, name",
    [
        (dict(x_train=torch.rand(10, 63)), "x_train"),
        (dict(x_train=torch.ones(10, 64, dtype=torch.int64)), "x_train"),
        (dict(x_train=torch.full((10, 64), float("nan"))), "x_train"),
        (dict(steps=0), "steps"),
        (dict(batch_size=0), "batch_size"),
        (dict(lr=-1.0), "lr"),
        (dict(kl_weight=float("nan")), "kl_weight"),
        (dict(sigmas=[0.1, 0.2, 0.3]), "one σ per member"),
    ],
)
def test_bad_training_arguments_name_the_argument(change, name):
    arguments = dict(x_train=torch.rand(10, 64), sigmas=[0.1, 0.2], **SHORT)
    arguments.update(change)
    model = BatchedMLPVAE(2)
    with pytest.raises(ValueError, match=name):
        train_vae(
            model, arguments.pop("x_train"), arguments.pop("sigmas"), progress=False, **arguments
        )


# --- σ grid and results --------------------------------------------------------------------


def test_sigma_grid_is_log_spaced_and_validated():
    grid = sigma_grid()
    assert len(grid) == 12 and grid[0] == pytest.approx(0.03) and grid[-1] == pytest.approx(1.5)
    np.testing.assert_allclose(np.diff(np.log(grid)), np.log(50) / 11)
    np.testing.assert_array_equal(sigma_grid(1, 0.2, 0.4), [0.2])
    for bad in (
        dict(n=0),
        dict(low=0.0),
        dict(low=-1.0),
        dict(low=0.5, high=0.5),
        dict(high=float("nan")),
    ):
        with pytest.raises(ValueError, match=next(iter(bad))):
            sigma_grid(**bad)


def test_result_save_load_roundtrip_and_index_of(short_sweep, tmp_path):
    short_sweep.save(tmp_path / "sweep")
    loaded = Result.load(tmp_path / "sweep")
    for name in short_sweep._array_fields():
        np.testing.assert_array_equal(getattr(loaded, name), getattr(short_sweep, name))
    assert loaded.hyperparameters == short_sweep.hyperparameters
    x_test = load_digits_split()[2]
    with torch.no_grad():
        mu, _ = loaded.model().encode(x_test)
    np.testing.assert_allclose(mu.numpy(), short_sweep.latent_means, rtol=1e-6, atol=1e-6)
    assert loaded.index_of(0.01) == 0 and loaded.index_of(100.0) == len(loaded.sigmas) - 1
    assert loaded.index_of(float(short_sweep.sigmas[2]) * 1.05) == 2
    for bad in (0.0, -1.0, float("nan")):
        with pytest.raises(ValueError, match="sigma"):
            loaded.index_of(bad)
    with pytest.raises(ValueError, match="path"):
        Result.load(tmp_path / "nothing-here")


# --- cache ---------------------------------------------------------------------------------


def test_cache_hit_returns_identical_arrays_without_training(monkeypatch, tmp_path):
    arguments = dict(steps=50, batch_size=128, lr=1e-2, progress=False)
    first = run_sigma_sweep([0.1, 0.5], **arguments)
    assert not first.from_cache
    assert any((tmp_path / "cache").iterdir())

    def no_training(*args, **kwargs):
        raise AssertionError("a cache hit must not train")

    monkeypatch.setattr(training, "train_vae", no_training)
    second = run_sigma_sweep([0.1, 0.5], **arguments)
    assert second.from_cache
    for name in first._array_fields():
        np.testing.assert_array_equal(getattr(second, name), getattr(first, name))
    with pytest.raises(AssertionError, match="must not train"):
        run_sigma_sweep([0.1, 0.5], **{**arguments, "steps": 51})


def test_cache_key_depends_on_hyperparameters_code_and_location(monkeypatch, tmp_path):
    params = dict(sigmas=[0.1, 0.5], steps=50, lr=0.01)
    key = cache.cache_key("sigma-sweep", params)
    assert key == cache.cache_key("sigma-sweep", dict(params))
    assert key != cache.cache_key("sigma-sweep", {**params, "steps": 51})
    assert key != cache.cache_key("sigma-sweep", {**params, "sigmas": [0.1, 0.6]})
    assert key != cache.cache_key("other-kind", params)
    assert key != cache.cache_key("sigma-sweep", params, ("vaebook.experiment",))
    real = cache.source_fingerprint
    monkeypatch.setattr(
        cache, "source_fingerprint", lambda modules: {**real(modules), "vaebook.models": "edited"}
    )
    assert key != cache.cache_key("sigma-sweep", params)
    assert cache.cache_dir() == tmp_path / "cache"


def test_cache_dir_defaults_to_the_repository_when_editable(monkeypatch):
    monkeypatch.delenv(cache.ENV_VAR)
    repository = experiment.__file__.rsplit("/src/vaebook/", 1)[0]
    assert str(cache.cache_dir()) == f"{repository}/.cache/vaebook"


def test_source_fingerprint_covers_every_module_that_shapes_a_result():
    names = set(cache.source_fingerprint(("vaebook.experiment",)))
    for module in ("likelihoods", "data", "models", "training", "experiment", "cache"):
        assert f"vaebook.{module}" in names
    assert "vaebook.linear" in cache.source_fingerprint(("vaebook.linear",))


def test_a_custom_loss_trains_like_the_gaussian_loss_it_is_proportional_to():
    """F.mse_loss(reduction='mean') + KL is the Gaussian -ELBO at the effective σ, scaled."""
    import torch.nn.functional as F

    from vaebook.data import load_digits_split
    from vaebook.likelihoods import effective_sigma, kl_standard_normal
    from vaebook.models import BatchedMLPVAE
    from vaebook.training import evaluate, train_vae

    x_train, y_train, _, _ = load_digits_split()
    x_train, y_train = x_train[:256], y_train[:256]
    sigma = effective_sigma(data_dim=64, batch_size=256, recon_reduction="mean", kl_reduction="sum")

    def mse_mean_loss(x_hat, x, mu, logvar):
        recon = torch.stack([F.mse_loss(member, x) for member in x_hat])
        kl = torch.stack([kl_standard_normal(m, lv).sum() for m, lv in zip(mu, logvar)])
        return recon + kl

    results = []
    for loss_fn in (mse_mean_loss, None):
        model = BatchedMLPVAE(1, seed=0)
        train_vae(
            model,
            x_train,
            [sigma],
            steps=200,
            batch_size=256,
            lr=1e-2,
            seed=0,
            progress=False,
            loss_fn=loss_fn,
        )
        results.append(evaluate(model, x_train, y_train, [sigma]))
    wild, gaussian = results
    np.testing.assert_allclose(wild["kl"], gaussian["kl"], atol=1e-3)
    np.testing.assert_allclose(wild["mse"], gaussian["mse"], rtol=1e-3)


def test_a_custom_loss_must_return_one_finite_loss_per_member():
    from vaebook.data import load_digits_split
    from vaebook.models import BatchedMLPVAE
    from vaebook.training import train_vae

    x_train = load_digits_split()[0][:64]
    model = BatchedMLPVAE(2, seed=0)
    common = dict(steps=1, batch_size=64, lr=1e-2, seed=0, progress=False)
    with pytest.raises(ValueError, match="loss_fn"):
        train_vae(model, x_train, [0.1, 0.2], loss_fn=lambda xh, x, m, lv: xh.sum(), **common)
    with pytest.raises(ValueError, match="loss_fn"):
        train_vae(model, x_train, [0.1, 0.2], loss_fn="mse", **common)
    with pytest.raises(ValueError, match="NaN"):
        train_vae(
            model,
            x_train,
            [0.1, 0.2],
            loss_fn=lambda xh, x, m, lv: torch.full((2,), float("nan")),
            **common,
        )


def test_one_kl_weight_per_member_trains_each_member_as_its_own_beta_vae():
    """A batched model with kl_weight=[b1, b2] matches two runs with kl_weight=b1 and b2."""
    from vaebook.data import load_digits_split
    from vaebook.models import BatchedMLPVAE
    from vaebook.training import evaluate, train_vae

    x_train, y_train, _, _ = load_digits_split()
    x_train, y_train = x_train[:256], y_train[:256]
    common = dict(steps=100, batch_size=128, lr=1e-2, seed=0, progress=False)
    both = BatchedMLPVAE(2, seed=0)
    train_vae(both, x_train, [0.2, 0.2], kl_weight=[0.5, 4.0], **common)
    together = evaluate(both, x_train, y_train, [0.2, 0.2], kl_weight=[0.5, 4.0])
    for k, beta in enumerate([0.5, 4.0]):
        alone = BatchedMLPVAE(1, seed=0)
        train_vae(alone, x_train, [0.2], kl_weight=beta, **common)
        single = evaluate(alone, x_train, y_train, [0.2], kl_weight=beta)
        np.testing.assert_allclose(together["kl"][k], single["kl"][0], rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(together["objective"][k], single["objective"][0], rtol=1e-5)
    assert together["kl"][0] > together["kl"][1], "a larger β should buy a smaller KL"


def test_kl_weights_must_match_the_members():
    from vaebook.training import check_kl_weights

    assert check_kl_weights(2.0, 3).tolist() == [2.0, 2.0, 2.0]
    with pytest.raises(ValueError, match="kl_weight"):
        check_kl_weights([1.0, 2.0], 3)
    with pytest.raises(ValueError, match="kl_weight"):
        check_kl_weights([1.0, -2.0], 2)


def test_cache_key_depends_on_the_floating_point_path_and_the_pins(monkeypatch):
    params = dict(sigmas=[0.1], steps=50)
    for name in ("MKL_CBWR", "ATEN_CPU_CAPABILITY", "VAEBOOK_THREADS"):
        monkeypatch.delenv(name, raising=False)
    key = cache.cache_key("sigma-sweep", params)
    monkeypatch.setenv("MKL_CBWR", "COMPATIBLE")
    compatible = cache.cache_key("sigma-sweep", params)
    assert compatible != key, "a result from another floating-point path was reused"
    monkeypatch.setenv("VAEBOOK_THREADS", "2")
    assert cache.cache_key("sigma-sweep", params) not in (key, compatible)
    real = cache.environment()
    monkeypatch.setattr(cache, "environment", lambda: {**real, "numpy": "0.0"})
    assert cache.cache_key("sigma-sweep", params) not in (key, compatible)


def test_presentation_modules_shape_no_result():
    """Editing plotting, widgets, claims, ... does not retrain: no module that computes a cached
    result imports them, so they are in no result's fingerprint."""
    presentation = {
        "vaebook.plotting",
        "vaebook.widgets",
        "vaebook.claims",
        "vaebook.symbolic",
        "vaebook.calculator",
        "vaebook.audit",
    }
    for root in ("vaebook.experiment", "vaebook.linear"):
        assert not set(cache.source_fingerprint((root,))) & presentation


def test_training_runs_on_the_book_s_threads_and_restores_the_caller_s(monkeypatch, digits):
    import torch

    x_train = digits[0][:64]
    before = torch.get_num_threads()
    seen = []
    original = training._train

    def spy(*args, **kwargs):
        seen.append(torch.get_num_threads())
        return original(*args, **kwargs)

    monkeypatch.setattr(training, "_train", spy)
    monkeypatch.setenv("VAEBOOK_THREADS", "1")
    train_vae(
        BatchedMLPVAE(1), x_train, [0.2], steps=2, batch_size=64, lr=1e-2, seed=0, progress=False
    )
    assert seen == [1] and torch.get_num_threads() == before
    monkeypatch.setenv("VAEBOOK_THREADS", "many")
    with pytest.raises(ValueError, match="VAEBOOK_THREADS must be an integer >= 1, got 'many'"):
        train_vae(
            BatchedMLPVAE(1),
            x_train,
            [0.2],
            steps=2,
            batch_size=64,
            lr=1e-2,
            seed=0,
            progress=False,
        )


def test_the_default_seed_comes_from_vaebook_seed(monkeypatch):
    from vaebook import settings

    monkeypatch.delenv("VAEBOOK_SEED", raising=False)
    assert settings.default_seed() == 0
    monkeypatch.setenv("VAEBOOK_SEED", "3")
    assert settings.default_seed() == 3
    quick = dict(steps=20, batch_size=256, progress=False)
    assert run_sigma_sweep([0.3], **quick).configs[0].seed == 3
    assert run_sigma_sweep([0.3], seed=5, **quick).configs[0].seed == 5
    for bad in ("-1", "two", "1.5"):
        monkeypatch.setenv("VAEBOOK_SEED", bad)
        with pytest.raises(ValueError, match="VAEBOOK_SEED must be an integer >= 0"):
            settings.default_seed()


def test_diverging_training_names_the_step_the_loss_and_the_remedy(digits):
    model = BatchedMLPVAE(1, seed=0)
    with pytest.raises(
        training.TrainingDiverged,
        match=r"training diverged at step \d+ of 200: .*lower lr \(now 1e\+06\)",
    ):
        train_vae(
            model, digits[0], [0.05], steps=200, batch_size=256, lr=1e6, seed=0, progress=False
        )


def test_trainable_trains_only_the_named_layers(digits):
    model = BatchedMLPVAE(1, seed=0)
    before = {name: param.detach().clone() for name, param in model.named_parameters()}
    train_vae(
        model,
        digits[0][:128],
        [0.2],
        steps=5,
        batch_size=128,
        lr=1e-2,
        seed=0,
        progress=False,
        trainable=("dec_out",),
    )
    for name, param in model.named_parameters():
        changed = not torch.equal(param, before[name])
        assert changed == name.startswith("dec_out"), name
        assert param.requires_grad, f"{name} was left frozen after training"
    for bad in ((), "dec_out", ("nothing",), (3,)):
        with pytest.raises(ValueError, match="trainable"):
            train_vae(
                model,
                digits[0][:128],
                [0.2],
                steps=1,
                batch_size=128,
                lr=1e-2,
                seed=0,
                progress=False,
                trainable=bad,
            )


# --- importance_weighted_nll (chapter *Training other likelihoods side by side*) ---------------


def _linear_gaussian(seed: int, orthogonal: bool):
    """A linear VAE (float64) with a known marginal ``p(x) = N(b, W Wᵀ + σ² I)``; with
    ``orthogonal`` columns of W its encoder is set to the exact posterior."""
    from vaebook.models import BatchedLinearVAE

    generator = torch.Generator().manual_seed(seed)
    data_dim, latent_dim, sigma = 6, 2, 0.3
    model = BatchedLinearVAE(1, data_dim, latent_dim, seed=seed)
    w = torch.randn(data_dim, latent_dim, generator=generator, dtype=torch.float64)
    if orthogonal:
        w = torch.linalg.qr(w)[0] * torch.tensor([1.5, 0.7], dtype=torch.float64)
    b = torch.randn(data_dim, generator=generator, dtype=torch.float64)
    with torch.no_grad():
        model.dec_weight.copy_(w.T.unsqueeze(0))
        model.dec_bias.copy_(b.reshape(1, 1, -1))
        if orthogonal:  # q(z | x) = p(z | x): mean M⁻¹ Wᵀ (x − b) / σ², variance σ² M⁻¹
            m_diag = (w**2).sum(dim=0) + sigma**2
            model.enc_weight.copy_((w / m_diag).unsqueeze(0))
            model.enc_bias.copy_(-(b @ (w / m_diag)).reshape(1, 1, -1))
            model.enc_logvar.copy_(torch.log(sigma**2 / m_diag).reshape(1, 1, -1))
    marginal = torch.distributions.MultivariateNormal(
        b, w @ w.T + sigma**2 * torch.eye(data_dim, dtype=torch.float64)
    )
    z = torch.randn(40, latent_dim, generator=generator, dtype=torch.float64)
    x = b + z @ w.T + sigma * torch.randn(40, data_dim, generator=generator, dtype=torch.float64)
    return model, x, sigma, -marginal.log_prob(x).numpy()


def test_importance_weighted_nll_is_exact_with_the_exact_posterior():
    # With q(z | x) = p(z | x) every importance weight equals p(x): one sample is exact.
    model, x, sigma, exact = _linear_gaussian(seed=0, orthogonal=True)
    for samples in (1, 7):
        estimate = training.importance_weighted_nll(model, x, [sigma], samples=samples)
        assert estimate.shape == (1, 40)
        np.testing.assert_allclose(estimate[0], exact, rtol=0, atol=1e-9)


def test_importance_weighted_nll_tightens_towards_the_exact_value():
    # A poor encoder: the bound must fall with more samples and end near the exact −log p(x).
    model, x, sigma, exact = _linear_gaussian(seed=1, orthogonal=False)
    means = [
        float(training.importance_weighted_nll(model, x, [sigma], samples=samples, seed=3).mean())
        for samples in (1, 10, 100, 3000)
    ]
    assert means[0] > means[1] > means[2] > means[3] > exact.mean() - 0.05, (means, exact.mean())
    assert means[0] - exact.mean() > 1.0, "the encoder must be poor for this test to mean much"
    assert means[3] - exact.mean() < 0.1 * (means[0] - exact.mean()), (means, exact.mean())


def test_importance_weighted_nll_with_one_sample_is_the_elbo_estimate():
    # S = 1: −log p(x | z) − log p(z) + log q(z | x) at one z, whose expectation is the
    # −ELBO; the linear VAE's −ELBO is known exactly (linear_vae_neg_elbo). Compare the mean
    # over 200 seeds with it, within 4 standard errors of that mean.
    from vaebook.linear import linear_vae_neg_elbo

    model, x, sigma, _ = _linear_gaussian(seed=5, orthogonal=True)
    with torch.no_grad():  # an encoder near the posterior, not on it: the bound is not tight
        model.enc_logvar.add_(0.7)
        model.enc_bias.add_(0.3)
    draws = np.stack(
        [
            training.importance_weighted_nll(model, x, [sigma], samples=1, seed=seed)[0]
            for seed in range(200)
        ]
    )
    exact = float(linear_vae_neg_elbo(model, x, [sigma])[0])
    error = draws.mean(axis=1).std(ddof=1) / math.sqrt(len(draws))
    assert abs(draws.mean() - exact) < 4 * error, (draws.mean(), exact, error)
    assert error < 0.05, "too noisy for the comparison to mean much"
    assert exact - float(_linear_gaussian(seed=5, orthogonal=True)[3].mean()) > 0.1


# --- KL annealing and free bits (chapter *A recipe for a sound VAE loss*) --------------------


def _trained(**options):
    """Two members trained for 6 steps on random grey images; returns (model, result)."""
    x = torch.rand(40, 64, generator=torch.Generator().manual_seed(3))
    model = BatchedMLPVAE(2, hidden_dim=16, latent_dim=3, seed=5)
    result = train_vae(
        model, x, [0.3, 1.2], steps=6, batch_size=16, lr=1e-2, seed=2, progress=False, **options
    )
    return model, result


def _same_weights(a, b) -> bool:
    return all(torch.equal(p, q) for p, q in zip(a.state_dict().values(), b.state_dict().values()))


def test_warmup_weight_grows_linearly_to_one():
    assert training.warmup_weight(0, 0) == 1.0
    assert training.warmup_weight(0, 4) == 0.25 and training.warmup_weight(3, 4) == 1.0
    np.testing.assert_allclose(training.warmup_weight(np.arange(6), 4), [0.25, 0.5, 0.75, 1, 1, 1])


def test_kl_warmup_weights_the_kl_step_by_step():
    # one step of a 2-step warm-up is one step at half the KL weight
    x = torch.rand(40, 64, generator=torch.Generator().manual_seed(3))
    models = [BatchedMLPVAE(2, hidden_dim=16, latent_dim=3, seed=5) for _ in range(2)]
    train_vae(
        models[0],
        x,
        [0.3, 1.2],
        steps=1,
        batch_size=16,
        lr=1e-2,
        seed=2,
        progress=False,
        kl_warmup=2,
    )
    train_vae(
        models[1],
        x,
        [0.3, 1.2],
        steps=1,
        batch_size=16,
        lr=1e-2,
        seed=2,
        progress=False,
        kl_weight=0.5,
    )
    assert _same_weights(*models)
    # a warm-up of one step is no warm-up; a long one trains differently
    assert _same_weights(_trained(kl_warmup=1)[0], _trained()[0])
    assert not _same_weights(_trained(kl_warmup=1000)[0], _trained()[0])
    # per member: only the member with a warm-up changes
    plain, annealed = _trained()[0], _trained(kl_warmup=[0, 1000])[0]
    assert torch.equal(plain.dec_out_weight[0], annealed.dec_out_weight[0])
    assert not torch.equal(plain.dec_out_weight[1], annealed.dec_out_weight[1])


def test_free_bits_above_every_kl_make_the_kl_free():
    """A floor above every latent's KL leaves no gradient on the KL: kl_weight = 0 exactly."""
    free, result = _trained(free_bits=1e6)
    autoencoder, plain_result = _trained(kl_weight=0.0)
    assert _same_weights(free, autoencoder)
    np.testing.assert_array_equal(result["kl"], plain_result["kl"])  # the true KL, no floor
    assert np.all(result["loss"] > 1e6)  # the loss counts the floor: 3 latents × 1e6
    assert not _same_weights(_trained(free_bits=1e-3)[0], autoencoder)


def test_members_that_hold_their_sigma_train_and_evaluate_like_sigmas_handed_in():
    """run() hands train_vae a MemberLikelihoods (the σ inside); the loop must not care."""
    from vaebook.likelihoods import MemberLikelihoods

    x, y, _, _ = load_digits_split()
    x, y = x[:200], y[:200]
    names, sigmas = ["gaussian", "gaussian-learned", "gaussian-optimal"], [0.2, 0.5, 1.0]
    arguments = dict(steps=40, batch_size=50, lr=1e-2, seed=1, progress=False, record_every=10)
    plain_model, held_model = (BatchedMLPVAE(3, hidden_dim=16, seed=2) for _ in range(2))
    plain = train_vae(plain_model, x, sigmas, likelihood=names, **arguments)
    members = MemberLikelihoods(names, torch.tensor(sigmas), 64)
    held = train_vae(held_model, x, likelihood=members, **arguments)
    for name in ("loss", "nll", "kl", "scale", "fitted_scale"):
        np.testing.assert_array_equal(held[name], plain[name])
    assert held["scale"][1] != 0.5  # the learned σ moved, inside `members`
    first = evaluate(plain_model, x, y, plain["scale"], likelihood=names, seed=3)
    second = evaluate(held_model, x, y, likelihood=members.frozen(held["scale"]), seed=3)
    for name in ("neg_elbo", "mse", "kl", "pixel_scale"):
        np.testing.assert_array_equal(second[name], first[name])

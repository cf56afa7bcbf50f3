"""The losses of real VAE code (chapter *Reading real VAE code*): what the auditor reads from
each, that the evaluation σ of every fixed-σ entry is the audited one, and the adapter that
trains one member per loss."""

from __future__ import annotations

import math

import pytest
import torch

from vaebook import audit_loss
from vaebook.experiment import Config, run
from vaebook.real_code import (
    AUTOENCODER_KL_WEIGHT,
    CODE_LOSSES,
    SOFTCLIP_MIN,
    _latent_diffusion,
    _pytorch_example,
    _pytorch_example_2017,
    digits_loss,
    member_losses,
    pytorch_vae,
    sigma_vae,
)

B, PIXELS, N_TRAIN = 256, 64, 1347

# key: (family, scale, beta, depends on batch size, depends on image size), from the formulas
EXPECTED = {
    "pytorch-example-2017": ("bernoulli", None, 1.0, True, True),
    "pytorch-example": ("bernoulli", None, 1.0, False, False),
    "keras-io-2020": ("bernoulli", None, 0.5, False, False),  # β = 1/L with L = 2 latents
    "keras-io": ("bernoulli", None, 1.0, False, False),
    "keras-example-mse": ("gaussian", math.sqrt(0.5), 1.0, False, False),
    "pytorch-vae": ("gaussian", math.sqrt(PIXELS * 0.00025 / 2), 1.0, False, True),
    "pytorch-vae-2020": ("gaussian", math.sqrt(PIXELS * (B / N_TRAIN) / 2), 1.0, False, True),
    "sigma-vae-optimal": ("unknown", None, None, None, None),
    "latent-diffusion": ("laplace", AUTOENCODER_KL_WEIGHT, 1.0, False, False),
    "diffusers-autoencoder-kl": (
        "gaussian",
        math.sqrt(AUTOENCODER_KL_WEIGHT / 2),
        1.0,
        False,
        False,
    ),
}


def audit(loss, shape=(8, 8), latent_dim=2, batch_size=B):
    return audit_loss(loss, image_shape=shape, latent_dim=latent_dim, batch_size=batch_size)


@pytest.mark.parametrize("key", list(CODE_LOSSES))
def test_the_auditor_reads_each_code_loss_as_its_formula_says(key):
    family, scale, beta, on_batch, on_image = EXPECTED[key]
    result = audit(digits_loss(key, batch_size=B, pixels=PIXELS, n_train=N_TRAIN))
    assert result.family == family
    assert result.depends_on_batch_size is on_batch and result.depends_on_image_size is on_image
    if scale is not None:
        assert result.scale == pytest.approx(scale, rel=1e-6)
    if beta is not None:
        assert result.beta == pytest.approx(beta, rel=1e-6)


def test_every_fixed_sigma_entry_is_evaluated_at_its_audited_sigma():
    for key, item in CODE_LOSSES.items():
        family, scale, *_ = EXPECTED[key]
        if family in ("gaussian", "laplace") and key != "pytorch-vae-2020":
            assert item.sigma == pytest.approx(scale, rel=1e-9), key
        assert item.sigmoid == (family == "bernoulli"), key


def test_pytorch_vae_sigma_grows_with_the_image_and_sigma_vae_is_softclipped():
    celeba = audit(pytorch_vae(0.00025), shape=(3, 64, 64), latent_dim=128, batch_size=4)
    assert celeba.scale == pytest.approx(math.sqrt(3 * 64 * 64 * 0.00025 / 2), rel=1e-6)
    log_sigma = math.log(0.2)
    clipped = math.exp(SOFTCLIP_MIN + math.log1p(math.exp(log_sigma - SOFTCLIP_MIN)))
    assert audit(sigma_vae(log_sigma)).scale == pytest.approx(clipped, rel=1e-6)
    assert clipped > 0.2 * 1.001  # the soft clip moves σ by more than 0.1 % at σ = 0.2
    learned = audit(_latent_diffusion(logvar_scalar=math.log(0.05)))
    assert learned.scale == pytest.approx(AUTOENCODER_KL_WEIGHT * 0.05, rel=1e-6)


def test_the_2017_pytorch_loss_is_the_2018_one_over_b_d_on_a_full_batch_only():
    generator = torch.Generator().manual_seed(0)
    x, x_hat = torch.rand(4, 6, generator=generator), torch.rand(4, 6, generator=generator)
    mu, logvar = torch.randn(4, 2, generator=generator), torch.randn(4, 2, generator=generator)
    old = _pytorch_example_2017(batch_size=4, pixels=6)
    assert old(x_hat, x, mu, logvar) == pytest.approx(
        float(_pytorch_example(x_hat, x, mu, logvar)) / 24, rel=1e-6
    )
    # a last batch of 2 images: the KL is still divided by the configured 4·6
    assert old(x_hat[:2], x[:2], mu[:2], logvar[:2]) != pytest.approx(
        float(_pytorch_example(x_hat[:2], x[:2], mu[:2], logvar[:2])) / 12, rel=1e-3
    )


def test_member_losses_trains_member_k_with_loss_k_through_its_sigmoid():
    def first(x_hat, x, mu, logvar):
        return x_hat.sum()

    def second(x_hat, x, mu, logvar):
        return (x_hat * 2).sum() + mu.sum()

    loss_fn = member_losses([first, second], [True, False])
    x_hat, mu = torch.zeros(2, 3, 4), torch.ones(2, 3, 1)
    values = loss_fn(x_hat, torch.zeros(3, 4), mu, torch.zeros(2, 3, 1))
    assert values.tolist() == [6.0, 3.0]  # sigmoid(0) = 1/2 on 12 pixels; 0 + 3
    with pytest.raises(ValueError, match="the model has 3 members but 2 losses"):
        loss_fn(torch.zeros(3, 3, 4), torch.zeros(3, 4), torch.ones(3, 3, 1), torch.zeros(3, 3, 1))


def test_a_code_loss_variant_trains_with_its_loss_not_its_likelihood():
    """Two members, one loss: the Keras --mse loss labelled as σ = 0.1 and σ = 1 trains the
    same VAE (its σ is the loss's √½, the label σ only sets the evaluation)."""
    variants = [
        Config("a", "gaussian", sigma=0.1, code_loss="keras-example-mse"),
        Config("b", "gaussian", sigma=1.0, code_loss="keras-example-mse"),
    ]
    result = run(variants, steps=30, cache=False, progress=False)
    assert result.kl_per_latent[0].tolist() == result.kl_per_latent[1].tolist()
    assert result.mse[0] == result.mse[1]
    plain = run(
        [Config("a", "gaussian", sigma=0.1), Config("b", "gaussian", sigma=1.0)],
        steps=30,
        cache=False,
        progress=False,
    )
    assert plain.kl[0] != plain.kl[1]

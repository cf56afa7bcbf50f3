"""The VAE losses of widely used code, rewritten as formulas for the digits.

Introduced in chapter *Reading real VAE code*. Each entry of :data:`CODE_LOSSES` is our own
implementation of the loss one project computes (its reductions, weights and constants), read
from the commit named in ``source``; none of the projects' code is copied. Every loss has the
signature of :func:`vaebook.audit_loss`, ``loss(x_hat, x, mu, logvar)`` for one batch: ``x`` and
``x_hat`` are ``(B, *image_shape)`` (``x_hat`` the decoder's mean: a probability where the
project's decoder ends in a sigmoid), ``mu`` and ``logvar`` are ``(B, L)``, and the result is
a scalar. Constants that the projects fix for their own data (a batch size, a pixel count, a
training-set size) are set for the digits by :func:`digits_loss`.

:func:`member_losses` turns losses of this signature into the ``loss_fn`` of
:func:`vaebook.training.train_vae`; a :class:`~vaebook.experiment.Config` with a ``code_loss``
trains with it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from vaebook._checks import check_number
from vaebook.likelihoods import LIKELIHOOD_NAMES, _kl_standard_normal, soft_floor

__all__ = [
    "CodeLoss",
    "CODE_LOSSES",
    "digits_loss",
    "member_losses",
    "train_loss",
    "pytorch_vae",
    "sigma_vae",
    "SOFTCLIP_MIN",
    "AUTOENCODER_KL_WEIGHT",
    "PYTORCH_VAE_KLD_WEIGHT",
]

SOFTCLIP_MIN = -6.0
"""The σ-VAE's soft lower bound on ``log σ``: ``softclip(t) = -6 + softplus(t + 6)``."""

AUTOENCODER_KL_WEIGHT = 1e-6
"""``kl_weight`` of the latent-diffusion autoencoder configs (and ``--kl_scale`` of diffusers)."""

PYTORCH_VAE_KLD_WEIGHT = 0.00025
"""``kld_weight`` of PyTorch-VAE's ``configs/vae.yaml`` (since its December 2021 version)."""


def _flat(x: torch.Tensor) -> torch.Tensor:
    return x.reshape(x.shape[0], -1)


def _pytorch_example_2017(batch_size: int, pixels: int) -> Callable:
    """pytorch/examples ``vae/main.py`` from October 2017 to January 2018: binary
    cross-entropy averaged over all ``B·D`` numbers of the batch, plus the KL summed over
    latents and batch and divided by the *configured* batch size times the pixel count."""

    def loss(x_hat, x, mu, logvar):
        return F.binary_cross_entropy(x_hat, x) + _kl_standard_normal(mu, logvar).sum() / (
            batch_size * pixels
        )

    return loss


def _pytorch_example(x_hat, x, mu, logvar):
    """pytorch/examples ``vae/main.py`` since February 2018: binary cross-entropy and KL,
    both summed over everything (pixels or latents, and the batch)."""
    return F.binary_cross_entropy(x_hat, x, reduction="sum") + _kl_standard_normal(mu, logvar).sum()


def _keras_io_2020(x_hat, x, mu, logvar):
    """The keras.io VAE example as first published (May 2020, quoted in keras-io issue 270):
    the binary cross-entropy averaged over all ``B·D`` numbers times the pixel count (a
    per-image sum averaged over the batch), plus the KL averaged over the batch *and* the
    latents: the KL weighs ``1/L`` of the ELBO's, β = 1/L."""
    pixels, latents = _flat(x).shape[1], mu.shape[1]
    bce = pixels * F.binary_cross_entropy(_flat(x_hat), _flat(x))
    return bce + _kl_standard_normal(mu, logvar).mean() / latents  # the mean over B·L numbers


def _keras_io(x_hat, x, mu, logvar):
    """The keras.io VAE example after its KL fix (and its Keras 3 version of 2024): per image
    the binary cross-entropy summed over pixels plus the KL summed over latents, averaged over
    the batch."""
    bce = F.binary_cross_entropy(_flat(x_hat), _flat(x), reduction="none").sum(dim=1)
    return (bce + _kl_standard_normal(mu, logvar)).mean()


def _keras_example_mse(x_hat, x, mu, logvar):
    """Keras' ``examples/variational_autoencoder.py`` run with ``--mse`` (2018-2019): per image
    the mean squared error times the number of pixels (its sum) plus the summed KL, averaged
    over the batch."""
    pixels = _flat(x).shape[1]
    squared = pixels * ((_flat(x) - _flat(x_hat)) ** 2).mean(dim=1)
    return (squared + _kl_standard_normal(mu, logvar)).mean()


def pytorch_vae(kld_weight: float) -> Callable:
    """AntixK/PyTorch-VAE's ``VanillaVAE.loss_function``: ``F.mse_loss`` with its default
    reduction (the mean over all ``B·C·H·W`` numbers) plus ``kld_weight`` times the KL summed
    over latents and averaged over the batch.

    Introduced in chapter *Reading real VAE code*. ``kld_weight`` must be a number > 0.
    """
    kld_weight = check_number(kld_weight, "kld_weight")

    def loss(x_hat, x, mu, logvar):
        return F.mse_loss(x_hat, x) + kld_weight * _kl_standard_normal(mu, logvar).mean()

    return loss


def sigma_vae(log_sigma: float) -> Callable:
    """The σ-VAE (orybkin/sigma-vae-pytorch, ``--model sigma_vae``) at one value of its learned
    ``log σ``: the Gaussian negative log-likelihood with one σ for every pixel, soft-clipped
    below at ``SOFTCLIP_MIN``, and the KL, both summed over everything.

    Introduced in chapter *Reading real VAE code*. ``log_sigma`` must be a finite number.
    """
    if (
        isinstance(log_sigma, bool)
        or not isinstance(log_sigma, (int, float))
        or not (math.isfinite(log_sigma))
    ):
        raise ValueError(f"log_sigma must be a finite number, got {log_sigma!r}")

    def loss(x_hat, x, mu, logvar):
        return _sigma_vae_loss(x_hat, x, mu, logvar, torch.as_tensor(log_sigma, dtype=x.dtype))

    return loss


def _sigma_vae_optimal(x_hat, x, mu, logvar):
    """The σ-VAE with ``--model optimal_sigma_vae``: as :func:`sigma_vae`, with ``log σ`` the
    log of the root mean squared error of the batch (over all ``B·D`` numbers, not detached)."""
    return _sigma_vae_loss(x_hat, x, mu, logvar, ((x - x_hat) ** 2).mean().sqrt().log())


def _sigma_vae_loss(x_hat, x, mu, logvar, log_sigma: torch.Tensor) -> torch.Tensor:
    """The σ-VAE's loss at ``log_sigma``: its soft clip is the book's :func:`soft_floor` at
    ``e^SOFTCLIP_MIN``; the Gaussian NLL with every constant and the KL, summed over all."""
    log_s = soft_floor(log_sigma, math.exp(SOFTCLIP_MIN))
    nll = 0.5 * ((x - x_hat) / log_s.exp()) ** 2 + log_s + 0.5 * math.log(2 * math.pi)
    return nll.sum() + _kl_standard_normal(mu, logvar).sum()


def _latent_diffusion(
    logvar_scalar: float = 0.0, kl_weight: float = AUTOENCODER_KL_WEIGHT
) -> Callable:
    """The latent-diffusion (Stable Diffusion) autoencoder's ``LPIPSWithDiscriminator``
    without its perceptual and adversarial terms: per pixel ``|x - x_hat| / e^s + s`` with one
    scalar ``s`` (``logvar``, 0 at the start), summed over pixels and batch and divided by
    ``B``, plus ``kl_weight`` times the KL summed over latents and divided by ``B``."""

    def loss(x_hat, x, mu, logvar):
        s = torch.as_tensor(logvar_scalar, dtype=x.dtype)
        nll = (x - x_hat).abs() / s.exp() + s
        return (
            nll.sum() / x.shape[0] + kl_weight * _kl_standard_normal(mu, logvar).sum() / x.shape[0]
        )

    return loss


def _diffusers_autoencoder_kl(x_hat, x, mu, logvar):
    """diffusers' ``train_autoencoderkl.py`` (2025) with its defaults, without the perceptual
    term (computed without gradient there) and the adversarial one: squared error summed over
    pixels and batch, divided by ``B``, plus ``1e-6`` times the KL summed and divided by ``B``."""
    return (
        ((x - x_hat) ** 2).sum() + AUTOENCODER_KL_WEIGHT * _kl_standard_normal(mu, logvar).sum()
    ) / x.shape[0]


@dataclass(frozen=True)
class CodeLoss:
    """One project's VAE loss: where it comes from and how to train and evaluate it.

    Used behind the scenes in chapter *Reading real VAE code*. ``title`` names the project,
    ``source`` the file and commit (or version) the formula was read from, ``cite`` the key of
    the book's bibliography. ``sigmoid`` says whether the project's decoder ends in a sigmoid
    (its loss then gets probabilities); ``likelihood`` is what :func:`~vaebook.training.evaluate`
    measures the trained VAE as (``"bernoulli"`` for a sigmoid decoder), at scale ``sigma``.
    """

    title: str
    source: str
    cite: str
    sigmoid: bool
    likelihood: str
    sigma: float = 1.0

    def __post_init__(self):
        if self.likelihood not in LIKELIHOOD_NAMES:
            raise ValueError(
                f"unknown likelihood {self.likelihood!r}; known likelihoods: "
                f"{', '.join(LIKELIHOOD_NAMES)}"
            )
        check_number(self.sigma, "sigma")


CODE_LOSSES: dict[str, CodeLoss] = {
    "pytorch-example-2017": CodeLoss(
        "PyTorch VAE example, 2017",
        "pytorch/examples vae/main.py at 8256aee (January 2018)",
        "pytorchexamples2018fix",
        True,
        "bernoulli",
    ),
    "pytorch-example": CodeLoss(
        "PyTorch VAE example, since 2018",
        "pytorch/examples vae/main.py since 963f7d1 (February 2018, PR 296)",
        "pytorchexamples2018fix",
        True,
        "bernoulli",
    ),
    "keras-io-2020": CodeLoss(
        "keras.io VAE example, 2020",
        "keras-io examples/generative/vae.py of May 2020, as quoted in keras-io issue 270",
        "kerasio270",
        True,
        "bernoulli",
    ),
    "keras-io": CodeLoss(
        "keras.io VAE example, KL summed",
        "keras-io examples/generative/vae.py after the KL fix (Keras 3 version April 2024)",
        "chollet2020vae",
        True,
        "bernoulli",
    ),
    "keras-example-mse": CodeLoss(
        "Keras VAE example, --mse",
        "keras examples/variational_autoencoder.py, 0ba6d95 (May 2018) to d7ea34f (April 2019)",
        "kerasexample2019vae",
        False,
        "gaussian",
        math.sqrt(0.5),
    ),
    "pytorch-vae": CodeLoss(
        "PyTorch-VAE, kld_weight 0.00025",
        "AntixK/PyTorch-VAE models/vanilla_vae.py and configs/vae.yaml at af3f9a5 (December 2021)",
        "subramanian2020pytorchvae",
        False,
        "gaussian",
        math.sqrt(64 * PYTORCH_VAE_KLD_WEIGHT / 2),
    ),
    "pytorch-vae-2020": CodeLoss(
        "PyTorch-VAE, 2020 (M_N = B/N)",
        "AntixK/PyTorch-VAE experiment.py at 8700d24 (March 2020)",
        "subramanian2020pytorchvae",
        False,
        "gaussian",
        1.0,
    ),
    "sigma-vae-optimal": CodeLoss(
        "σ-VAE, optimal σ",
        "orybkin/sigma-vae-pytorch model.py at 8873c56 (June 2020)",
        "rybkin2021simple",
        False,
        "gaussian-optimal",
    ),
    "latent-diffusion": CodeLoss(
        "Latent-diffusion autoencoder",
        "CompVis/latent-diffusion ldm/modules/losses/"
        "contperceptual.py at e66308c (December 2021), kl_weight 1e-6 from its configs",
        "rombach2022high",
        False,
        "laplace",
        AUTOENCODER_KL_WEIGHT,
    ),
    "diffusers-autoencoder-kl": CodeLoss(
        "diffusers AutoencoderKL training",
        "huggingface/diffusers examples/research_projects/"
        "autoencoderkl/train_autoencoderkl.py at 4fa2459 (January 2025)",
        "vonplaten2022diffusers",
        False,
        "gaussian",
        math.sqrt(AUTOENCODER_KL_WEIGHT / 2),
    ),
}
"""The losses of chapter *Reading real VAE code*, by key (the chapter trains them all)."""


def digits_loss(key: str, *, batch_size: int, pixels: int, n_train: int) -> Callable:
    """The loss ``key`` of :data:`CODE_LOSSES` with its constants set for the digits.

    Introduced in chapter *Reading real VAE code*. ``batch_size`` is the configured batch size
    (the 2017 PyTorch example divides its KL by it, and PyTorch-VAE's 2020 weight is
    ``batch_size / n_train``), ``pixels`` the pixel count the 2017 example hard-codes (784
    there) and PyTorch-VAE's weight is scaled by below, ``n_train`` the training-set size.
    """
    if key not in CODE_LOSSES:
        raise ValueError(f"unknown code loss {key!r}; the keys are {list(CODE_LOSSES)}")
    for name, value in (("batch_size", batch_size), ("pixels", pixels), ("n_train", n_train)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive int, got {value!r}")
    if key == "pytorch-example-2017":
        return _pytorch_example_2017(batch_size, pixels)
    if key == "pytorch-vae":
        return pytorch_vae(PYTORCH_VAE_KLD_WEIGHT)
    if key == "pytorch-vae-2020":
        return pytorch_vae(batch_size / n_train)
    if key == "latent-diffusion":
        return _latent_diffusion()
    return {
        "pytorch-example": _pytorch_example,
        "keras-io-2020": _keras_io_2020,
        "keras-io": _keras_io,
        "keras-example-mse": _keras_example_mse,
        "sigma-vae-optimal": _sigma_vae_optimal,
        "diffusers-autoencoder-kl": _diffusers_autoencoder_kl,
    }[key]


def member_losses(losses: list[Callable], sigmoid: list[bool]) -> Callable:
    """The ``loss_fn`` of :func:`~vaebook.training.train_vae` that trains member ``k`` with
    ``losses[k]`` (signature ``loss(x_hat, x, mu, logvar)``), its decoder output passed
    through a sigmoid where ``sigmoid[k]``.

    Used behind the scenes in chapter *Reading real VAE code*.
    """
    if len(losses) != len(sigmoid) or not losses or not all(map(callable, losses)):
        raise ValueError("losses must be a non-empty list of callables, one sigmoid flag each")

    def loss_fn(x_hat, x, mu, logvar):
        if x_hat.shape[0] != len(losses):
            raise ValueError(f"the model has {x_hat.shape[0]} members but {len(losses)} losses")
        values = []
        for k, loss in enumerate(losses):
            value = loss(torch.sigmoid(x_hat[k]) if sigmoid[k] else x_hat[k], x, mu[k], logvar[k])
            if not isinstance(value, torch.Tensor) or value.dim() != 0:
                raise ValueError(
                    f"loss {k} must return a scalar tensor (one number for the "
                    f"batch), got {getattr(value, 'shape', type(value).__name__)}"
                )
            values.append(value)
        return torch.stack(values)

    return loss_fn


def train_loss(
    loss: Callable,
    *,
    sigmoid: bool = False,
    steps: int,
    batch_size: int = 256,
    lr: float = 1e-2,
    seed: int = 0,
) -> dict:
    """Train one VAE of the σ sweep's architecture with ``loss(x_hat, x, mu, logvar)`` on the
    training digits and measure it on the test digits.

    Used behind the scenes in chapter *Reading real VAE code*; assignment 3 (the bug zoo) and
    its hidden tests train with it. With ``sigmoid`` the decoder's output goes through a
    sigmoid before the loss sees it (a loss with a binary cross-entropy), and the VAE is
    measured as a Bernoulli decoder; otherwise as a Gaussian one with σ = 1 (only its −ELBO
    depends on that σ). Returns the dictionary of :func:`~vaebook.training.evaluate`.
    """
    from vaebook.data import load_digits_split
    from vaebook.models import BatchedMLPVAE
    from vaebook.training import evaluate, train_vae

    if not callable(loss):
        raise ValueError(f"loss must be a callable loss(x_hat, x, mu, logvar), got {loss!r}")
    if not isinstance(sigmoid, bool):
        raise ValueError(f"sigmoid must be True or False, got {sigmoid!r}")
    x_train, _, x_test, y_test = load_digits_split()
    likelihood = "bernoulli" if sigmoid else "gaussian"
    model = BatchedMLPVAE(1, seed=seed)
    train_vae(
        model,
        x_train,
        [1.0],
        likelihood=likelihood,
        loss_fn=member_losses([loss], [sigmoid]),
        steps=steps,
        batch_size=batch_size,
        lr=lr,
        seed=seed,
        progress=False,
    )
    return evaluate(model, x_test, y_test, [1.0], likelihood=likelihood, seed=seed)

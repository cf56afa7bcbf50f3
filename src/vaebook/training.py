"""The one training loop and the one evaluation of the book's VAEs.

Every chapter trains through :func:`train_vae` and measures through :func:`evaluate`. Member
``k`` of a :class:`~vaebook.models.BatchedMLPVAE` is trained with a Gaussian decoder of fixed
``sigma[k]``; the loss of a member is the batch mean of ``gaussian_nll + kl_weight * KL`` (both
from :mod:`vaebook.likelihoods`), and the members' losses are summed. The members share no
parameter, so the gradient of the sum with respect to member ``k``'s weights is the gradient
of member ``k``'s own loss, and Adam acts elementwise: each member trains exactly as if alone.
"""

from __future__ import annotations

import math
from numbers import Integral, Real

import numpy as np
import torch
from tqdm.auto import tqdm

from vaebook.likelihoods import gaussian_nll, kl_standard_normal, recon_sse
from vaebook.models import BatchedVAE

__all__ = [
    "ACTIVE_UNIT_THRESHOLD",
    "NEG_ELBO_SAMPLES",
    "LR_FLOOR",
    "PROGRESS_DELAY_SECONDS",
    "check_sigmas",
    "train_vae",
    "evaluate",
]

ACTIVE_UNIT_THRESHOLD = 0.01
"""A latent dimension is *active* when its KL, averaged over the data, exceeds this (nats)."""

NEG_ELBO_SAMPLES = 8
"""Fixed-seed posterior samples per image used to estimate the −ELBO in :func:`evaluate`."""

LR_FLOOR = 0.01
"""The cosine learning-rate schedule decays from ``lr`` to ``LR_FLOOR * lr``."""

PROGRESS_DELAY_SECONDS = 2.0
"""With ``progress="auto"`` the bar appears only once training has lasted this long."""


def check_sigmas(sigmas, name: str = "sigmas") -> torch.Tensor:
    """Validate a list of decoder σ values and return it as a 1-D float64 tensor.

    Introduced in chapter *σ trades reconstruction against KL*. Raises :class:`ValueError`
    (naming ``name``) for an empty list, a non-number, NaN, ±inf or a σ ≤ 0.
    """
    if isinstance(sigmas, Real) and not isinstance(sigmas, bool):
        sigmas = [sigmas]
    try:
        values = torch.as_tensor(
            sigmas.detach().cpu() if isinstance(sigmas, torch.Tensor) else sigmas,
            dtype=torch.float64).reshape(-1)
    except (TypeError, ValueError, RuntimeError) as error:
        raise ValueError(
            f"{name} must be a sequence of positive numbers, got {sigmas!r}") from error
    if values.numel() == 0:
        raise ValueError(f"{name} must hold at least one σ, got an empty sequence")
    if torch.isnan(values).any():
        raise ValueError(f"{name} contains NaN: {values.tolist()}")
    if not (values > 0).all() or torch.isinf(values).any():
        raise ValueError(f"{name} must be positive and finite, got {values.tolist()}")
    return values


def _check_int(value, name: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, Integral) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _check_number(value, name: str, *, allow_zero: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, Real) or math.isnan(value):
        raise ValueError(f"{name} must be a number, got {value!r}")
    if not (value >= 0 if allow_zero else value > 0) or math.isinf(value):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be finite and {bound}, got {value!r}")
    return float(value)


def check_kl_weights(kl_weight, n_models: int, dtype=torch.float32) -> torch.Tensor:
    """One KL weight per member, shape ``(K,)``: a number (shared) or a sequence of ``K``.

    Introduced in chapter *σ trades reconstruction against KL* (a β-VAE per member).
    """
    if isinstance(kl_weight, (list, tuple, np.ndarray, torch.Tensor)):
        values = [float(v) for v in (kl_weight.tolist() if hasattr(kl_weight, "tolist")
                                     else kl_weight)]
        if len(values) != n_models:
            raise ValueError(f"kl_weight must be one number or {n_models} numbers (one per "
                             f"member), got {len(values)}")
        weights = [_check_number(v, "kl_weight", allow_zero=True) for v in values]
    else:
        weights = [_check_number(kl_weight, "kl_weight", allow_zero=True)] * n_models
    return torch.tensor(weights, dtype=dtype)


def _check_data(x, model: BatchedVAE, name: str) -> torch.Tensor:
    if not isinstance(x, torch.Tensor):
        raise ValueError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    if not x.is_floating_point():
        raise ValueError(f"{name} must have a floating-point dtype, got {x.dtype}")
    if x.ndim != 2 or x.shape[1] != model.data_dim or x.shape[0] < 1:
        raise ValueError(
            f"{name} must have shape (N, {model.data_dim}) with N >= 1, got {tuple(x.shape)}")
    if not torch.isfinite(x).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    return x.to(model.dtype)


def _check_model(model, sigmas: torch.Tensor) -> None:
    if not isinstance(model, BatchedVAE):
        raise ValueError("model must be a BatchedMLPVAE or BatchedLinearVAE (a BatchedVAE), "
                         f"got {type(model).__name__}")
    if sigmas.numel() != model.n_models:
        raise ValueError(
            f"sigmas must hold one σ per member: the model has {model.n_models} members, "
            f"got {sigmas.numel()} σ values")


def _member_sigma(sigmas: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """σ as shape ``(K, 1, 1)``, broadcastable to member-first tensors ``(K, B, D)``."""
    return sigmas.to(dtype).reshape(-1, 1, 1)


def _batch_mean(per_member_total: torch.Tensor, batch: int) -> torch.Tensor:
    return per_member_total / batch


def member_losses(x: torch.Tensor, x_hat: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor,
                  sigma: torch.Tensor, kl_weight: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Batch means of ``gaussian_nll`` and of the KL for each member: two tensors of shape ``(K,)``.

    Introduced in chapter *σ trades reconstruction against KL*. ``x`` is ``(B, D)``,
    ``x_hat`` is ``(K, B, D)``, ``mu`` and ``logvar`` are ``(K, B, L)``, ``sigma`` is
    ``(K, 1, 1)``. The likelihood functions sum over every dimension but the first, so with
    the member axis first they return each member's total over its batch.
    """
    batch = x.shape[0]
    nll = gaussian_nll(x.expand_as(x_hat), x_hat, sigma, reduction="none")
    kl = kl_standard_normal(mu, logvar)
    return _batch_mean(nll, batch), _batch_mean(kl, batch)


def _learning_rate(lr: float, step: int, steps: int) -> float:
    """Cosine decay from ``lr`` at step 0 to ``LR_FLOOR * lr`` at the last step."""
    progress = step / max(steps - 1, 1)
    return lr * (LR_FLOOR + (1 - LR_FLOOR) * 0.5 * (1 + math.cos(math.pi * progress)))


def _batches(n: int, batch_size: int, steps: int, generator: torch.Generator):
    """Index tensors of ``batch_size`` images drawn from successive random permutations.

    With ``batch_size >= n`` every step uses the whole data set (``None``: no indexing).
    """
    if batch_size >= n:
        for _ in range(steps):
            yield None
        return
    order, position = torch.randperm(n, generator=generator), 0
    for _ in range(steps):
        if position + batch_size > n:
            order, position = torch.randperm(n, generator=generator), 0
        yield order[position:position + batch_size]
        position += batch_size


def _progress_bar(steps: int, progress, description: str):
    if progress not in (True, False, "auto"):
        raise ValueError(f'progress must be True, False or "auto", got {progress!r}')
    delay = PROGRESS_DELAY_SECONDS if progress == "auto" else 0.0
    return tqdm(total=steps, desc=description, disable=progress is False, delay=delay,
                leave=progress is True, mininterval=0.5)


def train_vae(model: BatchedVAE, x_train: torch.Tensor, sigmas, *, kl_weight: float = 1.0,
              steps: int, batch_size: int, lr: float, seed: int, progress=True,
              lr_schedule: str = "cosine", loss_fn=None) -> dict[str, np.ndarray]:
    """Train member ``k`` of ``model`` as a VAE with a Gaussian decoder of fixed ``sigmas[k]``.

    Introduced in chapter *σ trades reconstruction against KL*. The loss of member ``k`` is
    the batch mean of ``gaussian_nll(x, x_hat_k, sigma_k) + kl_weight * KL_k``; the members'
    losses are summed and minimised with Adam. Trains ``model`` in place and returns the
    per-member loss, reconstruction term and KL of the last step (numpy arrays of shape
    ``(K,)``).

    Args:
        model: a :class:`~vaebook.models.BatchedMLPVAE` (or, from chapter *Posterior
            collapse in the linear VAE* on, a :class:`~vaebook.models.BatchedLinearVAE`)
            with ``len(sigmas)`` members.
        x_train: the training images, float tensor ``(N, data_dim)``.
        sigmas: one positive σ per member (sequence or tensor).
        kl_weight: weight of the KL term (1 is the ELBO; 0 is a plain autoencoder): one
            number for every member, or one per member (a β-VAE per member).
        steps: number of Adam steps.
        batch_size: images per step; ``batch_size >= N`` trains on the full data set.
        lr: peak learning rate of Adam.
        seed: seeds the batches and the reparameterisation noise: same seed, same numbers.
        progress: ``True`` shows a tqdm bar, ``False`` none, ``"auto"`` one only if training
            lasts more than ``PROGRESS_DELAY_SECONDS``.
        lr_schedule: ``"cosine"`` (decay to ``LR_FLOOR * lr``) or ``"constant"``.
        loss_fn: optional replacement of the Gaussian loss, to train a loss "as written" in
            some codebase: ``loss_fn(x, x_hat, mu, logvar)`` gets the batch ``(B, D)`` and the
            members' ``x_hat`` ``(K, B, D)``, ``mu`` and ``logvar`` ``(K, B, L)``, and returns
            one loss per member, shape ``(K,)``. ``sigmas`` then only label the members (and
            are used by :func:`evaluate`). Used in chapter *σ trades reconstruction against
            KL* for ``F.mse_loss`` with ``reduction='mean'``.
    """
    sigmas = check_sigmas(sigmas)
    _check_model(model, sigmas)
    x_train = _check_data(x_train, model, "x_train")
    kl_weight = check_kl_weights(kl_weight, model.n_models, model.dtype)
    steps = _check_int(steps, "steps")
    batch_size = _check_int(batch_size, "batch_size")
    lr = _check_number(lr, "lr")
    seed = _check_int(seed, "seed", minimum=0)
    if lr_schedule not in ("cosine", "constant"):
        raise ValueError(f'lr_schedule must be "cosine" or "constant", got {lr_schedule!r}')
    if loss_fn is not None and not callable(loss_fn):
        raise ValueError(f"loss_fn must be callable or None, got {loss_fn!r}")

    generator = torch.Generator().manual_seed(seed)
    sigma = _member_sigma(sigmas, model.dtype)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    model.train()
    with _progress_bar(steps, progress, f"training {model.n_models} VAE(s)") as bar:
        for step, index in enumerate(_batches(x_train.shape[0], batch_size, steps, generator)):
            if lr_schedule == "cosine":
                for group in optimizer.param_groups:
                    group["lr"] = _learning_rate(lr, step, steps)
            batch = x_train if index is None else x_train[index]
            x_hat, mu, logvar = model(batch, generator)
            nll, kl = member_losses(batch, x_hat, mu, logvar, sigma, kl_weight)
            loss = nll + kl_weight * kl if loss_fn is None else _custom_loss(
                loss_fn, batch, x_hat, mu, logvar)
            optimizer.zero_grad(set_to_none=True)
            loss.sum().backward()
            optimizer.step()
            bar.update(1)
    model.eval()
    return {name: value.detach().cpu().numpy()
            for name, value in (("loss", loss), ("nll", nll), ("kl", kl))}


def _custom_loss(loss_fn, batch, x_hat, mu, logvar) -> torch.Tensor:
    """Call a user's loss function and check that it returns one finite loss per member."""
    loss = loss_fn(batch, x_hat, mu, logvar)
    n_models = x_hat.shape[0]
    if not isinstance(loss, torch.Tensor) or loss.shape != (n_models,):
        raise ValueError(f"loss_fn must return a tensor of shape ({n_models},), one loss per "
                         f"member, got {getattr(loss, 'shape', type(loss).__name__)}")
    if not torch.isfinite(loss.detach()).all():
        raise ValueError("loss_fn returned a NaN or infinite loss")
    return loss


def _fixed_images(y: torch.Tensor, n: int) -> torch.Tensor:
    """Indices of ``n`` images: the first of each label in turn, then the second of each, ..."""
    labels = torch.unique(y)
    by_label = [torch.nonzero(y == label).flatten() for label in labels]
    chosen = []
    for rank in range(y.numel()):
        for indices in by_label:
            if rank < indices.numel() and len(chosen) < n:
                chosen.append(int(indices[rank]))
        if len(chosen) == n:
            break
    return torch.tensor(chosen, dtype=torch.int64)


@torch.no_grad()
def evaluate(model: BatchedVAE, x: torch.Tensor, y: torch.Tensor, sigmas, *,
             kl_weight: float = 1.0, seed: int = 0, n_recon: int = 8,
             n_samples: int = 16) -> dict[str, np.ndarray]:
    """Per-member measurements of a trained model on images ``x`` with labels ``y``.

    Introduced in chapter *σ trades reconstruction against KL*. Returns numpy arrays (K is the
    number of members, N of images, L of latents, D of pixels):

    * ``recon_sse`` (K,): mean over images of ``||x - x_hat||^2``, with ``x_hat`` decoded from
      the posterior mean ``mu``; ``mse`` (K,): the same per pixel (``recon_sse / D``);
    * ``kl`` (K,): mean KL of the posterior from the prior (nats, summed over latents) and
      ``kl_per_latent`` (K, L); ``active_units`` (K,): latents whose ``kl_per_latent``
      exceeds ``ACTIVE_UNIT_THRESHOLD`` nats;
    * ``neg_elbo`` (K,): the −ELBO in nats per image, ``gaussian_nll`` (with its constant
      ``(D/2) log(2 pi sigma^2)``) averaged over ``NEG_ELBO_SAMPLES`` posterior samples drawn
      with ``seed``, plus the KL (weight 1: the true bound); ``objective`` (K,): the same with
      the KL weighted by ``kl_weight`` (the training loss);
    * ``reconstructions`` (K, n_recon, D) of the fixed images ``recon_originals`` (n_recon, D)
      with labels ``recon_labels`` (the first image of each digit in turn), decoded from ``mu``;
    * ``prior_samples`` (K, n_samples, D): decoder means of ``n_samples`` latents drawn from
      the prior with ``seed`` (the same latents for every member);
    * ``latent_means`` (K, N, L) and ``labels`` (N,): the posterior means of all images.
    """
    sigmas = check_sigmas(sigmas)
    _check_model(model, sigmas)
    x = _check_data(x, model, "x")
    if not isinstance(y, torch.Tensor) or y.shape != (x.shape[0],):
        raise ValueError(f"y must be a tensor of shape ({x.shape[0]},), one label per image")
    kl_weight = check_kl_weights(kl_weight, model.n_models, model.dtype)
    seed = _check_int(seed, "seed", minimum=0)
    n_recon = _check_int(n_recon, "n_recon")
    n_samples = _check_int(n_samples, "n_samples")
    if n_recon > x.shape[0]:
        raise ValueError(f"n_recon must be at most the number of images, {x.shape[0]}")
    model.eval()
    generator = torch.Generator().manual_seed(seed)
    n_models, n_images, data_dim = model.n_models, x.shape[0], model.data_dim
    sigma = _member_sigma(sigmas, model.dtype)

    mu, logvar = model.encode(x)
    x_hat_mean = model.decode(mu)
    sse = recon_sse(x.expand_as(x_hat_mean).reshape(-1, data_dim),
                    x_hat_mean.reshape(-1, data_dim)).reshape(n_models, n_images).mean(dim=1)
    # kl_standard_normal sums over all but the first axis: put (member, latent) first.
    kl_per_latent = kl_standard_normal(
        mu.permute(0, 2, 1).reshape(-1, n_images), logvar.permute(0, 2, 1).reshape(-1, n_images)
    ).reshape(n_models, model.latent_dim) / n_images
    kl = kl_per_latent.sum(dim=1)
    nll = torch.zeros(n_models, dtype=model.dtype)
    for _ in range(NEG_ELBO_SAMPLES):
        eps = torch.randn(n_images, model.latent_dim, generator=generator, dtype=model.dtype)
        x_hat = model.decode(mu + torch.exp(0.5 * logvar) * eps)
        nll += gaussian_nll(x.expand_as(x_hat), x_hat, sigma, reduction="none") / n_images
    nll /= NEG_ELBO_SAMPLES

    recon_index = _fixed_images(y, n_recon)
    prior_z = torch.randn(n_samples, model.latent_dim, generator=generator, dtype=model.dtype)
    arrays = {
        "recon_sse": sse,
        "mse": sse / data_dim,
        "kl": kl,
        "kl_per_latent": kl_per_latent,
        "neg_elbo": nll + kl,
        "objective": nll + kl_weight * kl,
        "active_units": (kl_per_latent > ACTIVE_UNIT_THRESHOLD).sum(dim=1),
        "reconstructions": x_hat_mean[:, recon_index],
        "recon_originals": x[recon_index],
        "recon_labels": y[recon_index],
        "prior_samples": model.decode(prior_z),
        "latent_means": mu,
        "labels": y,
    }
    return {name: value.detach().cpu().numpy() for name, value in arrays.items()}

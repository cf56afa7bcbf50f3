"""The one training loop and the one evaluation of the book's VAEs.

Every chapter trains through :func:`train_vae` and measures through :func:`evaluate`. Member
``k`` of a :class:`~vaebook.models.BatchedMLPVAE` is trained with its own decoder likelihood
(by default a Gaussian of fixed ``sigma[k]``); the loss of a member is the batch mean of
``-log p(x | z) + kl_weight * KL`` (both from :mod:`vaebook.likelihoods`, whose
:class:`~vaebook.likelihoods.MemberLikelihoods` owns every σ), and the members' losses are
summed. The members share no parameter, so the gradient of the sum with respect to
member ``k``'s weights is the gradient of member ``k``'s own loss, and Adam acts elementwise:
each member trains exactly as if alone.
"""

from __future__ import annotations

import math
from numbers import Real

import numpy as np
import torch
from tqdm.auto import tqdm

from vaebook import settings
from vaebook._checks import check_dtype, check_int, check_number
from vaebook.likelihoods import (
    Likelihood,
    MemberLikelihoods,
    _kl_standard_normal,
    get_likelihood,
    kl_standard_normal,
    recon_sse,
)
from vaebook.models import BatchedVAE

__all__ = [
    "ACTIVE_UNIT_THRESHOLD",
    "NEG_ELBO_SAMPLES",
    "LR_FLOOR",
    "minibatches",
    "free_bits_kl",
    "PROGRESS_DELAY_SECONDS",
    "check_sigmas",
    "check_likelihoods",
    "TrainingDiverged",
    "train_vae",
    "evaluate",
    "IWAE_SAMPLES",
    "importance_weighted_nll",
]

ACTIVE_UNIT_THRESHOLD = 0.01
"""A latent dimension is *active* when its KL, averaged over the data, exceeds this (nats)."""

NEG_ELBO_SAMPLES = 8
"""Fixed-seed posterior samples per image used to estimate the −ELBO in :func:`evaluate`."""

LR_FLOOR = 0.01
"""The cosine learning-rate schedule decays from ``lr`` to ``LR_FLOOR * lr``."""

IWAE_SAMPLES = 1000
"""Importance samples per image in :func:`importance_weighted_nll`. On the models of chapter
*Training other likelihoods side by side*, 3000 samples instead of 1000 lower the estimate by at
most
0.8 nats per image, little beside the differences the chapter compares."""

PROGRESS_DELAY_SECONDS = 2.0
"""With ``progress="auto"`` the bar appears only once training has lasted this long."""


class TrainingDiverged(ValueError):
    """Training produced a NaN or infinite loss: the message names the step, the loss and
    the remedy.

    Used behind the scenes in chapter *σ trades reconstruction against KL* (raised by
    :func:`train_vae`).
    """


def check_sigmas(sigmas, name: str = "sigmas") -> torch.Tensor:
    """Validate a list of decoder σ values and return it as a 1-D float64 tensor.

    Used behind the scenes in chapter *σ trades reconstruction against KL*. Raises
    :class:`ValueError` (naming ``name``) for an empty list, a non-number (``True`` included), NaN,
    ±inf or a σ ≤ 0.
    """
    if isinstance(sigmas, bool) or (
        isinstance(sigmas, (list, tuple)) and any(isinstance(value, bool) for value in sigmas)
    ):
        raise ValueError(f"{name} must be a sequence of positive numbers, got {sigmas!r}")
    if isinstance(sigmas, Real) and not isinstance(sigmas, bool):
        sigmas = [sigmas]
    try:
        values = torch.as_tensor(
            sigmas.detach().cpu() if isinstance(sigmas, torch.Tensor) else sigmas,
            dtype=torch.float64,
        ).reshape(-1)
    except (TypeError, ValueError, RuntimeError) as error:
        raise ValueError(
            f"{name} must be a sequence of positive numbers, got {sigmas!r}"
        ) from error
    if values.numel() == 0:
        raise ValueError(f"{name} must hold at least one σ, got an empty sequence")
    if torch.isnan(values).any():
        raise ValueError(f"{name} contains NaN: {values.tolist()}")
    if not (values > 0).all() or torch.isinf(values).any():
        raise ValueError(f"{name} must be positive and finite, got {values.tolist()}")
    return values


def check_kl_weights(kl_weight, n_models: int, dtype=torch.float32) -> torch.Tensor:
    """One KL weight per member, shape ``(K,)``: a number (shared) or a sequence of ``K``.

    Used behind the scenes in chapter *σ trades reconstruction against KL* (a β-VAE per member).
    """
    return _per_member(kl_weight, n_models, "kl_weight", dtype)


def _per_member(value, n_models: int, name: str, dtype=torch.float32) -> torch.Tensor:
    """One number ≥ 0 per member, shape ``(K,)``, from a number (shared) or a sequence of K."""
    n_models = check_int(n_models, "n_models")
    check_dtype(dtype)
    if isinstance(value, (list, tuple, np.ndarray, torch.Tensor)):
        try:
            values = [float(v) for v in (value.tolist() if hasattr(value, "tolist") else value)]
        except (TypeError, ValueError):
            raise ValueError(
                f"{name} must be one number or a sequence of numbers, got {value!r}"
            ) from None
        if len(values) != n_models:
            raise ValueError(
                f"{name} must be one number or {n_models} numbers (one per "
                f"member), got {len(values)}"
            )
        numbers = [check_number(v, name, allow_zero=True) for v in values]
    else:
        numbers = [check_number(value, name, allow_zero=True)] * n_models
    return torch.tensor(numbers, dtype=dtype)


def _check_warmup(kl_warmup, n_models: int) -> list[int]:
    """One warm-up length (an integer number of steps ≥ 0) per member."""
    if not isinstance(kl_warmup, (list, tuple)):
        return [check_int(kl_warmup, "kl_warmup", minimum=0)] * n_models
    if len(kl_warmup) != n_models:
        raise ValueError(
            f"kl_warmup must be one integer or {n_models} integers (one per "
            f"member), got {len(kl_warmup)}"
        )
    return [check_int(value, "kl_warmup", minimum=0) for value in kl_warmup]


def warmup_weight(step, kl_warmup: int):
    """The factor on the KL weight at ``step`` (from 0) of a linear warm-up of ``kl_warmup``
    steps: ``min(1, (step + 1) / kl_warmup)``, or 1 without a warm-up (``kl_warmup=0``).

    Introduced in chapter *A recipe for a sound VAE loss*. ``step`` may be a number or a numpy
    array of steps (the ``history["step"]`` of :func:`train_vae`).
    """
    kl_warmup = check_int(kl_warmup, "kl_warmup", minimum=0)
    steps = np.asarray(step, dtype=np.float64)
    if not np.isfinite(steps).all() or (steps < 0).any():
        raise ValueError(f"step must be a number >= 0 or an array of them, got {step!r}")
    factor = np.ones_like(steps) if kl_warmup == 0 else np.minimum(1.0, (steps + 1) / kl_warmup)
    return float(factor) if factor.ndim == 0 else factor


def _warmup_factor(warmup: list[int], step: int, dtype) -> torch.Tensor:
    """:func:`warmup_weight` of every member at ``step``, shape ``(K,)``."""
    return torch.tensor([warmup_weight(step, n) for n in warmup], dtype=dtype)


def _check_data(x, model: BatchedVAE, name: str) -> torch.Tensor:
    """``x`` as ``(N, D)`` (every member sees the same images) or ``(K, N, D)`` (one data set
    per member, e.g. binarised digits for a Bernoulli member)."""
    if not isinstance(x, torch.Tensor):
        raise ValueError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    if not x.is_floating_point():
        raise ValueError(f"{name} must have a floating-point dtype, got {x.dtype}")
    shared = x.ndim == 2 and x.shape[1] == model.data_dim and x.shape[0] >= 1
    per_member = (
        x.ndim == 3
        and x.shape[0] == model.n_models
        and (x.shape[2] == model.data_dim and x.shape[1] >= 1)
    )
    if not (shared or per_member):
        raise ValueError(
            f"{name} must have shape (N, {model.data_dim}) or ({model.n_models}, N, "
            f"{model.data_dim}) with N >= 1, got {tuple(x.shape)}"
        )
    if not torch.isfinite(x).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    return x.to(model.dtype)


def check_likelihoods(likelihood, model: BatchedVAE) -> list[Likelihood]:
    """One :class:`~vaebook.likelihoods.Likelihood` per member of ``model``.

    Used behind the scenes in chapter *Training with a learned σ*. ``likelihood`` is one name or
    :class:`~vaebook.likelihoods.Likelihood` for every member, or a sequence of one per member.
    Raises :class:`ValueError` for an unknown name, a wrong count, or a per-pixel σ on a model
    whose decoder has one output per pixel.
    """
    if not isinstance(model, BatchedVAE):
        raise ValueError(
            "model must be a BatchedMLPVAE or BatchedLinearVAE (a BatchedVAE), "
            f"got {type(model).__name__}"
        )
    if isinstance(likelihood, (str, Likelihood)):
        likelihoods = [get_likelihood(likelihood)] * model.n_models
    elif isinstance(likelihood, (list, tuple)):
        if len(likelihood) != model.n_models:
            raise ValueError(
                f"likelihood must be one name or {model.n_models} (one per member), "
                f"got {len(likelihood)}"
            )
        likelihoods = [get_likelihood(item) for item in likelihood]
    else:
        raise ValueError(
            f"likelihood must be a name, a Likelihood or a list of them, got {likelihood!r}"
        )
    wanted = max(item.outputs_per_pixel for item in likelihoods)
    if wanted > model.outputs_per_pixel:
        raise ValueError(
            "a per-pixel σ needs a decoder with two outputs per pixel: build the "
            "model with outputs_per_pixel=2"
        )
    return likelihoods


def _check_data_for(likelihoods: list[Likelihood], x: torch.Tensor, name: str) -> None:
    for k, item in enumerate(likelihoods):
        item.check_data(x if x.ndim == 2 else x[k], f"{name} of member {k}")


def _check_model(model, sigmas: torch.Tensor) -> None:
    if not isinstance(model, BatchedVAE):
        raise ValueError(
            "model must be a BatchedMLPVAE or BatchedLinearVAE (a BatchedVAE), "
            f"got {type(model).__name__}"
        )
    if sigmas.numel() != model.n_models:
        raise ValueError(
            f"sigmas must hold one σ per member: the model has {model.n_models} members, "
            f"got {sigmas.numel()} σ values"
        )


def _members(model, sigmas, likelihood, fixed: bool) -> MemberLikelihoods:
    """The members' likelihoods with their σ, checked against ``model``: ``likelihood``
    itself if it is a :class:`~vaebook.likelihoods.MemberLikelihoods` (it holds the σ, so
    ``sigmas`` must be None), else built from ``sigmas`` and ``likelihood``. With ``fixed``
    (evaluation) a learned or optimal scale is held at its σ."""
    if isinstance(likelihood, MemberLikelihoods):
        if sigmas is not None:
            raise ValueError(
                "sigmas must be None when likelihood is a MemberLikelihoods "
                "(it holds the σ of every member)"
            )
        check_likelihoods(likelihood.likelihoods, model)  # the model, the count, the outputs
        if likelihood.data_dim != model.data_dim or likelihood.sigma.dtype != model.dtype:
            raise ValueError(
                f"likelihood must be built for {model.data_dim} pixels and "
                f"{model.dtype}, got {likelihood.data_dim} and "
                f"{likelihood.sigma.dtype}"
            )
        if fixed and any(item.frozen() is not item for item in likelihood.likelihoods):
            raise ValueError(
                "evaluation needs fixed scales: pass likelihood.frozen(scale) "
                "with the scales the training returned"
            )
        return likelihood
    sigmas = check_sigmas(sigmas)
    _check_model(model, sigmas)
    likelihoods = check_likelihoods(likelihood, model)
    if fixed:
        likelihoods = [item.frozen() for item in likelihoods]
    return MemberLikelihoods(likelihoods, sigmas.to(model.dtype), model.data_dim)


def _batch_mean(per_member_total: torch.Tensor, batch: int) -> torch.Tensor:
    return per_member_total / batch


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
        yield order[position : position + batch_size]
        position += batch_size


def minibatches(x: torch.Tensor, batch_size: int, steps: int, generator: torch.Generator):
    """``steps`` mini-batches of ``batch_size`` images of ``x`` (images along the second-last
    axis), drawn without replacement from a random permutation of the images, and from a new
    one when fewer than ``batch_size`` images are left (a ``DataLoader`` with ``shuffle=True,
    drop_last=True``, endlessly). With ``batch_size`` ≥ the number of images every batch is
    the whole of ``x``.

    Introduced in chapter *σ trades reconstruction against KL*: the plain VAE on the page and
    :func:`train_vae` take their batches from here, so with the same ``generator`` seed they
    see the same images in the same order.
    """
    if not isinstance(x, torch.Tensor) or x.ndim < 2:
        raise ValueError("x must be a torch.Tensor of images, shape (N, D) or (K, N, D)")
    batch_size, steps = check_int(batch_size, "batch_size"), check_int(steps, "steps")
    if not isinstance(generator, torch.Generator):
        raise ValueError(f"generator must be a torch.Generator, got {type(generator).__name__}")
    for index in _batches(x.shape[-2], batch_size, steps, generator):
        yield x if index is None else x[..., index, :]


def _progress_bar(steps: int, progress, description: str):
    if progress not in (True, False, "auto"):
        raise ValueError(f'progress must be True, False or "auto", got {progress!r}')
    delay = PROGRESS_DELAY_SECONDS if progress == "auto" else 0.0
    return tqdm(
        total=steps,
        desc=description,
        disable=progress is False,
        delay=delay,
        leave=progress is True,
        mininterval=0.5,
    )


def train_vae(
    model: BatchedVAE,
    x_train: torch.Tensor,
    sigmas=None,
    *,
    likelihood="gaussian",
    kl_weight: float = 1.0,
    steps: int,
    batch_size: int,
    lr: float,
    seed: int,
    progress=True,
    lr_schedule: str = "cosine",
    loss_fn=None,
    record_every: int | None = None,
    trainable: tuple[str, ...] | None = None,
    kl_warmup=0,
    free_bits=0.0,
) -> dict[str, np.ndarray]:
    """Train member ``k`` of ``model`` as a VAE with its own decoder likelihood.

    Introduced in chapter *σ trades reconstruction against KL*. By default member ``k`` has a
    Gaussian decoder of fixed ``sigmas[k]``, and its loss is the batch mean of
    ``gaussian_nll(x_hat_k, x, sigma_k) + kl_weight * KL_k``; the members' losses are summed
    and minimised with Adam. Trains ``model`` in place and returns numpy arrays of shape
    ``(K,)``: the per-member ``loss``, reconstruction term ``nll`` and ``kl`` of the last step,
    the ``scale`` each member ended with, and its ``fitted_scale`` (see below).

    Args:
        model: a :class:`~vaebook.models.BatchedMLPVAE` (or, from chapter *Posterior
            collapse in the linear VAE* on, a :class:`~vaebook.models.BatchedLinearVAE`)
            with ``len(sigmas)`` members.
        x_train: the training images, float tensor ``(N, data_dim)``, or ``(K, N, data_dim)``
            for one data set per member (chapter *Training other likelihoods side by side*:
            binarised digits for a Bernoulli member). The same batch indices are used for every
            member.
        sigmas: one positive σ per member (sequence or tensor): the fixed σ (or Laplace scale)
            of a fixed-scale likelihood, the starting value of a learned one; ignored by the
            other likelihoods (they only label the member).
        likelihood: one name of :data:`vaebook.likelihoods.LIKELIHOOD_NAMES` (or a
            :class:`~vaebook.likelihoods.Likelihood`) for every member, or a list of one per
            member (chapter *Training with a learned σ*). A learned scale is trained by Adam as
            ``log σ``, with the likelihood's soft floor. Or a
            :class:`~vaebook.likelihoods.MemberLikelihoods`, which holds every member's σ
            (``sigmas`` is then None): :func:`vaebook.experiment.run` builds one, so the
            σ goes from a config to the likelihoods without this function reading it.
        kl_weight: weight of the KL term (1 is the ELBO; 0 is a plain autoencoder): one
            number for every member, or one per member (a β-VAE per member).
        steps: number of Adam steps.
        batch_size: images per step; ``batch_size >= N`` trains on the full data set.
        lr: peak learning rate of Adam.
        seed: seeds the batches and the reparameterisation noise: same seed, same numbers.
        progress: ``True`` shows a tqdm bar, ``False`` none, ``"auto"`` one only if training
            lasts more than ``PROGRESS_DELAY_SECONDS``.
        lr_schedule: ``"cosine"`` (decay to ``LR_FLOOR * lr``) or ``"constant"``.
        loss_fn: optional replacement of the likelihood loss, to train a loss "as written" in
            some codebase: ``loss_fn(x_hat, x, mu, logvar)`` gets the members' ``x_hat``
            ``(K, B, D)``, the batch ``x`` ``(B, D)``, ``mu`` and ``logvar`` ``(K, B, L)``,
            and returns one loss per member, shape ``(K,)``. ``sigmas`` then only label the
            members (and are used by :func:`evaluate`). Used in chapter *σ trades
            reconstruction against KL* for ``F.mse_loss`` with ``reduction='mean'``.
        record_every: if set, also return ``history``: every ``record_every`` steps (and at
            the last) the ``step`` and, per member, the batch's ``loss``, ``nll``, ``kl`` and
            ``min_scale`` (the smallest σ or ``b`` of any pixel in the batch; NaN for the
            Bernoulli types), each an array ``(n_records, K)`` (chapter *Training with a learned
            σ*).
        trainable: if set, only the model's parameters whose names start with one of these
            prefixes are trained (e.g. ``("dec_out",)``: the decoder's output layer); the
            others stay fixed (chapter *Training with a learned σ*, where a trained model's floor is
            lowered).
        kl_warmup: KL annealing (chapter *A recipe for a sound VAE loss*): over the first
            ``kl_warmup`` steps the KL weight grows linearly, ``kl_weight · min(1, (step + 1)
            / kl_warmup)``; 0 (the default) means no warm-up. One number of steps, or one per
            member.
        free_bits: free bits (same chapter): a floor ``λ`` in nats on the batch-mean KL of
            each latent, so the KL term is ``Σ_j max(KL_j, λ)``, with no gradient on a latent
            while its KL is below ``λ``; 0 (the default) is the plain KL. One number, or one
            per member. The returned ``kl`` is the true KL, without the floor.

    ``scale`` is the fixed σ, the learned σ, or for ``"gaussian-optimal"`` the optimum
    ``sqrt(MSE)`` over the whole training set; ``fitted_scale`` is the maximum-likelihood shared
    scale of the trained model over the whole training set (``sqrt(MSE)``, or the mean absolute
    error for a Laplace), both with one posterior sample per image. Both are NaN for a
    per-pixel σ and for the Bernoulli types.
    """
    members = _members(model, sigmas, likelihood, fixed=False)
    x_train = _check_data(x_train, model, "x_train")
    _check_data_for(members.likelihoods, x_train, "x_train")
    kl_weight = check_kl_weights(kl_weight, model.n_models, model.dtype)
    warmup = _check_warmup(kl_warmup, model.n_models)
    free_bits = _per_member(free_bits, model.n_models, "free_bits", model.dtype)
    steps = check_int(steps, "steps")
    batch_size = check_int(batch_size, "batch_size")
    lr = check_number(lr, "lr")
    seed = check_int(seed, "seed", minimum=0)
    if lr_schedule not in ("cosine", "constant"):
        raise ValueError(f'lr_schedule must be "cosine" or "constant", got {lr_schedule!r}')
    if loss_fn is not None and not callable(loss_fn):
        raise ValueError(f"loss_fn must be callable or None, got {loss_fn!r}")
    if record_every is not None:
        record_every = check_int(record_every, "record_every")
    parameters = _trainable_parameters(model, trainable)

    frozen = [
        param
        for param in model.parameters()
        if param.requires_grad and all(param is not item for item in parameters)
    ]
    try:
        for param in frozen:
            param.requires_grad_(False)
        with settings.training_threads():
            return _train(
                model,
                x_train,
                members,
                kl_weight,
                steps,
                batch_size,
                lr,
                seed,
                progress,
                lr_schedule,
                loss_fn,
                record_every,
                parameters,
                warmup,
                free_bits,
            )
    finally:
        for param in frozen:
            param.requires_grad_(True)


def _trainable_parameters(model: BatchedVAE, trainable) -> list[torch.nn.Parameter]:
    """The parameters :func:`train_vae` trains: all, or those named by ``trainable``."""
    if trainable is None:
        return list(model.parameters())
    if (
        isinstance(trainable, str)
        or not isinstance(trainable, (list, tuple))
        or not all(isinstance(prefix, str) and prefix for prefix in trainable)
        or not trainable
    ):
        raise ValueError(
            f"trainable must be None or a non-empty tuple of parameter-name "
            f"prefixes, got {trainable!r}"
        )
    named = dict(model.named_parameters())
    chosen = [param for name, param in named.items() if name.startswith(tuple(trainable))]
    if not chosen:
        raise ValueError(
            f"trainable={trainable!r} matches no parameter of the model; its "
            f"parameters are {', '.join(named)}"
        )
    return chosen


def _train(
    model,
    x_train,
    members,
    kl_weight,
    steps,
    batch_size,
    lr,
    seed,
    progress,
    lr_schedule,
    loss_fn,
    record_every,
    parameters,
    warmup,
    free_bits,
) -> dict[str, np.ndarray]:
    """The loop of :func:`train_vae`, on checked arguments."""
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.Adam([*parameters, members.log_scale], lr=lr)
    history: dict[str, list] = {"step": [], "loss": [], "nll": [], "kl": [], "min_scale": []}
    model.train()
    with _progress_bar(steps, progress, f"training {model.n_models} VAE(s)") as bar:
        for step, batch in enumerate(minibatches(x_train, batch_size, steps, generator)):
            if lr_schedule == "cosine":
                for group in optimizer.param_groups:
                    group["lr"] = _learning_rate(lr, step, steps)
            x_hat, mu, logvar = model(batch, generator)
            nll = _batch_mean(members.nll(x_hat, batch), mu.shape[1])
            kl = _batch_mean(_kl_standard_normal(mu, logvar), mu.shape[1])
            weight = (
                kl_weight
                if not any(warmup)
                else kl_weight * _warmup_factor(warmup, step, kl_weight.dtype)
            )
            kl_term = kl if not free_bits.any() else _free_bits_kl(mu, logvar, free_bits)
            loss = (
                nll + weight * kl_term
                if loss_fn is None
                else _custom_loss(loss_fn, batch, x_hat, mu, logvar)
            )
            if not torch.isfinite(loss.detach()).all():
                raise TrainingDiverged(
                    f"training diverged at step {step + 1} of {steps}: the loss of member(s) "
                    f"{torch.nonzero(~torch.isfinite(loss.detach())).flatten().tolist()} is "
                    f"{loss.detach().tolist()}; lower lr (now {lr:g}) or add a floor to a "
                    "learned scale"
                )
            if record_every is not None and (step % record_every == 0 or step == steps - 1):
                min_scale = members.pixel_scales(batch, x_hat).amin(dim=(1, 2))
                _record(history, step, loss, nll, kl, min_scale)  # all before this step
            optimizer.zero_grad(set_to_none=True)
            loss.sum().backward()
            optimizer.step()
            bar.update(1)
    model.eval()
    result = {
        name: value.detach().cpu().numpy()
        for name, value in (("loss", loss), ("nll", nll), ("kl", kl))
    }
    with torch.no_grad():
        x_hat, _, _ = model(x_train, generator)
    result.update(members.final_scales(x_train, x_hat))
    if record_every is not None:
        result["history"] = {name: np.array(values) for name, values in history.items()}
    return result


def free_bits_kl(mu: torch.Tensor, logvar: torch.Tensor, floor: torch.Tensor) -> torch.Tensor:
    """``Σ_j max(KL_j, λ)`` per member: ``KL_j`` the batch-mean KL of latent ``j``.

    Introduced in chapter *A recipe for a sound VAE loss*: the free-bits KL term that
    :func:`train_vae` uses with ``free_bits=λ``. ``mu`` and ``logvar`` are ``(K, B, L)``,
    ``floor`` holds one λ per member, shape ``(K,)``.
    """
    shape = getattr(mu, "shape", None)
    if not isinstance(mu, torch.Tensor) or mu.ndim != 3 or getattr(logvar, "shape", None) != shape:
        raise ValueError(
            f"mu and logvar must be tensors of one shape (K, B, L), got {shape} and "
            f"{getattr(logvar, 'shape', type(logvar).__name__)}"
        )
    if not isinstance(floor, torch.Tensor) or tuple(floor.shape) != (shape[0],):
        raise ValueError(
            f"floor must hold one λ per member, shape ({shape[0]},), got "
            f"{getattr(floor, 'shape', type(floor).__name__)}"
        )
    return _free_bits_kl(mu, logvar, floor)


def _free_bits_kl(mu: torch.Tensor, logvar: torch.Tensor, floor: torch.Tensor) -> torch.Tensor:
    """:func:`free_bits_kl` without input checks (the training loop's hot path)."""
    per_latent = (0.5 * (torch.exp(logvar) + mu**2 - 1 - logvar)).mean(dim=1)
    return torch.maximum(per_latent, floor.to(per_latent.dtype)[:, None]).sum(dim=1)


def _record(history, step, loss, nll, kl, min_scale) -> None:
    history["step"].append(step)
    for name, value in (("loss", loss), ("nll", nll), ("kl", kl), ("min_scale", min_scale)):
        history[name].append(value.detach().cpu().numpy())


def _custom_loss(loss_fn, batch, x_hat, mu, logvar) -> torch.Tensor:
    """Call a user's loss function and check that it returns one finite loss per member."""
    loss = loss_fn(x_hat, batch, mu, logvar)
    n_models = x_hat.shape[0]
    if not isinstance(loss, torch.Tensor) or loss.shape != (n_models,):
        raise ValueError(
            f"loss_fn must return a tensor of shape ({n_models},), one loss per "
            f"member, got {getattr(loss, 'shape', type(loss).__name__)}"
        )
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
@settings.training_threads()
def evaluate(
    model: BatchedVAE,
    x: torch.Tensor,
    y: torch.Tensor,
    sigmas=None,
    *,
    likelihood="gaussian",
    kl_weight: float = 1.0,
    seed: int = 0,
    n_recon: int = 8,
    n_samples: int = 16,
) -> dict[str, np.ndarray]:
    """Per-member measurements of a trained model on images ``x`` with labels ``y``.

    Introduced in chapter *σ trades reconstruction against KL*. ``x`` is ``(N, D)`` or, one
    data set per member, ``(K, N, D)``; ``likelihood`` is as in :func:`train_vae`, and a learned
    or optimal shared scale is evaluated as a fixed one: pass the trained values (the
    ``scale`` that :func:`train_vae` returns) as ``sigmas``, or a
    :class:`~vaebook.likelihoods.MemberLikelihoods` held at them
    (``members.frozen(scale)``) as ``likelihood``. Returns numpy arrays (K is the
    number of members, N of images, L of latents, D of pixels):

    * ``recon_sse`` (K,): mean over images of ``||x - x_hat||^2``, with ``x_hat`` the mean of
      ``p(x | z)`` decoded from the posterior mean ``mu``; ``mse`` (K,): the same per pixel
      (``recon_sse / D``);
    * ``kl`` (K,): mean KL of the posterior from the prior (nats, summed over latents) and
      ``kl_per_latent`` (K, L); ``active_units`` (K,): latents whose ``kl_per_latent``
      exceeds ``ACTIVE_UNIT_THRESHOLD`` nats;
    * ``neg_elbo`` (K,): the −ELBO in nats per image, ``-log p(x | z)`` (with every constant,
      e.g. ``(D/2) log(2 pi sigma^2)``) averaged over ``NEG_ELBO_SAMPLES`` posterior samples
      drawn with ``seed``, plus the KL (weight 1: the true bound); ``objective`` (K,): the
      same with the KL weighted by ``kl_weight`` (the training loss);
    * ``pixel_scale`` (K, D): the σ (or Laplace ``b``) of every pixel, averaged over the
      images (decoded from ``mu``); constant for a shared scale, NaN for the Bernoulli types;
    * ``reconstructions`` (K, n_recon, D) of the fixed images ``recon_originals`` (n_recon, D),
      or (K, n_recon, D) for per-member data, with labels ``recon_labels`` (the first image of
      each digit in turn), decoded from ``mu``;
    * ``prior_samples`` (K, n_samples, D): means of ``p(x | z)`` for ``n_samples`` latents drawn
      from the prior with ``seed`` (the same latents for every member);
    * ``latent_means`` (K, N, L) and ``labels`` (N,): the posterior means of all images.
    """
    members = _members(model, sigmas, likelihood, fixed=True)
    x = _check_data(x, model, "x")
    _check_data_for(members.likelihoods, x, "x")
    n_images = x.shape[-2]
    if not isinstance(y, torch.Tensor) or y.shape != (n_images,):
        raise ValueError(f"y must be a tensor of shape ({n_images},), one label per image")
    kl_weight = check_kl_weights(kl_weight, model.n_models, model.dtype)
    seed = check_int(seed, "seed", minimum=0)
    n_recon = check_int(n_recon, "n_recon")
    n_samples = check_int(n_samples, "n_samples")
    if n_recon > n_images:
        raise ValueError(f"n_recon must be at most the number of images, {n_images}")
    model.eval()
    generator = torch.Generator().manual_seed(seed)
    n_models, data_dim = model.n_models, model.data_dim
    mu, logvar = model.encode(x)
    output_at_mean = model.decode(mu)
    x_hat_mean = members.means(output_at_mean)
    member_x = x.expand(n_models, *x.shape) if x.ndim == 2 else x
    sse = (
        recon_sse(x_hat_mean.reshape(-1, data_dim), member_x.reshape(-1, data_dim))
        .reshape(n_models, n_images)
        .mean(dim=1)
    )
    # kl_standard_normal sums over all but the first axis: put (member, latent) first.
    kl_per_latent = (
        kl_standard_normal(
            mu.permute(0, 2, 1).reshape(-1, n_images), logvar.permute(0, 2, 1).reshape(-1, n_images)
        ).reshape(n_models, model.latent_dim)
        / n_images
    )
    kl = kl_per_latent.sum(dim=1)
    nll = torch.zeros(n_models, dtype=model.dtype)
    for _ in range(NEG_ELBO_SAMPLES):
        eps = torch.randn(n_images, model.latent_dim, generator=generator, dtype=model.dtype)
        output = model.decode(mu + torch.exp(0.5 * logvar) * eps)
        nll += members.nll(output, x) / n_images
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
        "pixel_scale": members.pixel_scales(x, output_at_mean).mean(dim=1),
        "reconstructions": x_hat_mean[:, recon_index],
        "recon_originals": x[..., recon_index, :],
        "recon_labels": y[recon_index],
        "prior_samples": members.means(model.decode(prior_z)),
        "latent_means": mu,
        "labels": y,
    }
    return {name: value.detach().cpu().numpy() for name, value in arrays.items()}


@torch.no_grad()
def importance_weighted_nll(
    model: BatchedVAE,
    x: torch.Tensor,
    sigmas=None,
    *,
    likelihood="gaussian",
    samples: int = IWAE_SAMPLES,
    seed: int = 0,
) -> np.ndarray:
    """An importance-weighted estimate of ``-log p(x)`` of every image, shape ``(K, N)``.

    Used behind the scenes in chapter *Training other likelihoods side by side*. Arguments as in
    :func:`evaluate`. With ``z_1 ... z_S`` drawn from the encoder's ``q(z | x)`` (``S = samples``,
    the same noise for every member, from ``seed``), the estimate is
    ``-log (1/S) sum_s p(x | z_s) p(z_s) / q(z_s | x)`` (Burda et al., 2016). Its expectation
    lies between ``-log p(x)`` and the −ELBO and falls towards ``-log p(x)`` as ``S`` grows;
    ``S = 1`` is the −ELBO's own one-sample estimate. Every constant is kept, so the numbers are
    comparable with :func:`evaluate`'s ``neg_elbo``.
    """
    members = _members(model, sigmas, likelihood, fixed=True)
    x = _check_data(x, model, "x")
    _check_data_for(members.likelihoods, x, "x")
    samples = check_int(samples, "samples")
    seed = check_int(seed, "seed", minimum=0)
    model.eval()
    generator = torch.Generator().manual_seed(seed)
    n_images = x.shape[-2]
    mu, logvar = model.encode(x)
    std = torch.exp(0.5 * logvar)
    log_two_pi = math.log(2 * math.pi)
    log_weights = []
    for _ in range(samples):
        eps = torch.randn(n_images, model.latent_dim, generator=generator, dtype=model.dtype)
        z = mu + std * eps
        log_prior = -0.5 * (log_two_pi + z**2).sum(dim=-1)
        log_posterior = -0.5 * (log_two_pi + logvar + eps**2).sum(dim=-1)
        log_weights.append(
            (log_prior - log_posterior - members.nll_per_image(model.decode(z), x)).double()
        )
    stacked = torch.stack(log_weights)  # (S, K, N)
    estimate = -(torch.logsumexp(stacked, dim=0) - math.log(samples))
    return estimate.cpu().numpy()

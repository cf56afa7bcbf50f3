"""The plain VAE of chapter *σ trades reconstruction against KL*, saved for later chapters.

The chapter writes this model, its loss and its training loop on the page, so that a student
sees and can change them; this module keeps the same definitions, so that later chapters
(*Training with a learned σ*, *Training other likelihoods side by side*) build on them instead of
copying them. A test (``tests/test_page_vae.py``) checks that every definition here is the page's,
statement for statement, and that the batched trainer of the package trains this very VAE.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from vaebook.experiment import DEFAULT_BATCH_SIZE, DEFAULT_LR, DEFAULT_STEPS
from vaebook.training import LR_FLOOR, minibatches

__all__ = ["VAE", "gaussian_nll", "kl_to_prior", "neg_elbo", "cosine", "train"]


class VAE(nn.Module):
    """Encoder x -> (mu, logvar) of q(z | x); decoder z -> x_hat, mean of p(x | z).

    Introduced in chapter *σ trades reconstruction against KL*: ``n_pixels`` inputs, one
    hidden layer of ``n_hidden`` tanh units on each side, ``n_latents`` latents, and a linear
    output layer (``x_hat`` is a mean on the whole real line). ``forward(x, generator)``
    returns ``(x_hat, mu, logvar)`` for one code per image drawn with the
    reparameterisation trick, its noise from ``generator``.
    """

    def __init__(self, n_pixels=64, n_hidden=64, n_latents=2):
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Linear(n_pixels, n_hidden), nn.Tanh(), nn.Linear(n_hidden, 2 * n_latents)
        )
        self.decoder = nn.Sequential(
            nn.Linear(n_latents, n_hidden), nn.Tanh(), nn.Linear(n_hidden, n_pixels)
        )  # no activation: x_hat is a mean on ℝ

    def forward(self, x, generator=None):
        mu, logvar = self.encoder(x).chunk(2, dim=-1)
        eps = torch.randn(mu.shape, generator=generator)  # ε ~ N(0, I)
        z = mu + torch.exp(0.5 * logvar) * eps  # the reparameterisation trick
        return self.decoder(z), mu, logvar


def gaussian_nll(x_hat, x, sigma):
    """-log N(x; x_hat, σ² I) of every image: SSE / (2σ²) + (D/2) log(2πσ²).

    Introduced in chapter *σ trades reconstruction against KL*. ``sigma`` is a number or a
    tensor (a learned σ); unlike :func:`vaebook.likelihoods.gaussian_nll` it checks nothing.
    """
    sigma = torch.as_tensor(sigma)  # a number, or a tensor that training may change
    n_pixels = x.shape[-1]
    sse = ((x - x_hat) ** 2).sum(dim=-1)
    return sse / (2 * sigma**2) + n_pixels / 2 * torch.log(2 * math.pi * sigma**2)


def kl_to_prior(mu, logvar):
    """KL(q(z | x) ‖ N(0, I)) of every image, in closed form (summed over latents).

    Introduced in chapter *σ trades reconstruction against KL*.
    """
    return 0.5 * (mu**2 + logvar.exp() - 1 - logvar).sum(dim=-1)


def neg_elbo(x_hat, x, mu, logvar, sigma):
    """The one-sample −ELBO, averaged over the batch: the loss we minimise.

    Introduced in chapter *σ trades reconstruction against KL*.
    """
    return (gaussian_nll(x_hat, x, sigma) + kl_to_prior(mu, logvar)).mean()


def cosine(step, steps):
    """Learning-rate factor: 1 at the first step, LR_FLOOR = 0.01 at the last.

    Introduced in chapter *σ trades reconstruction against KL*.
    """
    progress = step / max(steps - 1, 1)
    return LR_FLOOR + (1 - LR_FLOOR) * 0.5 * (1 + math.cos(math.pi * progress))


def train(
    vae, x_train, loss_fn, steps=DEFAULT_STEPS, batch_size=DEFAULT_BATCH_SIZE, lr=DEFAULT_LR, seed=0
):
    """Train vae on x_train with Adam; returns the loss of every step.

    Introduced in chapter *σ trades reconstruction against KL*. ``loss_fn(x_hat, x, mu,
    logvar)`` returns the batch's loss; the batches and the noise of the reparameterisation
    come from one generator seeded with ``seed``, as in :func:`vaebook.training.train_vae`.
    """
    generator = torch.Generator().manual_seed(seed)  # batches and ε
    optimizer = torch.optim.Adam(vae.parameters(), lr=lr)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: cosine(s, steps))
    losses = []
    for batch in minibatches(x_train, batch_size, steps, generator):
        x_hat, mu, logvar = vae(batch, generator)
        loss = loss_fn(x_hat, batch, mu, logvar)
        if not torch.isfinite(loss):  # stop at once, never train on a NaN
            raise ValueError(f"the loss is {loss.item()} at step {len(losses) + 1}")
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        schedule.step()
        losses.append(loss.item())
    return losses

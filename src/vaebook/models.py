"""K independent tiny MLP VAEs evaluated as one batched model.

Every layer of the K models is stored as one stacked weight of shape ``(K, in, out)`` and one
bias of shape ``(K, 1, out)`` and applied with :func:`torch.baddbmm`, so one forward and one
backward pass compute all K models at once. Nothing couples the members: member ``k`` only
ever reads its own slice of every parameter.
"""

from __future__ import annotations

import math
import operator

import torch
from torch import nn

from vaebook._checks import check_dtype, check_int, check_seed

__all__ = ["DEFAULT_HIDDEN_DIM", "BatchedVAE", "BatchedMLPVAE", "BatchedLinearVAE"]

DEFAULT_HIDDEN_DIM = 64
"""Width of the hidden layer of encoder and decoder. Measured on the digits (5000 Adam steps,
σ = 0.03): 64 tanh units reach a training MSE of 0.024, 32 units only 0.027, and 128 units
cost twice the time per step for no gain at equal wall time."""


def _check_index(value, name: str, n: int) -> None:
    """Check a member index in ``[-n, n)`` (Python or numpy integer; ``bool`` is refused)."""
    try:
        index = None if isinstance(value, bool) else operator.index(value)
    except TypeError:
        index = None
    if index is None or not -n <= index < n:
        raise ValueError(f"{name} must be in [0, {n}), got {value!r}")


_ABSTRACT = "BatchedVAE is the shared base class: build a BatchedMLPVAE or a BatchedLinearVAE"


class BatchedVAE(nn.Module):
    """What every batched VAE of the book shares: ``n_models``, ``data_dim``, ``latent_dim``,
    ``dtype``, ``encode``, ``decode`` and the reparameterised ``forward``.

    Used behind the scenes in chapter *Posterior collapse in the linear VAE*, where the MLP VAE
    gets a linear sibling; :func:`vaebook.training.train_vae` and :func:`vaebook.training.evaluate`
    accept any subclass.
    """

    n_models: int
    data_dim: int
    latent_dim: int
    outputs_per_pixel: int = 1
    """Numbers the decoder outputs per pixel: 1 (a mean or a logit) or 2 (also a log σ)."""

    @property
    def dtype(self) -> torch.dtype:
        """Floating-point type of the parameters."""
        return next(self.parameters()).dtype

    def _add_layers(
        self, layer_sizes: dict[str, tuple[int, int]], seed: int, dtype: torch.dtype
    ) -> None:
        """Register ``<name>_weight`` (K, in, out) and ``<name>_bias`` (K, 1, out) per layer.

        Every member starts from the same weights, drawn uniformly in ±1/sqrt(fan_in) (as
        PyTorch's ``nn.Linear``) from a generator seeded with ``seed``, in float64, so the
        initial weights do not depend on ``dtype`` or on the number of members.
        """
        check_seed(seed)
        generator = torch.Generator().manual_seed(seed)
        for name, (fan_in, fan_out) in layer_sizes.items():
            bound = 1.0 / math.sqrt(fan_in)
            weight = torch.empty(fan_in, fan_out, dtype=torch.float64)
            bias = torch.empty(1, fan_out, dtype=torch.float64)
            weight.uniform_(-bound, bound, generator=generator)
            bias.uniform_(-bound, bound, generator=generator)
            self.register_parameter(
                f"{name}_weight", nn.Parameter(weight.to(dtype).repeat(self.n_models, 1, 1))
            )
            self.register_parameter(
                f"{name}_bias", nn.Parameter(bias.to(dtype).repeat(self.n_models, 1, 1))
            )

    def _per_member(self, x: torch.Tensor, width: int, name: str) -> torch.Tensor:
        """Accept ``(B, width)`` (shared by all members) or ``(K, B, width)``."""
        if not isinstance(x, torch.Tensor) or not x.is_floating_point():
            raise ValueError(f"{name} must be a floating-point torch.Tensor")
        if x.dtype != self.dtype:
            raise ValueError(
                f"{name} has dtype {x.dtype} but the model's parameters have "
                f"{self.dtype}: convert it with {name}.to(model.dtype)"
            )
        if name == "x" and not torch.isfinite(x).all():
            raise ValueError("x contains NaN or infinite values")
        if x.ndim == 2 and x.shape[1] == width:
            return x.unsqueeze(0).expand(self.n_models, -1, -1)
        if x.ndim == 3 and x.shape[0] == self.n_models and x.shape[2] == width:
            return x
        raise ValueError(
            f"{name} must have shape (B, {width}) or ({self.n_models}, B, {width}), "
            f"got {tuple(x.shape)}"
        )

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        raise NotImplementedError(_ABSTRACT)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError(_ABSTRACT)

    def forward(self, x: torch.Tensor, generator: torch.Generator | None = None):
        """``(x_hat, mu, logvar)`` with ``z = mu + exp(logvar / 2) * eps`` (reparameterisation).

        Introduced in chapter *σ trades reconstruction against KL*. The noise ``eps`` has shape
        ``(B, latent_dim)`` and is drawn from ``generator``; all members share it (common random
        numbers), so member ``k`` sees exactly the noise a lone model with the same generator
        would see.
        """
        if generator is not None and not isinstance(generator, torch.Generator):
            raise ValueError(
                f"generator must be a torch.Generator or None, got {type(generator).__name__}"
            )
        mu, logvar = self.encode(x)
        eps = torch.randn(mu.shape[1], self.latent_dim, generator=generator, dtype=mu.dtype)
        z = mu + torch.exp(0.5 * logvar) * eps
        return self.decode(z), mu, logvar


class BatchedMLPVAE(BatchedVAE):
    """``n_models`` independent MLP VAEs with Gaussian encoders, trained in one pass.

    Introduced in chapter *σ trades reconstruction against KL*. Each member is the VAE

    * encoder ``x (D) -> tanh(hidden) -> (mu, logvar)`` of the latent ``z`` (``latent_dim``),
    * decoder ``z -> tanh(hidden) -> x_hat (D)``, the mean of the Gaussian decoder.

    The hidden layers use tanh (measured: SiLU, ReLU and ELU all reached a worse −ELBO at
    small σ in the same number of steps). The decoder's output layer is *linear* (no
    activation): ``x_hat`` is the mean of a Gaussian on the whole real line, as in the formulas
    of the book and in the linear VAE / probabilistic PCA chapter. A sigmoid would bound
    ``x_hat`` to [0, 1] but could never reach the exact 0 of the background pixels, so at
    small σ it would keep pushing its logits towards −∞ instead of converging.

    Every member starts from the *same* initial weights, drawn from ``seed`` (PyTorch's
    ``nn.Linear`` initialisation), so that ``n_models=1`` with the same seed reproduces any
    member exactly and the members of a σ sweep differ by σ alone. ``n_models=1`` is a plain
    VAE. ``dtype`` sets the parameters' floating-point type (float64 for exact comparisons).

    ``outputs_per_pixel=2`` (chapter *Training with a learned σ*) doubles the decoder's output
    layer: the decoder then returns ``(K, B, 2 D)``, a location and a raw ``log σ`` for every pixel,
    for a ``"gaussian-per-pixel"`` likelihood (:class:`vaebook.likelihoods.Likelihood`). Members
    with another likelihood read only the first ``D`` outputs.
    """

    def __init__(
        self,
        n_models: int,
        data_dim: int = 64,
        hidden_dim: int = DEFAULT_HIDDEN_DIM,
        latent_dim: int = 2,
        *,
        seed: int = 0,
        dtype: torch.dtype = torch.float32,
        outputs_per_pixel: int = 1,
    ):
        super().__init__()
        self.n_models = check_int(n_models, "n_models")
        self.data_dim = check_int(data_dim, "data_dim")
        self.hidden_dim = check_int(hidden_dim, "hidden_dim")
        self.latent_dim = check_int(latent_dim, "latent_dim")
        if outputs_per_pixel not in (1, 2) or isinstance(outputs_per_pixel, bool):
            raise ValueError(f"outputs_per_pixel must be 1 or 2, got {outputs_per_pixel!r}")
        self.outputs_per_pixel = outputs_per_pixel
        check_dtype(dtype)
        layer_sizes = {
            "enc_hidden": (data_dim, hidden_dim),
            "enc_out": (hidden_dim, 2 * latent_dim),
            "dec_hidden": (latent_dim, hidden_dim),
            "dec_out": (hidden_dim, outputs_per_pixel * data_dim),
        }
        self.layer_names = tuple(layer_sizes)
        self._add_layers(layer_sizes, seed, dtype)

    def _layer(self, name: str, inputs: torch.Tensor) -> torch.Tensor:
        """``bias + inputs @ weight`` for every member: ``(K, B, in) -> (K, B, out)``."""
        return torch.baddbmm(getattr(self, f"{name}_bias"), inputs, getattr(self, f"{name}_weight"))

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Posterior mean and log-variance, each of shape ``(K, B, latent_dim)``.

        Introduced in chapter *σ trades reconstruction against KL*. ``x`` has shape ``(B, D)``
        (the same batch for every member) or ``(K, B, D)``.
        """
        x = self._per_member(x, self.data_dim, "x")
        hidden = torch.tanh(self._layer("enc_hidden", x))
        mu, logvar = self._layer("enc_out", hidden).chunk(2, dim=-1)
        return mu, logvar

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Decoder output for latents ``(B, L)`` or ``(K, B, L)``: shape ``(K, B, D)``, the mean
        ``x_hat`` (or the logits of a Bernoulli-type likelihood), or ``(K, B, 2 D)`` with
        ``outputs_per_pixel=2``.

        Introduced in chapter *σ trades reconstruction against KL*.
        """
        z = self._per_member(z, self.latent_dim, "z")
        return self._layer("dec_out", torch.tanh(self._layer("dec_hidden", z)))

    @torch.no_grad()
    def copy_member_from(
        self, source: BatchedMLPVAE, source_index: int = 0, target_index: int | None = None
    ) -> BatchedMLPVAE:
        """Copy member ``source_index`` of ``source`` into member ``target_index`` of this model.

        Introduced in chapter *σ trades reconstruction against KL* (warm starts).
        ``target_index=None`` copies it into every member. The architectures must match.
        Returns ``self``.
        """
        if not isinstance(source, BatchedMLPVAE):
            raise ValueError(f"source must be a BatchedMLPVAE, got {type(source).__name__}")
        sizes = ("data_dim", "hidden_dim", "latent_dim", "outputs_per_pixel")
        if any(getattr(source, s) != getattr(self, s) for s in sizes):
            raise ValueError(
                "source must have the same data_dim, hidden_dim, latent_dim and outputs_per_pixel"
            )
        _check_index(source_index, "source_index", source.n_models)
        if target_index is not None:
            _check_index(target_index, "target_index", self.n_models)
        targets = slice(None) if target_index is None else slice(target_index, target_index + 1)
        source_params = dict(source.named_parameters())
        for name, param in self.named_parameters():
            param[targets] = source_params[name][source_index].to(param.dtype)
        return self

    @torch.no_grad()
    def load_plain(self, index: int, vae: nn.Module) -> BatchedMLPVAE:
        """Copy the weights of a plain single VAE into member ``index``; returns ``self``.

        Introduced in chapter *σ trades reconstruction against KL*. ``vae`` is the page's
        ``torch.nn.Module`` with ``encoder`` and ``decoder``, each ``nn.Sequential(nn.Linear,
        nn.Tanh(), nn.Linear)`` of this model's sizes; ``nn.Linear`` stores ``(out, in)``
        weights, a member ``(in, out)``, so each weight is transposed.
        """
        _check_index(index, "index", self.n_models)
        layers = {}
        for part, names in (
            ("encoder", ("enc_hidden", "enc_out")),
            ("decoder", ("dec_hidden", "dec_out")),
        ):
            stack = getattr(vae, part, None)
            kinds = [type(layer) for layer in stack] if isinstance(stack, nn.Sequential) else []
            if kinds != [nn.Linear, nn.Tanh, nn.Linear]:
                raise ValueError(
                    f"vae.{part} must be nn.Sequential(nn.Linear, nn.Tanh(), "
                    f"nn.Linear), got {stack!r}"
                )
            layers.update({names[0]: stack[0], names[1]: stack[2]})
        for name, linear in layers.items():
            weight, bias = getattr(self, f"{name}_weight"), getattr(self, f"{name}_bias")
            if tuple(linear.weight.shape) != tuple(weight.shape[:0:-1]):
                raise ValueError(
                    f"the plain VAE's {name} layer has weight shape "
                    f"{tuple(linear.weight.shape)}, member {index} needs "
                    f"{tuple(weight.shape[:0:-1])}"
                )
            weight[index] = linear.weight.T.to(weight.dtype)
            bias[index, 0] = linear.bias.to(bias.dtype)
        return self

    def member(self, index: int) -> BatchedMLPVAE:
        """A new one-member model holding a copy of member ``index``.

        Introduced in chapter *σ trades reconstruction against KL*.
        """
        _check_index(index, "index", self.n_models)
        single = BatchedMLPVAE(
            1,
            self.data_dim,
            self.hidden_dim,
            self.latent_dim,
            dtype=self.dtype,
            outputs_per_pixel=self.outputs_per_pixel,
        )
        return single.copy_member_from(self, index)


class BatchedLinearVAE(BatchedVAE):
    """``n_models`` independent *linear* VAEs with Gaussian encoders, trained in one pass.

    Introduced in chapter *Posterior collapse in the linear VAE*, which writes one such VAE
    as a plain module and checks that member 0 computes the same. Each member is the
    linear VAE of Lucas et al. (2019):

    * decoder ``x_hat = W z + b``: the mean of the Gaussian ``p(x | z) = N(W z + b, σ² I)``;
    * encoder mean ``mu = V x + c``, linear in ``x``;
    * encoder log-variance: one learned number per latent (and per member), the same for
      every ``x``.

    With σ fixed, its ELBO has the same global optimum as the likelihood of probabilistic PCA
    (Tipping & Bishop, 1999): see :mod:`vaebook.linear`. Weights are stored stacked
    (``dec_weight`` ``(K, L, D)``, so row ``j`` of member ``k`` is the column ``W_j``;
    ``enc_weight`` ``(K, D, L)``; biases ``(K, 1, ·)``; ``enc_logvar`` ``(K, 1, L)``). Every
    member starts from the same weights drawn from ``seed`` (``nn.Linear``'s uniform
    initialisation; log-variances start at 0). ``dtype`` defaults to float64 because the
    chapter compares the trained optimum with a closed form to a few hundredths of a nat.
    """

    def __init__(
        self,
        n_models: int,
        data_dim: int = 64,
        latent_dim: int = 16,
        *,
        seed: int = 0,
        dtype: torch.dtype = torch.float64,
    ):
        super().__init__()
        self.n_models = check_int(n_models, "n_models")
        self.data_dim = check_int(data_dim, "data_dim")
        self.latent_dim = check_int(latent_dim, "latent_dim")
        check_dtype(dtype)
        self._add_layers(
            {"enc": (data_dim, latent_dim), "dec": (latent_dim, data_dim)}, seed, dtype
        )
        self.enc_logvar = nn.Parameter(torch.zeros(n_models, 1, latent_dim, dtype=dtype))

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Posterior mean ``V x + c`` and log-variance (the same for every ``x``), each
        ``(K, B, latent_dim)``.

        Introduced in chapter *Posterior collapse in the linear VAE*. ``x`` has shape
        ``(B, D)`` or ``(K, B, D)``.
        """
        x = self._per_member(x, self.data_dim, "x")
        mu = torch.baddbmm(self.enc_bias, x, self.enc_weight)
        return mu, self.enc_logvar.expand_as(mu)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Decoder mean ``W z + b`` of shape ``(K, B, D)`` for latents ``(B, L)`` or ``(K, B, L)``.

        Introduced in chapter *Posterior collapse in the linear VAE*.
        """
        z = self._per_member(z, self.latent_dim, "z")
        return torch.baddbmm(self.dec_bias, z, self.dec_weight)

    def column_norms_sq(self) -> torch.Tensor:
        """``||W_j||²`` of every decoder column, shape ``(K, latent_dim)`` (not sorted).

        Introduced in chapter *Posterior collapse in the linear VAE*.
        """
        return (self.dec_weight.detach() ** 2).sum(dim=2)

"""A latent plane to explore: move a point and see what each trained decoder makes of it.

Introduced in chapter *σ trades reconstruction against KL*. :func:`latent_explorer` takes the
decoders of a 2-latent σ sweep and the codes of its test digits; :class:`LatentExplorer`
decodes any point of the plane (:meth:`~LatentExplorer.decode`, a NumPy forward pass) and finds
the test digit whose code is nearest (:meth:`~LatentExplorer.nearest`). Those are the view's
callbacks, plain and tested. In a live kernel the view is an ipywidget; on the static website
it is HTML with ``explorer.js`` (next to this file), the same forward pass in JavaScript, fed
with the decoders' float32 weights as they were trained. The tests compare the page's decoding
with torch's in a real browser.
"""

from __future__ import annotations

import base64
import html
import io
import itertools
import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vaebook._checks import check_int
from vaebook.data import IMAGE_SHAPE

__all__ = ["PLANE_EXTENT", "LatentExplorer", "latent_explorer", "decoded_pixel_range"]

PLANE_EXTENT = 4.0
"""Half the side of the plane shown: ``[-4, 4]²``, four prior standard deviations each way."""

_DECODER_LAYERS = ("dec_hidden_weight", "dec_hidden_bias", "dec_out_weight", "dec_out_bias")
_ids = itertools.count()


@dataclass
class View:
    """What the explorer shows for one σ and one point (returned by every callback)."""

    index: int
    point: tuple[float, float]
    decoded: np.ndarray
    nearest: int
    nearest_code: tuple[float, float]
    reconstruction: np.ndarray
    text: str


class LatentExplorer:
    """Decoders of a 2-latent σ sweep, the codes of the test digits, and a point to move.

    Used behind the scenes in chapter *σ trades reconstruction against KL*
    (:func:`latent_explorer` builds it; ``explorer.move`` and ``explorer.select`` are its
    callbacks).

    Parameters
    ----------
    sigmas:
        The σ of each decoder, shape (K,).
    decoders:
        The decoders' weights: ``dec_hidden_weight`` (K, 2, H), ``dec_hidden_bias`` (K, 1, H),
        ``dec_out_weight`` (K, H, D) and ``dec_out_bias`` (K, 1, D), as in
        :class:`vaebook.models.BatchedMLPVAE`. Decoder ``k`` maps a code ``z`` to the mean image
        ``tanh(z W₁ + b₁) W₂ + b₂``.
    codes:
        The posterior mean of every test digit under each encoder, shape (K, N, 2).
    images:
        The test digits, shape (N, D), values in [0, 1].
    labels:
        The digit (0–9) of each test image, shape (N,).
    kl:
        The test KL of each member in nats per image, shape (K,) (shown next to σ).
    start:
        The decoder shown first.
    """

    def __init__(self, sigmas, decoders, codes, images, labels, kl, start: int = 0):
        self.sigmas = _finite_array(sigmas, "sigmas", ndim=1)
        if (self.sigmas <= 0).any():
            raise ValueError(f"sigmas must be positive, got {self.sigmas.tolist()}")
        n_members = self.sigmas.size
        if not isinstance(decoders, dict) or set(decoders) != set(_DECODER_LAYERS):
            got = sorted(decoders) if isinstance(decoders, dict) else type(decoders).__name__
            raise ValueError(f"decoders: expected the layers {list(_DECODER_LAYERS)}, got {got}")
        weights = {
            name: _finite_array(decoders[name], f"decoders[{name!r}]", ndim=3).astype(np.float32)
            for name in _DECODER_LAYERS
        }
        hidden = weights["dec_hidden_weight"].shape[2]
        pixels = weights["dec_out_weight"].shape[2]
        expected = {
            "dec_hidden_weight": (n_members, 2, hidden),
            "dec_hidden_bias": (n_members, 1, hidden),
            "dec_out_weight": (n_members, hidden, pixels),
            "dec_out_bias": (n_members, 1, pixels),
        }
        for name, shape in expected.items():
            if weights[name].shape != shape:
                raise ValueError(
                    f"decoders[{name!r}]: expected shape {shape} (K = {n_members} σ, 2 latents), "
                    f"got {weights[name].shape}"
                )
        if pixels != math.prod(IMAGE_SHAPE):
            raise ValueError(f"decoders: expected {math.prod(IMAGE_SHAPE)} pixels, got {pixels}")
        self.weights = weights
        self.codes = _finite_array(codes, "codes", ndim=3)
        if self.codes.shape[0] != n_members or self.codes.shape[2] != 2:
            raise ValueError(f"codes: expected shape ({n_members}, N, 2), got {self.codes.shape}")
        self.images = _finite_array(images, "images", ndim=2)
        n_images = self.codes.shape[1]
        if self.images.shape != (n_images, pixels):
            raise ValueError(
                f"images: expected shape ({n_images}, {pixels}), got {self.images.shape}"
            )
        if self.images.min() < 0 or self.images.max() > 1:
            raise ValueError("images: pixel values must lie in [0, 1]")
        self.labels = np.asarray(labels)
        if self.labels.shape != (n_images,) or not np.isin(self.labels, np.arange(10)).all():
            raise ValueError(
                f"labels: expected {n_images} digits 0–9, got shape {self.labels.shape}"
            )
        self.kl = _finite_array(kl, "kl", ndim=1)
        if self.kl.shape != (n_members,):
            raise ValueError(f"kl: expected shape ({n_members},), got {self.kl.shape}")
        self.index = self._check_index(start)
        self.point = (0.0, 0.0)
        self._widget = None

    # ----- the callbacks -------------------------------------------------------------------
    def _check_index(self, index) -> int:
        if isinstance(index, bool) or not isinstance(index, (int, np.integer)):
            raise ValueError(f"index: expected an integer, got {index!r}")
        if not 0 <= index < self.sigmas.size:
            raise ValueError(f"index: {index} is outside 0..{self.sigmas.size - 1}")
        return int(index)

    def _check_point(self, z) -> np.ndarray:
        try:
            point = None if isinstance(z, str) else np.asarray(z, dtype=float)
        except (TypeError, ValueError):
            point = None
        if point is None or point.shape != (2,):
            raise ValueError(f"z: expected a point (z1, z2) of the plane, got {z!r}")
        if not np.isfinite(point).all():
            raise ValueError(f"z: expected finite coordinates, got {z!r}")
        return point

    def decode(self, index: int, z) -> np.ndarray:
        """The mean image, shape (D,), that decoder ``index`` makes of the code ``z = (z1, z2)``.

        Computed in float64 from the float32 weights (``explorer.js`` computes the same way);
        torch's float32 forward pass agrees to about 1e-6.
        """
        k, point = self._check_index(index), self._check_point(z)
        w = {name: value[k].astype(np.float64) for name, value in self.weights.items()}
        hidden = np.tanh(point @ w["dec_hidden_weight"] + w["dec_hidden_bias"][0])
        return hidden @ w["dec_out_weight"] + w["dec_out_bias"][0]

    def nearest(self, index: int, z) -> int:
        """The test digit whose code under encoder ``index`` is nearest ``z`` (Euclidean)."""
        k, point = self._check_index(index), self._check_point(z)
        return int(np.argmin(((self.codes[k] - point) ** 2).sum(axis=1)))

    def view(self) -> View:
        """What the explorer shows now: the decoded point, the nearest digit, the words."""
        k, point = self.index, self.point
        near = self.nearest(k, point)
        code = tuple(float(v) for v in self.codes[k, near])
        text = (
            f"σ = {self.sigmas[k]:.3g} (test KL {self.kl[k]:.2f} nats): the point "
            f"({_signed(point[0])}, {_signed(point[1])}) decodes to the first picture. The "
            f"nearest test digit, a {int(self.labels[near])}, has its code at "
            f"({_signed(code[0])}, {_signed(code[1])})."
        )
        return View(
            k,
            point,
            self.decode(k, point),
            near,
            code,
            self.decode(k, code),
            text,
        )

    def select(self, index: int) -> View:
        """Switch to decoder ``index``: the σ slider's callback."""
        self.index = self._check_index(index)
        return self._show()

    def move(self, z1: float, z2: float) -> View:
        """Move the point to ``(z1, z2)``, kept inside the plane shown: the point's callback."""
        for name, value in (("z1", z1), ("z2", z2)):
            if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
                raise ValueError(f"{name}: expected a number, got {value!r}")
        point = self._check_point((z1, z2))
        self.point = tuple(float(np.clip(v, -PLANE_EXTENT, PLANE_EXTENT)) for v in point)
        return self._show()

    # ----- live kernel ---------------------------------------------------------------------
    def plane_png(self) -> bytes:
        """The plane of the current decoder as a PNG: test codes by digit, the point in red."""
        import matplotlib.pyplot as plt

        k = self.index
        fig, ax = plt.subplots(figsize=(3.6, 3.6), dpi=80, constrained_layout=True)
        codes = np.clip(self.codes[k], -PLANE_EXTENT, PLANE_EXTENT)
        ax.scatter(codes[:, 0], codes[:, 1], c=self.labels, cmap="tab10", vmin=0, vmax=9, s=8)
        ax.plot(*self.point, "o", ms=11, mfc="none", mec="white", mew=4)
        ax.plot(*self.point, "o", ms=11, mfc="none", mec="C3", mew=2)
        ax.set(xlim=(-PLANE_EXTENT, PLANE_EXTENT), ylim=(-PLANE_EXTENT, PLANE_EXTENT))
        ax.set(xlabel="z₁", ylabel="z₂", title=f"σ = {self.sigmas[k]:.3g}", aspect="equal")
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png")
        plt.close(fig)
        return buffer.getvalue()

    def digits_png(self, view: View | None = None) -> bytes:
        """The decoded point, the nearest test digit and its reconstruction, as one PNG
        (of ``view``, by default the current :meth:`view`)."""
        import matplotlib.pyplot as plt

        view = self.view() if view is None else view
        fig, axes = plt.subplots(1, 3, figsize=(4.2, 1.7), dpi=80, constrained_layout=True)
        pictures = (view.decoded, self.images[view.nearest], view.reconstruction)
        titles = ("the point", "nearest digit", "its reconstruction")
        for ax, picture, title in zip(axes, pictures, titles):
            ax.imshow(np.clip(picture, 0, 1).reshape(IMAGE_SHAPE), cmap="gray", vmin=0, vmax=1)
            ax.set_title(title, fontsize=9)
            ax.set_axis_off()
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png")
        plt.close(fig)
        return buffer.getvalue()

    def _show(self) -> View:
        """The current view, computed once, and shown in the live widget if there is one."""
        view = self.view()
        if self._widget is not None:
            sigma, z1, z2, plane, digits, words = self._parts
            plane.value, digits.value = self.plane_png(), self.digits_png(view)
            words.value = html.escape(view.text)
            if sigma.index != self.index:
                sigma.index = self.index
            z1.value, z2.value = self.point
        return view

    @property
    def widget(self):
        """The ipywidgets view (built on first use): a σ slider, two sliders for the point."""
        if self._widget is None:
            import ipywidgets as widgets

            wide = widgets.Layout(width="min(24rem, 95%)")
            sigma = widgets.SelectionSlider(
                options=[f"{s:.3g}" for s in self.sigmas],
                index=self.index,
                description="σ",
                layout=wide,
            )
            z1, z2 = (
                widgets.FloatSlider(
                    value=v,
                    min=-PLANE_EXTENT,
                    max=PLANE_EXTENT,
                    step=0.1,
                    description=name,
                    continuous_update=False,
                    layout=wide,
                )
                for name, v in zip(("z₁", "z₂"), self.point)
            )
            view = self.view()
            plane = widgets.Image(value=self.plane_png(), format="png")
            digits = widgets.Image(value=self.digits_png(view), format="png")
            words = widgets.HTML(value=html.escape(view.text))
            sigma.observe(lambda change: self.select(change["new"]), names="index")
            z1.observe(lambda change: self.move(change["new"], self.point[1]), names="value")
            z2.observe(lambda change: self.move(self.point[0], change["new"]), names="value")
            self._parts = (sigma, z1, z2, plane, digits, words)
            self._widget = widgets.VBox([sigma, z1, z2, widgets.HBox([plane, digits]), words])
        return self._widget

    # ----- static website ------------------------------------------------------------------
    def payload(self) -> dict:
        """The data the page's script reads: float32 weights and codes, base64-encoded."""
        return {
            "sigmas": [float(s) for s in self.sigmas],
            "labels_sigma": [f"{s:.3g}" for s in self.sigmas],
            "kl": [round(float(v), 4) for v in self.kl],
            "hidden": int(self.weights["dec_hidden_weight"].shape[2]),
            "pixels": int(self.weights["dec_out_weight"].shape[2]),
            "side": int(IMAGE_SHAPE[1]),
            "extent": PLANE_EXTENT,
            "start": self.index,
            "weights": {name: _b64(value) for name, value in self.weights.items()},
            "codes": _b64(self.codes.astype(np.float32)),
            "images": base64.b64encode(
                np.rint(self.images * 255).astype(np.uint8).tobytes()
            ).decode(),
            "labels": "".join(str(int(v)) for v in self.labels),
        }

    def to_html(self) -> str:
        """A self-contained HTML/JavaScript explorer: no kernel, no network."""
        uid = f"vaebook-explorer-{next(_ids)}"
        data = json.dumps(self.payload()).replace("</", "<\\/")
        script = Path(__file__).with_name("explorer.js").read_text()
        body = Path(__file__).with_name("explorer.html").read_text()
        k = self.index
        return (
            body.replace("{uid}", uid)
            .replace("{last}", str(self.sigmas.size - 1))
            .replace("{start}", str(k))
            .replace("{sigma}", f"{self.sigmas[k]:.3g}")
            .replace("{words}", html.escape(self.view().text))
            .replace("{payload}", data)
            .replace("{script}", script.replace("{uid}", uid))
        )

    def _repr_mimebundle_(self, include=None, exclude=None):
        bundle = dict(self.widget._repr_mimebundle_(include=include, exclude=exclude) or {})
        bundle["text/html"] = self.to_html()
        bundle["text/plain"] = f"LatentExplorer({self.sigmas.size} decoders)"
        return bundle


def _b64(array: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(array, dtype="<f4").tobytes()).decode()


def _signed(value: float) -> str:
    return f"{value:.2f}".replace("-", "−")


def _finite_array(value, name: str, ndim: int) -> np.ndarray:
    try:
        array = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"{name}: expected numbers, got {type(value).__name__}") from None
    if array.ndim != ndim:
        raise ValueError(f"{name}: expected {ndim} dimensions, got shape {array.shape}")
    if array.size == 0:
        raise ValueError(f"{name}: is empty")
    if not np.isfinite(array).all():
        raise ValueError(f"{name}: contains NaN or infinite values")
    return array


def _check_sweep(result) -> None:
    weights = getattr(result, "weights", None)
    if weights is None or getattr(result, "latent_means", None) is None:
        raise ValueError(f"result: expected a sweep result, got {type(result).__name__}")
    if not set(_DECODER_LAYERS) <= set(weights):
        raise ValueError("result: the explorer needs the MLP decoder of run_sigma_sweep")
    if result.latent_means.shape[-1] != 2:
        raise ValueError(
            f"result: the explorer shows a plane, so the VAEs need 2 latents, got "
            f"{result.latent_means.shape[-1]}"
        )
    for config in result.configs:
        if config.likelihood != "gaussian" or config.code_loss:
            raise ValueError(
                "result: every member must have a Gaussian decoder with a fixed σ (its output is "
                f"the mean image); {config.label!r} has {config.likelihood!r}"
                + (f" and the code loss {config.code_loss!r}" if config.code_loss else "")
            )
    if len({config.data for config in result.configs}) > 1:
        raise ValueError("result: every member must see the same test digits")


def latent_explorer(result, start: int | None = None) -> LatentExplorer:
    """The latent explorer of a 2-latent σ sweep (:func:`vaebook.experiment.run_sigma_sweep`).

    Introduced in chapter *σ trades reconstruction against KL*: the decoders of every σ, the
    test digits and their codes (the posterior means), ``start`` the σ shown first (the middle
    one by default).
    """
    _check_sweep(result)
    n = len(result.sigmas)
    x_test, _ = result.test_data()
    return LatentExplorer(
        result.sigmas,
        {name: result.weights[name] for name in _DECODER_LAYERS},
        result.latent_means,
        x_test[0].numpy(),
        result.latent_labels,
        result.kl,
        start=n // 2 if start is None else start,
    )


def decoded_pixel_range(result, points: int = 41) -> np.ndarray:
    """How much the decoded image changes over the plane: for each member, the largest range
    (max − min) of any pixel over a ``points × points`` grid of ``[-4, 4]²``. Shape (K,).

    Introduced in chapter *σ trades reconstruction against KL*: near 0 means every point of
    the plane decodes to the same picture (the decoder ignores the code).
    """
    import torch

    _check_sweep(result)
    points = check_int(points, "points", minimum=2)
    grid = np.linspace(-PLANE_EXTENT, PLANE_EXTENT, points)
    z = np.stack(np.meshgrid(grid, grid), axis=-1).reshape(-1, 2)
    with torch.no_grad():
        decoded = result.model().decode(torch.tensor(z, dtype=torch.float32)).numpy()
    return (decoded.max(axis=1) - decoded.min(axis=1)).max(axis=1)

"""Pictures of trained VAEs, and the σ slider built from them.

Introduced in chapter *σ trades reconstruction against KL*. The functions here are the slider's
callbacks: given a cached sweep and a grid index, they return the numbers and the picture for
that σ. They are plain functions, tested directly; :func:`sigma_slider` only wires them into a
:class:`vaebook.widgets.FrameSlider`.
"""

from __future__ import annotations

import math

import numpy as np

from vaebook._checks import check_int, check_number
from vaebook.data import IMAGE_SHAPE
from vaebook.widgets import (
    Frame,
    FrameSlider,
    Picture,
    figure_to_png,
    numbers_table,
    picture_html,
)

SLIDER_DPI = 70
"""Pixels per inch of a slider frame as shown on a wide screen (CSS pixels): a frame is drawn
at twice that, for high-density screens. Phones get its panels stacked (:data:`FIGURE_DPI`,
:data:`NARROW_WIDTH`)."""

BOOK_STYLE = {"figure.dpi": 80}
"""The matplotlib settings every chapter's figures share (:func:`use_book_style`)."""

FIGURE_DPI = BOOK_STYLE["figure.dpi"]
"""CSS pixels per inch of a chapter figure as shown (drawn at twice that)."""

NARROW_WIDTH = 4.4
"""Width in inches of a figure's narrow rendering (its panels stacked): 352 CSS pixels at
:data:`FIGURE_DPI`, within the 358 px column of a 390 px phone, where its 10-point tick
labels show at 11 CSS pixels."""

MARKER_GID = "vaebook-marker"
"""The ``gid`` of the artist that marks a slider's current value (the σ point): its place in
each rendering is written into the page (``data-marker-x``, ``data-marker-y``)."""


def use_book_style() -> None:
    """Apply :data:`BOOK_STYLE` to matplotlib: the chapters' one piece of shared set-up.

    Introduced in chapter *σ trades reconstruction against KL* (in a hidden first cell).
    """
    import matplotlib

    matplotlib.rcParams.update(BOOK_STYLE)


def text_sizes(fig) -> dict:
    """The smallest font sizes (points) of a figure's shown text: ``"tick"``, its tick
    labels, and ``"text"``, all its text (titles, axis labels, legends, notes); None where
    it has none.

    Used behind the scenes in chapter *σ trades reconstruction against KL*. Tick labels and
    axis labels of an axis that is switched off do not count.
    """
    from matplotlib.text import Text

    if not hasattr(fig, "findobj") or not hasattr(fig, "axes"):
        raise ValueError(f"fig: expected a matplotlib figure, got {type(fig).__name__}")
    fig.canvas.draw()  # tick labels get their text when the figure is drawn
    ticks, hidden = [], set()
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            labels = [
                label
                for tick in axis.get_major_ticks() + axis.get_minor_ticks()
                for label in (tick.label1, tick.label2)
            ]
            if ax.get_visible() and ax.axison and axis.get_visible():
                ticks += [label for label in labels if label.get_visible() and label.get_text()]
            else:
                hidden |= {id(label) for label in labels} | {id(axis.label)}
    shown = [
        text
        for text in fig.findobj(Text)
        if id(text) not in hidden and text.get_visible() and text.get_text().strip()
    ]
    ticks = [label for label in ticks if label.get_text().strip()]
    return {
        "tick": min((label.get_fontsize() for label in ticks), default=None),
        "text": min((text.get_fontsize() for text in shown), default=None),
    }


def _marker_position(fig):
    """Where the artist of :data:`MARKER_GID` is: fractions of the width and height from the
    top left corner (the middle of its first and last point), or None."""
    found = fig.findobj(lambda artist: artist.get_gid() == MARKER_GID)
    if not found:
        return None
    xy = np.asarray(found[0].get_xydata(), dtype=float)
    middle = (xy[0] + xy[-1]) / 2
    x, y = fig.transFigure.inverted().transform(found[0].get_transform().transform(middle))
    return float(x), float(1 - y)


def figure_picture(fig, dpi: float = FIGURE_DPI, *, tight: bool = True) -> Picture:
    """Draw ``fig`` at twice ``dpi`` into a :class:`~vaebook.widgets.Picture` shown at ``dpi``
    CSS pixels per inch, with the facts a page needs (the figure stays open).

    Used behind the scenes in chapter *σ trades reconstruction against KL*. The picture's data
    say the font size, in pixels of the PNG, of its smallest tick label (``tick-px``) and of
    its smallest text (``text-px``), and, for a figure with a :data:`MARKER_GID` artist drawn
    whole (``tight=False``), where that marker is (``marker-x``, ``marker-y``). ``tight``
    crops the figure to what it draws.
    """
    from vaebook.widgets import png_size

    if not hasattr(fig, "savefig"):
        raise ValueError(f"fig: expected a matplotlib figure, got {type(fig).__name__}")
    dpi = check_number(dpi, "dpi")
    png = figure_to_png(fig, dpi=dpi, density=2, tight=tight, close=False)
    pixels = 2 * dpi / 72  # pixels of the PNG per point
    data = {
        f"{kind}-px": f"{size * pixels:.2f}"
        for kind, size in text_sizes(fig).items()
        if size is not None
    }
    marker = None if tight else _marker_position(fig)
    if marker is not None:
        data["marker-x"], data["marker-y"] = (f"{value:.4f}" for value in marker)
    width, height = png_size(png)
    return Picture(png, max(1, round(width / 2)), max(1, round(height / 2)), data)


def _panel_height(ax, width: float) -> float:
    """A stacked panel's height (inches): an image keeps its shape, a plot gets 2.8 inches."""
    if ax.images and not ax.lines and not ax.collections:
        rows, cols = ax.images[0].get_array().shape[:2]
        title = 0.35 if ax.get_title() else 0.1
        return float(min(3.0, max(0.6, (width - 0.2) * rows / cols + title)))
    return 2.8


def stack_panels(fig, order=None, heights=None, width: float = NARROW_WIDTH):
    """Rearrange the panels of ``fig`` into one column ``width`` inches wide, for phones.

    Used behind the scenes in chapter *σ trades reconstruction against KL*. The panels are
    taken row by row, left to right, or in ``order`` (a list of their indices in that
    reading order); ``heights`` gives each stacked panel's height in inches (default: an
    image keeps its shape, a plot is 2.8 inches tall). Colour bars follow their panel; the
    figure is laid out by matplotlib's constrained layout. Returns ``fig``.
    """
    from matplotlib.gridspec import GridSpec

    if not hasattr(fig, "axes") or not hasattr(fig, "set_size_inches"):
        raise ValueError(f"fig: expected a matplotlib figure, got {type(fig).__name__}")
    width = check_number(width, "width")
    panels = [ax for ax in fig.axes if ax.get_subplotspec() is not None]
    if not panels:
        raise ValueError("fig: has no panels (axes of a subplot grid) to stack")
    panels.sort(
        key=lambda ax: (ax.get_subplotspec().rowspan.start, ax.get_subplotspec().colspan.start)
    )
    if order is not None:
        indices = list(range(len(panels)))
        integers = isinstance(order, (list, tuple)) and all(
            isinstance(i, int) and not isinstance(i, bool) for i in order
        )
        if not integers or sorted(order) != indices:
            raise ValueError(
                f"order: expected each of the {len(panels)} panel indices 0..{len(panels) - 1} "
                f"once, got {order!r}"
            )
        panels = [panels[i] for i in order]
    if heights is None:
        heights = [_panel_height(ax, width) for ax in panels]
    elif not isinstance(heights, (list, tuple)) or len(heights) != len(panels):
        raise ValueError(f"heights: expected {len(panels)} heights in inches, got {heights!r}")
    heights = [check_number(height, "heights") for height in heights]
    if fig.get_layout_engine() is None:
        fig.set_layout_engine("constrained")
    grid = GridSpec(len(panels), 1, figure=fig, height_ratios=heights)
    for row, ax in enumerate(panels):
        ax.set_subplotspec(grid[row, 0])
    fig.set_size_inches(width, sum(heights))
    return fig


class ResponsiveFigure:
    """A chapter figure for every screen: as drawn, and its panels stacked for phones.

    Used behind the scenes in chapter *σ trades reconstruction against KL*
    (:func:`responsive_figure` makes it). On the website it is a ``<picture>``: phones
    (:data:`~vaebook.widgets.NARROW_MEDIA`) get ``narrow``, other screens ``wide``, both
    with twice the pixels they are shown at and the same alt text; a notebook without HTML
    gets the wide PNG.
    """

    def __init__(self, wide: Picture, alt: str, narrow: Picture | None = None):
        picture_html(wide, alt, narrow)  # checks the arguments
        self.wide, self.alt, self.narrow = wide, alt, narrow

    def to_html(self) -> str:
        return picture_html(self.wide, self.alt, self.narrow)

    def _repr_mimebundle_(self, include=None, exclude=None):
        data = {
            "text/html": self.to_html(),
            "image/png": self.wide.png,
            "text/plain": f"<figure: {self.alt[:70]}…>",
        }
        return data, {"image/png": {"width": self.wide.width}}


def responsive_figure(fig, alt: str, *, narrow=None, order=None, heights=None):
    """Show ``fig`` on every screen: a :class:`ResponsiveFigure` (the cell's last value, in
    place of ``plt.show()``), drawn once as it is and once for phones; closes the figure.

    Introduced in chapter *What a loss assumes: its σ and its likelihood*. For phones,
    ``narrow`` is a second figure drawn for them (it is closed too), or else
    :func:`stack_panels` stacks the panels of ``fig`` (``order``, ``heights``). ``alt``
    describes the figure for readers who cannot see it.
    """
    import matplotlib.pyplot as plt

    figures = [item for item in (fig, narrow) if hasattr(item, "savefig")]
    try:
        if not hasattr(fig, "savefig"):
            raise ValueError(f"fig: expected a matplotlib figure, got {type(fig).__name__}")
        if narrow is not None and (order is not None or heights is not None):
            raise ValueError("order, heights: only for stacking fig, not with a narrow figure")
        if narrow is not None and not hasattr(narrow, "savefig"):
            raise ValueError(
                f"narrow: expected a matplotlib figure or None, got {type(narrow).__name__}"
            )
        if not isinstance(alt, str) or not alt.strip():
            raise ValueError(f"alt: expected a non-empty description, got {alt!r}")
        wide = figure_picture(fig)
        if narrow is None:
            narrow = stack_panels(fig, order=order, heights=heights)
        return ResponsiveFigure(wide, alt, figure_picture(narrow))
    finally:
        for item in figures:
            plt.close(item)


def _check_index(result, index) -> int:
    if getattr(result, "sigmas", None) is None:
        raise ValueError(
            f"result: expected a sweep result (with sigmas), got {type(result).__name__}"
        )
    n = len(result.sigmas)
    if n == 0:
        raise ValueError("result: the sweep has an empty σ grid")
    if isinstance(index, bool) or not isinstance(index, (int, np.integer)) or not 0 <= index < n:
        raise ValueError(f"index: expected an integer in 0..{n - 1}, got {index!r}")
    return int(index)


def image_strip(images, n_cols: int, shape=IMAGE_SHAPE, gap: int = 1) -> np.ndarray:
    """Tile flat images (N, H·W) into one array of ``n_cols`` columns, with white gaps.

    Introduced in chapter *σ trades reconstruction against KL*.
    """
    if not isinstance(shape, (tuple, list)) or len(shape) != 2:
        raise ValueError(f"shape: expected (height, width), got {shape!r}")
    height, width = (check_int(size, "shape") for size in shape)
    n_cols, gap = check_int(n_cols, "n_cols"), check_int(gap, "gap", minimum=0)
    try:
        images = np.asarray(images, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(
            f"images: expected numbers of shape (N, {height * width}), got {type(images).__name__}"
        ) from None
    if images.ndim != 2 or images.shape[1] != shape[0] * shape[1]:
        raise ValueError(f"images: expected shape (N, {shape[0] * shape[1]}), got {images.shape}")
    if not np.isfinite(images).all():
        raise ValueError("images: contain NaN or infinite values")
    n_rows = -(-len(images) // n_cols)
    height, width = shape
    canvas = np.ones((n_rows * (height + gap) - gap, n_cols * (width + gap) - gap))
    for i, image in enumerate(np.clip(images, 0.0, 1.0)):
        row, col = divmod(i, n_cols)
        top, left = row * (height + gap), col * (width + gap)
        canvas[top : top + height, left : left + width] = 1.0 - image.reshape(shape)
    return canvas


def sigma_numbers(result, index: int) -> dict[str, str]:
    """The numbers the σ slider shows for grid point ``index`` (formatted strings).

    Used behind the scenes in chapter *σ trades reconstruction against KL*.
    """
    i = _check_index(result, index)
    kl_per_latent = ", ".join(f"{value:.2f}" for value in result.kl_per_latent[i])
    return {
        "σ (decoder standard deviation)": f"{result.sigmas[i]:.3g}",
        "per-pixel MSE, test digits": f"{result.mse[i]:.4f}",
        "per-pixel MSE, training digits": f"{result.train_mse[i]:.4f}",
        "SSE per test image": f"{result.recon_sse[i]:.2f}",
        "KL, total (nats)": f"{result.kl[i]:.2f}",
        "KL per latent (nats)": kl_per_latent,
        "−ELBO (nats per image)": f"{result.neg_elbo[i]:.1f}",
        "active latent units": f"{int(result.active_units[i])} of {result.kl_per_latent.shape[1]}",
    }


def sigma_figure(result, index: int):
    """The σ slider's picture for grid point ``index``: a matplotlib figure with four panels.

    Used behind the scenes in chapter *σ trades reconstruction against KL*. Top left: test digits
    (top row) and their reconstructions (bottom row). Top right: decoded samples from the prior.
    Bottom left: the test digits' posterior means in the 2-D latent space, coloured by class.
    Bottom right: the sweep's rate (KL) against distortion (per-pixel MSE) on the training digits,
    the trade the training objective makes, with this σ marked.
    """
    import matplotlib.pyplot as plt

    i = _check_index(result, index)
    fig, axes = plt.subplots(2, 2, figsize=(8.4, 6.6), constrained_layout=True)
    (ax_recon, ax_samples), (ax_latent, ax_rd) = axes
    n_recon = len(result.recon_originals)
    pair = np.concatenate([result.recon_originals, result.reconstructions[i]])
    ax_recon.imshow(image_strip(pair, n_cols=n_recon), cmap="gray", vmin=0, vmax=1)
    ax_recon.set_title("test digits (top) and reconstructions")
    samples = result.prior_samples[i]
    ax_samples.imshow(
        image_strip(samples, n_cols=int(np.ceil(np.sqrt(len(samples))))),
        cmap="gray",
        vmin=0,
        vmax=1,
    )
    ax_samples.set_title("samples from the prior, decoded")
    for ax in (ax_recon, ax_samples):
        ax.set_xticks([])
        ax.set_yticks([])
    latent = result.latent_means[i]
    points = ax_latent.scatter(
        latent[:, 0], latent[:, 1], c=result.latent_labels, cmap="tab10", s=6, vmin=-0.5, vmax=9.5
    )
    fig.colorbar(points, ax=ax_latent, ticks=range(10), label="digit")
    ax_latent.set(
        xlabel="$z_1$ (posterior mean)", ylabel="$z_2$", title="latent space, test digits"
    )
    ax_latent.set(xlim=(-4, 4), ylim=(-4, 4))
    ax_rd.plot(
        result.train_kl, result.train_mse, "o-", color="0.6", markersize=4, label="the σ sweep"
    )
    ax_rd.plot(
        result.train_kl[i],
        result.train_mse[i],
        "o",
        color="C3",
        markersize=10,
        label=f"σ = {result.sigmas[i]:.3g}",
        gid=MARKER_GID,
    )
    ax_rd.set(
        xlabel="rate: KL (nats)",
        ylabel="distortion: per-pixel MSE",
        title="rate–distortion (training digits)",
        yscale="log",
    )
    ax_rd.legend(loc="upper right")
    return fig


def slider_frame(
    fig, label: str, alt: str, numbers: dict[str, str], *, order=None, heights=None
) -> Frame:
    """A slider frame from a figure: drawn at twice :data:`SLIDER_DPI`, shown at its size,
    and, for phones, with its panels stacked (:func:`stack_panels`, ``order``, ``heights``).

    Used behind the scenes in chapter *σ trades reconstruction against KL*. Closes ``fig``.
    """
    import matplotlib.pyplot as plt

    if not hasattr(fig, "get_size_inches"):
        raise ValueError(f"fig: expected a matplotlib figure, got {type(fig).__name__}")
    try:
        wide = figure_picture(fig, SLIDER_DPI, tight=False)
        stacked = stack_panels(fig, order=order, heights=heights)
        narrow = figure_picture(stacked, FIGURE_DPI, tight=False)
    finally:
        plt.close(fig)
    return Frame(
        label=label,
        png=wide.png,
        alt=alt,
        numbers_html=numbers_table(numbers),
        width=wide.width,
        narrow=narrow,
        data=wide.data,
    )


def sigma_frame(result, index: int) -> Frame:
    """One precomputed slider frame for grid point ``index``.

    Used behind the scenes in chapter *σ trades reconstruction against KL*.
    """
    numbers = sigma_numbers(result, index)
    sigma = numbers["σ (decoder standard deviation)"]
    alt = (
        f"For σ = {sigma}: test digits and their reconstructions, decoded prior samples, the "
        f"2-D latent space coloured by digit, and this σ's point on the rate–distortion "
        f"curve (KL {numbers['KL, total (nats)']} nats, test MSE "
        f"{numbers['per-pixel MSE, test digits']})."
    )
    # On a phone the rate–distortion panel, with this σ's point, comes first, under the slider.
    return slider_frame(sigma_figure(result, index), sigma, alt, numbers, order=[3, 0, 1, 2])


def sigma_slider(result, start: int | None = None) -> FrameSlider:
    """The σ slider over a cached sweep: every frame is rendered once, up front.

    Introduced in chapter *σ trades reconstruction against KL*. Moving the slider then only
    swaps a precomputed picture, in a live kernel and on the static website alike.
    """
    n = len(result.sigmas)
    if n == 0:
        raise ValueError("result: the sweep has an empty σ grid")
    start = n // 2 if start is None else _check_index(result, start)
    frames = [sigma_frame(result, i) for i in range(n)]
    return FrameSlider(
        frames, description="σ", aria_label="Decoder standard deviation σ", start=start
    )


def linear_figure(result, index: int, n_eigen: int = 20):
    """The linear-VAE slider's picture for σ number ``index`` of a linear sweep.

    Used behind the scenes in chapter *Posterior collapse in the linear VAE*. Left: the top
    ``n_eigen`` eigenvalues λ_i of the data covariance as bars (dark: λ_i > σ², the directions that
    survive), the line σ², and the trained ``||W_i||² + σ²`` as dots (they sit on the bars of the
    surviving directions and on the line for the collapsed ones). Right: test digits (upper half)
    and their reconstructions (lower half).
    """
    import matplotlib.pyplot as plt

    i = _check_index(result, index)
    n_eigen = check_int(n_eigen, "n_eigen")
    sigma_sq = float(result.sigmas[i]) ** 2
    latent_dim = result.column_norms_sq.shape[1]
    values = np.asarray(result.eigenvalues)[:n_eigen]
    ranks = np.arange(1, values.size + 1)
    fig, (ax_eig, ax_recon) = plt.subplots(
        1, 2, figsize=(9, 3.2), constrained_layout=True, gridspec_kw={"width_ratios": [1.2, 1]}
    )
    survive = values > sigma_sq
    ax_eig.bar(ranks[survive], values[survive], color="C0", label="λᵢ > σ²: survives")
    ax_eig.bar(ranks[~survive], values[~survive], color="0.8", label="λᵢ ≤ σ²: collapses")
    ax_eig.axhline(sigma_sq, color="C3", ls="--", label=f"σ² = {sigma_sq:.3g}", gid=MARKER_GID)
    k = min(latent_dim, values.size)
    ax_eig.plot(
        ranks[:k],
        result.column_norms_sq[i][:k] + sigma_sq,
        "o",
        color="k",
        ms=4,
        label="trained ‖Wᵢ‖² + σ²",
    )
    ax_eig.set(
        xlabel="direction i (eigenvalues, largest first)",
        ylabel="variance",
        title=f"{int(result.active_units[i])} of {latent_dim} latents active",
        xticks=[1, *range(5, values.size + 1, 5)],
    )
    ax_eig.legend(loc="upper right", fontsize=8)
    n_recon = len(result.recon_originals)
    pair = np.concatenate([result.recon_originals, result.reconstructions[i]])
    n_cols = n_recon // 2 if n_recon > 4 and n_recon % 2 == 0 else n_recon
    ax_recon.imshow(image_strip(pair, n_cols=n_cols), cmap="gray", vmin=0, vmax=1)
    ax_recon.set_title("test digits (top), reconstructions (bottom)")
    ax_recon.set_xticks([])
    ax_recon.set_yticks([])
    return fig


def linear_numbers(result, index: int) -> dict[str, str]:
    """The numbers the linear-VAE slider shows for σ number ``index`` (formatted strings).

    Used behind the scenes in chapter *Posterior collapse in the linear VAE*.
    """
    i = _check_index(result, index)
    return {
        "σ (decoder standard deviation)": f"{result.sigmas[i]:.3g}",
        "active latents, trained / predicted #{λᵢ > σ²}": (
            f"{int(result.active_units[i])} / {int(result.predicted_active[i])}"
        ),
        "−ELBO, trained (nats per digit)": f"{result.train_neg_elbo[i]:.3f}",
        "−log p(x), closed-form optimum": f"{result.optimal_nll[i]:.3f}",
        "largest |‖Wᵢ‖² − (λᵢ − σ²)|": (
            f"{np.abs(result.column_norms_sq[i] - result.predicted_norms_sq[i]).max():.3f}"
        ),
    }


def linear_slider(result, start: int | None = None) -> FrameSlider:
    """The σ slider over a linear sweep: spectrum with the σ² line, plus reconstructions.

    Introduced in chapter *Posterior collapse in the linear VAE*. Every frame is rendered once,
    up front, as in :func:`sigma_slider`.
    """
    n = len(result.sigmas)
    if n == 0:
        raise ValueError("result: the sweep has an empty σ grid")
    start = n // 2 if start is None else _check_index(result, start)
    frames = []
    for i in range(n):
        numbers = linear_numbers(result, i)
        sigma = numbers["σ (decoder standard deviation)"]
        alt = (
            f"For σ = {sigma}: the largest eigenvalues of the digits' covariance as bars, "
            f"the line σ² = {result.sigmas[i] ** 2:.3g}, the "
            f"{int(result.active_units[i])} eigenvalues above it marked as surviving, the "
            f"trained squared decoder column norms plus σ² on top of them, and test digits "
            f"with their reconstructions."
        )
        frames.append(slider_frame(linear_figure(result, i), sigma, alt, numbers))
    return FrameSlider(
        frames, description="σ", aria_label="Decoder standard deviation σ", start=start
    )


def _check_labels(result, labels) -> list[int]:
    if isinstance(labels, str) or not isinstance(labels, (list, tuple)) or not labels:
        raise ValueError(f"labels: expected a non-empty list of variant labels, got {labels!r}")
    return [result.index_of(label) for label in labels]


def history_figure(
    result, labels, quantity: str = "min_scale", ylabel: str = "σ", log: bool = True
):
    """Training curves of some variants of a :class:`~vaebook.experiment.Result`.

    Introduced in chapter *Training with a learned σ*. ``quantity`` is a key of ``result.history``
    (``"min_scale"``, ``"loss"``, ``"nll"`` or ``"kl"``), plotted against the step for each
    variant in ``labels``.
    """
    import matplotlib.pyplot as plt

    if quantity not in result.history or quantity == "step":
        raise ValueError(f"quantity must be one of loss, nll, kl, min_scale, got {quantity!r}")
    indices = _check_labels(result, labels)
    fig, ax = plt.subplots(figsize=(6.4, 3.2), constrained_layout=True)
    for index, label in zip(indices, labels):
        ax.plot(result.history["step"], result.history[quantity][:, index], label=label)
    ax.set(xlabel="training step", ylabel=ylabel, yscale="log" if log else "linear")
    ax.legend()
    return fig


def rate_distortion_figure(sweep, result, labels):
    """The σ sweep's rate–distortion curve (training digits) with some variants on it.

    Introduced in chapter *Training with a learned σ*. Grey: the fixed-σ VAEs of
    :func:`~vaebook.experiment.run_sigma_sweep`, labelled by σ; coloured: the variants in
    ``labels``, labelled by the σ they ended with.
    """
    import matplotlib.pyplot as plt

    indices = _check_labels(result, labels)
    fig, ax = plt.subplots(figsize=(6.4, 3.6), constrained_layout=True)
    ax.plot(
        sweep.train_kl,
        sweep.train_mse,
        "o-",
        color="0.6",
        markersize=4,
        label="fixed σ (the σ sweep)",
    )
    for kl, mse, sigma in zip(sweep.train_kl, sweep.train_mse, sweep.sigmas):
        if 1 < kl < 9:
            ax.annotate(
                f"{sigma:.2g}",
                (kl, mse),
                textcoords="offset points",
                xytext=(3, 5),
                fontsize=8,
                color="0.4",
            )
    markers = "s^vD"
    for n, (index, label) in enumerate(zip(indices, labels)):
        ax.plot(
            result.train_kl[index],
            result.train_mse[index],
            markers[n % 4],
            markersize=9,
            label=f"{label}: σ = {result.scale[index]:.3f}",
        )
    ax.set(
        xlabel="rate: KL (nats)",
        ylabel="distortion: per-pixel MSE",
        yscale="log",
        xlim=(0, 10),
        title="rate–distortion, training digits",
    )
    ax.legend(fontsize=8)
    return fig


def pixel_maps_figure(
    maps: dict, *, log: bool = False, vmin=None, vmax=None, colorbar_label: str = ""
):
    """A row of 8×8 heat maps, one per ``title: array of 64 values`` in ``maps``.

    Introduced in chapter *Training with a learned σ* (per-pixel σ). ``log`` uses a
    logarithmic colour scale.
    """
    import matplotlib.pyplot as plt
    from matplotlib.colors import LogNorm, Normalize

    if not isinstance(maps, dict):
        raise ValueError(f"maps: expected a dict of title: 64 values, got {type(maps).__name__}")
    if not maps:
        raise ValueError("maps must hold at least one image")
    values = {}
    for title, image in maps.items():
        try:
            values[title] = np.asarray(image, dtype=float).reshape(IMAGE_SHAPE)
        except (TypeError, ValueError):
            raise ValueError(
                f"maps: {title!r} must be 64 numbers (an 8×8 image), got {np.size(image)} values"
            ) from None
    if any(not np.isfinite(image).all() for image in values.values()):
        raise ValueError("maps contain NaN or infinite values")
    norm = (LogNorm if log else Normalize)(vmin=vmin, vmax=vmax)
    fig, axes = plt.subplots(
        1,
        len(values),
        figsize=(2.6 * len(values) + 0.8, 2.6),
        constrained_layout=True,
        squeeze=False,
    )
    for ax, (title, image) in zip(axes[0], values.items()):
        shown = ax.imshow(image, cmap="viridis", norm=norm)
        ax.set_title(title, fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.colorbar(shown, ax=axes[0].tolist(), label=colorbar_label)
    return fig


def variant_images_figure(result, labels=None, n_samples: int = 8, narrow: bool = False):
    """For variants of a :class:`~vaebook.experiment.Result` (default: all): their test
    digits, reconstructions and decoded prior samples (means of ``p(x | z)``), a row each.

    Introduced in chapter *Training other likelihoods side by side*. ``narrow=True`` draws it
    for phones (:func:`responsive_figure`): one panel per variant, titled with its label,
    whose three rows are the test digits, their reconstructions and the samples.
    """
    import matplotlib.pyplot as plt

    labels = result.labels if labels is None else list(labels)
    indices = _check_labels(result, labels)
    n_samples = check_int(n_samples, "n_samples")
    if not isinstance(narrow, bool):
        raise ValueError(f"narrow: expected True or False, got {narrow!r}")
    if narrow:
        return _variant_images_narrow(result, labels, indices, n_samples)
    fig, axes = plt.subplots(
        len(labels), 2, figsize=(8.4, 1.25 * len(labels)), constrained_layout=True, squeeze=False
    )
    for row, (k, label) in enumerate(zip(indices, labels)):
        originals = result.recon_originals
        originals = originals[k] if originals.ndim == 3 else originals
        pair = np.concatenate([originals, result.reconstructions[k]])
        axes[row, 0].imshow(image_strip(pair, n_cols=len(originals)), cmap="gray", vmin=0, vmax=1)
        axes[row, 1].imshow(
            image_strip(result.prior_samples[k][:n_samples], n_cols=n_samples),
            cmap="gray",
            vmin=0,
            vmax=1,
        )
        axes[row, 0].set_ylabel(label, rotation=0, ha="right", va="center", fontsize=9)
        for ax in axes[row]:
            ax.set_xticks([])
            ax.set_yticks([])
    axes[0, 0].set_title("test digits (top) and reconstructions", fontsize=9)
    axes[0, 1].set_title("samples from the prior, decoded", fontsize=9)
    return fig


def _variant_images_narrow(result, labels, indices, n_samples: int):
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(
        len(labels),
        1,
        figsize=(NARROW_WIDTH, 0.3 + 1.75 * len(labels)),
        constrained_layout=True,
        squeeze=False,
    )
    fig.suptitle("rows: test digits, reconstructions, samples from the prior", fontsize=10)
    for ax, k, label in zip(axes[:, 0], indices, labels):
        originals = result.recon_originals
        originals = originals[k] if originals.ndim == 3 else originals
        n_cols = max(len(originals), n_samples)
        rows = [originals, result.reconstructions[k], result.prior_samples[k][:n_samples]]
        tiles = np.concatenate([_padded(images, n_cols)[:n_cols] for images in rows])
        ax.imshow(image_strip(tiles, n_cols=n_cols), cmap="gray", vmin=0, vmax=1)
        ax.set_title(label, fontsize=10)
        ax.set_xticks([])
        ax.set_yticks([])
    return fig


def _padded(images, n_cols: int) -> np.ndarray:
    """``images`` (N, 64) with blank (0) images appended up to ``n_cols``."""
    images = np.asarray(images, dtype=float)
    missing = n_cols - len(images)
    return np.concatenate([images, np.zeros((missing, images.shape[1]))]) if missing > 0 else images


PIXEL_MEANS = (0.02, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.98)
"""The decoder predictions the one-pixel likelihood slider steps through."""


def _check_pixel_arguments(mean, sigma, b) -> tuple[float, float, float]:
    values = [
        check_number(value, name) for name, value in (("mean", mean), ("sigma", sigma), ("b", b))
    ]
    if values[0] >= 1:
        raise ValueError(f"mean must lie strictly between 0 and 1, got {mean!r}")
    return tuple(values)


def pixel_densities(mean: float, sigma: float, b: float, n_grid: int = 2001) -> dict:
    """What each likelihood of the book says about ONE pixel whose predicted mean is ``mean``.

    Introduced in chapter *Training other likelihoods side by side*. Returns ``x`` (a grid on
    [0, 1]) and, on it, ``exp(-nll)`` of each likelihood, computed with
    :class:`vaebook.likelihoods.Likelihood`: ``"Gaussian"`` (mean ``mean``, scale ``sigma``),
    ``"Laplace"`` (location ``mean``, scale ``b``), ``"continuous Bernoulli"`` (the λ whose
    *mean* is ``mean``), and ``"BCE"`` (λ = ``mean``: not a density). Also ``lambda_cb``, the
    continuous Bernoulli's λ, and ``mass``: the integral of each curve over [0, 1]
    (trapezoid rule; closed forms for the Gaussian and Laplace).
    """
    import torch

    from vaebook.likelihoods import continuous_bernoulli_logit_for_mean, get_likelihood

    mean, sigma, b = _check_pixel_arguments(mean, sigma, b)
    n_grid = check_int(n_grid, "n_grid", minimum=2)
    x = torch.linspace(0, 1, n_grid, dtype=torch.float64).reshape(-1, 1)
    full = torch.full_like(x, mean)
    cb_logit = continuous_bernoulli_logit_for_mean(mean)
    bce_logit = torch.logit(torch.tensor(mean, dtype=torch.float64))
    curves = {
        "Gaussian": get_likelihood("gaussian").nll(full, x, sigma),
        "Laplace": get_likelihood("laplace").nll(full, x, b),
        "continuous Bernoulli": get_likelihood("continuous-bernoulli").nll(
            torch.full_like(x, float(cb_logit)), x
        ),
        "BCE": get_likelihood("bernoulli").nll(torch.full_like(x, float(bce_logit)), x),
    }
    densities = {name: torch.exp(-nll).numpy() for name, nll in curves.items()}
    grid = x.numpy().ravel()
    mass = {name: float(np.trapezoid(values, grid)) for name, values in densities.items()}
    # Closed forms of the probability inside [0, 1] (0 < mean < 1).
    mass["Gaussian"] = 0.5 * (
        math.erf((1 - mean) / (sigma * math.sqrt(2))) + math.erf(mean / (sigma * math.sqrt(2)))
    )
    mass["Laplace"] = 1 - 0.5 * math.exp(-(1 - mean) / b) - 0.5 * math.exp(-mean / b)
    return {
        "x": grid,
        "densities": densities,
        "mass": mass,
        "lambda_cb": float(torch.sigmoid(cb_logit)),
    }


def pixel_likelihood_numbers(mean: float, sigma: float, b: float) -> dict[str, str]:
    """The numbers the one-pixel likelihood slider shows (formatted strings).

    Used behind the scenes in chapter *Training other likelihoods side by side*.
    """
    result = pixel_densities(mean, sigma, b)
    densities, mass = result["densities"], result["mass"]
    return {
        "decoder's prediction (mean of p(x | z))": f"{mean:.2f}",
        f"Gaussian σ = {sigma:.3f}: probability inside [0, 1]": f"{mass['Gaussian']:.3f}",
        f"Laplace b = {b:.3f}: probability inside [0, 1]": f"{mass['Laplace']:.3f}",
        "continuous Bernoulli: λ with this mean": f"{result['lambda_cb']:.3g}",
        "continuous Bernoulli: density at x = 0": f"{densities['continuous Bernoulli'][0]:.3g}",
        "BCE with λ = prediction: ∫ exp(−BCE) dx (not 1)": f"{mass['BCE']:.3f}",
        "Bernoulli (binary x): P(x = 1)": f"{mean:.2f}",
    }


def pixel_likelihood_figure(mean: float, sigma: float, b: float):
    """The one-pixel likelihood slider's picture: ``p(x | z)`` over x in [0, 1].

    Used behind the scenes in chapter *Training other likelihoods side by side*. Solid: the
    Gaussian, Laplace and continuous-Bernoulli densities for a prediction ``mean``; dashed:
    ``exp(-BCE)``, which is not a density; stems: the Bernoulli probabilities of x = 0 and
    x = 1 (for binary data).
    """
    import matplotlib.pyplot as plt

    result = pixel_densities(mean, sigma, b)
    x, densities = result["x"], result["densities"]
    fig, (ax, ax_binary) = plt.subplots(
        1, 2, figsize=(8.4, 3.2), constrained_layout=True, gridspec_kw={"width_ratios": [3, 1]}
    )
    for name in ("Gaussian", "Laplace", "continuous Bernoulli"):
        ax.plot(x, densities[name], label=name)
    ax.plot(x, densities["BCE"], "--", color="0.4", label="exp(−BCE): not a density")
    ax.axvline(mean, color="0.7", lw=0.8, gid=MARKER_GID)
    ax.set(
        xlabel="pixel value x",
        ylabel="density p(x | z)",
        ylim=(0, 6),
        title=f"one pixel, prediction {mean:.2f}",
    )
    ax.legend(fontsize=8, loc="upper center")
    ax_binary.stem([0, 1], [1 - mean, mean], basefmt=" ")
    ax_binary.set(
        xticks=[0, 1],
        xlim=(-0.5, 1.5),
        ylim=(0, 1),
        xlabel="x (binary)",
        ylabel="probability",
        title="Bernoulli",
    )
    return fig


def pixel_likelihood_slider(
    sigma: float, b: float, means=PIXEL_MEANS, start: int | None = None
) -> FrameSlider:
    """A slider over the decoder's prediction for one pixel, showing every likelihood.

    Introduced in chapter *Training other likelihoods side by side*. ``sigma`` and ``b`` are the
    scales of the Gaussian and Laplace decoders (e.g. the learned ones). Every frame is rendered
    once.
    """
    try:
        means = [float(value) for value in means]
    except (TypeError, ValueError):
        raise ValueError(
            f"means: expected a list of predictions in (0, 1), got {means!r}"
        ) from None
    if not means:
        raise ValueError("means must hold at least one prediction")
    for mean in means:  # every frame's arguments are checked before the first is drawn
        _check_pixel_arguments(mean, sigma, b)
    start = len(means) // 2 if start is None else start
    if isinstance(start, bool) or not isinstance(start, int) or not 0 <= start < len(means):
        raise ValueError(f"start: expected an integer in 0..{len(means) - 1}, got {start!r}")
    frames = []
    for mean in means:
        numbers = pixel_likelihood_numbers(mean, sigma, b)
        alt = (
            f"For a predicted pixel value of {mean:.2f}: the Gaussian, Laplace and "
            f"continuous-Bernoulli densities over x from 0 to 1, the unnormalised "
            f"exp(−BCE) curve, and the Bernoulli probabilities of 0 and 1. The continuous "
            f"Bernoulli's density at 0 is "
            f"{numbers['continuous Bernoulli: density at x = 0']}."
        )
        frames.append(
            slider_frame(
                pixel_likelihood_figure(mean, sigma, b),
                f"{mean:.2f}",
                alt,
                numbers,
                heights=[2.8, 1.9],
            )
        )
    return FrameSlider(
        frames, description="prediction", aria_label="Decoder prediction for one pixel", start=start
    )

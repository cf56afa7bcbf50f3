"""The book's claims about trained models: one named, tested predicate per claim.

Introduced in chapter *σ trades reconstruction against KL*. A chapter that states something
learned from training ("the first σ whose code is empty is the first grid point above
√λ₁") checks it with :func:`check`, which calls the claim's predicate on the chapter's own
results, shows what it measured, and raises :class:`ClaimFailed` if the claim does not hold.
A check shows as one line, ``✔ <statement>: <the numbers>``; its margin, in words, is in the
details under that line (a fold-out on the website, indented lines in plain text).

Each predicate returns :class:`Evidence`: a *margin* (≥ 0 when the claim holds; how far the
measured numbers are from breaking it, in the claim's own unit) and the numbers behind it.
``make robust`` (:mod:`vaebook.robust`) retrains every chapter for several seeds under several
floating-point paths, runs the very same :func:`check` calls and tabulates the worst margin of
every claim, so a chapter's assert and the robustness study cannot drift apart.

With the environment variable ``VAEBOOK_CLAIMS_LOG`` set to a file, :func:`check` appends one
JSON line per check to it and does not raise: a study wants every claim evaluated, not the run
stopped at the first failure.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
from collections.abc import Callable
from pathlib import Path

from vaebook._verdict import PRINT_WIDTH
from vaebook._verdict import Verdict as _Verdict
from vaebook._verdict import margin_in_words as _margin_in_words
from vaebook.training import ACTIVE_UNIT_THRESHOLD

__all__ = [
    "LOG_ENV",
    "PRINT_WIDTH",
    "Evidence",
    "Claim",
    "ClaimFailed",
    "CLAIMS",
    "check",
    "claims_of",
]

LOG_ENV = "VAEBOOK_CLAIMS_LOG"
"""Environment variable: a JSON-lines file that :func:`check` appends its records to."""


def _show(verdict: _Verdict) -> None:
    """Display ``verdict``: rich in a notebook, its plain text elsewhere."""
    from IPython.display import display

    display(verdict)


class ClaimFailed(AssertionError):
    """A chapter's claim does not hold for the model it was checked on.

    Used behind the scenes in chapter *σ trades reconstruction against KL*.
    """


@dataclasses.dataclass(frozen=True)
class Evidence:
    """What a claim's predicate measured: ``margin`` (≥ 0: the claim holds) in ``unit``,
    and ``detail``, the numbers behind it in words.

    Used behind the scenes in chapter *σ trades reconstruction against KL*.
    """

    margin: float
    unit: str
    detail: str

    @property
    def holds(self) -> bool:
        """Whether the claim holds: a margin ≥ 0 (NaN never holds)."""
        return bool(self.margin >= 0)

    _shown: bool = dataclasses.field(default=False, init=False, compare=False, repr=False)
    """True for the evidence :func:`check` returns: it has shown it already."""

    def _repr_pretty_(self, printer, cycle) -> None:
        """The margin in words: ``It holds with a margin of 0.5 nats: ...``."""
        printer.text(_margin_in_words(self.margin, self.unit))

    def _ipython_display_(self) -> None:
        """Nothing when :func:`check` returned it (a cell ending with ``check(...)`` shows
        the check once), the margin in words otherwise."""
        if not self._shown:
            print(_margin_in_words(self.margin, self.unit))


@dataclasses.dataclass(frozen=True)
class Claim:
    """A named claim of one chapter: its ``statement`` in words and the ``predicate`` that
    measures it (``predicate(*inputs) -> Evidence``).

    Used behind the scenes in chapter *σ trades reconstruction against KL*.
    """

    name: str
    chapter: str
    statement: str
    predicate: Callable[..., Evidence]


CLAIMS: dict[str, Claim] = {}
"""Every registered claim, by name (``<chapter>/<short-name>``)."""


def _claim(name: str, statement: str):
    """Register the decorated predicate as the claim ``name`` (``<chapter>/<short-name>``)."""
    chapter = name.split("/", 1)[0]

    def register(predicate):
        if name in CLAIMS:
            raise ValueError(f"the claim {name!r} is registered twice")
        CLAIMS[name] = Claim(name, chapter, statement, predicate)
        return predicate

    return register


def claims_of(chapter: str) -> list[Claim]:
    """The registered claims of one chapter (its file name without ``.md``).

    Used behind the scenes in chapter *σ trades reconstruction against KL*.
    """
    return [item for item in CLAIMS.values() if item.chapter == chapter]


def _record(claim: Claim, evidence: Evidence | None, error: str | None) -> None:
    path = os.environ.get(LOG_ENV)
    if not path:
        return
    record = {
        "claim": claim.name,
        "chapter": claim.chapter,
        "holds": bool(evidence is not None and evidence.holds),
        "margin": None
        if evidence is None or math.isnan(evidence.margin)
        else float(evidence.margin),
        "unit": None if evidence is None else evidence.unit,
        "detail": error if evidence is None else evidence.detail,
    }
    with Path(path).open("a", encoding="utf-8") as log:
        log.write(json.dumps(record, ensure_ascii=False) + "\n")


def check(name: str, *inputs) -> Evidence:
    """Check the claim ``name`` on a chapter's results and show what was measured.

    Introduced in chapter *σ trades reconstruction against KL*. Shows one line, ✔ (or ✘), the
    claim's statement and the numbers, with the margin in words as its details; a margin of
    exactly 0 is said to hold "exactly at the bound". Returns the :class:`Evidence`, which a
    notebook does not display again. Raises :class:`ClaimFailed` when the claim does not
    hold (unless ``VAEBOOK_CLAIMS_LOG`` is set, see the module docstring) and
    :class:`ValueError` for a name that is not a registered claim.
    """
    if name not in CLAIMS:
        raise ValueError(
            f"unknown claim {name!r}; the registered claims are: {', '.join(sorted(CLAIMS))}"
        )
    claim = CLAIMS[name]
    recording = bool(os.environ.get(LOG_ENV))
    try:
        evidence = claim.predicate(*inputs)
    except Exception as error:  # a predicate that cannot measure is a failed claim
        _record(claim, None, f"{type(error).__name__}: {error}")
        if recording:
            _show(_Verdict(False, claim.statement, f"could not be measured: {error}"))
            return _shown(Evidence(math.nan, "", str(error)))
        raise
    _record(claim, evidence, None)
    numbers = evidence.detail
    if evidence.margin == 0:
        numbers += " (exactly at the bound)"
    details = f"{_margin_in_words(evidence.margin, evidence.unit)} Claim {claim.name}."
    _show(_Verdict(evidence.holds, claim.statement, numbers, details))
    if not evidence.holds and not recording:
        raise ClaimFailed(
            f"the claim {name!r} does not hold: {claim.statement} "
            f"({evidence.detail}; margin {evidence.margin:.3g} {evidence.unit})"
        )
    return _shown(evidence)


def _shown(evidence: Evidence) -> Evidence:
    """A copy of ``evidence`` that a notebook does not display again."""
    copy = dataclasses.replace(evidence)
    object.__setattr__(copy, "_shown", True)
    return copy


# ---------------------------------------------------------------------------------------------
# Shared measurements
# ---------------------------------------------------------------------------------------------


def _eigenvalues():
    """Eigenvalues of the training digits' covariance, largest first: the book's one helper,
    :func:`vaebook.linear.covariance_eigenvalues` (the maximum-likelihood 1/N covariance)."""
    from vaebook.data import load_digits_split
    from vaebook.linear import covariance_eigenvalues

    return covariance_eigenvalues(load_digits_split()[0])


def _decades(value: float, threshold: float, above: bool) -> float:
    """How many decades ``value`` lies above (``above``) or below ``threshold``."""
    if value <= 0:
        return math.inf if not above else -math.inf
    ratio = math.log10(value / threshold)
    return ratio if above else -ratio


ACTIVE = ACTIVE_UNIT_THRESHOLD
"""The KL (nats) above which a latent counts as active."""


# ---------------------------------------------------------------------------------------------
# σ trades reconstruction against KL (book/sigma-tradeoff.md)
# ---------------------------------------------------------------------------------------------

PAGE_VAE_BOUND = 1e-3
"""Nats per image that the batched member's loss may differ from the page VAE's at any step
(float32; measured: at most a few 1e-5 over 200 steps on every floating-point path tried)."""


@_claim(
    "sigma-tradeoff/batched-member-follows-the-page-vae",
    "Started from the page VAE's weights, with the same batches and noise, member 1 of the "
    f"batched model follows the page VAE's loss within {PAGE_VAE_BOUND:g} nats at every step",
)
def _member_follows_page(page_losses, member_losses) -> Evidence:
    import numpy as np

    page, member = np.asarray(page_losses, float), np.asarray(member_losses, float)
    if page.shape != member.shape or page.ndim != 1 or not page.size:
        raise ValueError(
            f"two loss curves of one length expected, got shapes {page.shape} and {member.shape}"
        )
    gap = np.abs(page - member)
    step = int(np.argmax(gap))
    return Evidence(
        PAGE_VAE_BOUND - float(gap.max()),
        "nats",
        f"{page.size} steps, loss {page[0]:.1f} → {page[-1]:.1f} nats; largest difference "
        f"{gap.max():.1e} nats, at step {step + 1}",
    )


@_claim(
    "sigma-tradeoff/kl-falls-as-sigma-grows",
    "On the training digits the KL falls at every step up the σ grid until the code is empty",
)
def _kl_falls(sweep) -> Evidence:
    import numpy as np

    kl = np.asarray(sweep.train_kl)
    steps = [(kl[i] - kl[i + 1], i) for i in range(len(kl) - 1) if kl[i] >= ACTIVE]
    drop, i = min(steps)
    return Evidence(
        float(drop),
        "nats",
        f"smallest drop {drop:.3g} nats, from σ = {sweep.sigmas[i]:.3g} "
        f"to {sweep.sigmas[i + 1]:.3g}",
    )


MSE_DIP, MSE_DIP_BELOW = 0.05, 0.36
"""The relative dip of the training MSE allowed on a step up the σ grid, and the σ below which
it is allowed (there 5000 Adam steps do not fully converge)."""


@_claim(
    "sigma-tradeoff/mse-rises-as-sigma-grows",
    "On the training digits the MSE rises at every step up the σ grid until the code is "
    "empty; only on steps from σ below 0.36 may it dip, by at most 5 %",
)
def _mse_rises(sweep) -> Evidence:
    import numpy as np

    kl, mse = np.asarray(sweep.train_kl), np.asarray(sweep.train_mse)
    steps = [(mse[i + 1] / mse[i] - 1, i) for i in range(len(mse) - 1) if kl[i] >= ACTIVE]
    # Below σ ≈ 0.36 the 5000 steps do not fully converge: a 5 % wiggle is allowed there only.
    slack = [
        (rise + (MSE_DIP if sweep.sigmas[i] < MSE_DIP_BELOW else 0.0), rise, i) for rise, i in steps
    ]
    margin, rise, i = min(slack)
    return Evidence(
        float(margin),
        "relative",
        f"tightest step {rise:+.1%}, from σ = {sweep.sigmas[i]:.3g} to "
        f"{sweep.sigmas[i + 1]:.3g} (a {MSE_DIP:.0%} dip allowed from σ < {MSE_DIP_BELOW})",
    )


@_claim(
    "sigma-tradeoff/small-sigma-kl-exceeds-log-n",
    "At the smallest σ of the grid the KL on the training digits exceeds log N, the most "
    "information a code can carry about which of the N training images it came from",
)
def _kl_above_log_n(sweep, n_images) -> Evidence:
    bound = math.log(n_images)
    kl = float(sweep.train_kl[0])
    return Evidence(
        kl - bound,
        "nats",
        f"KL {kl:.2f} nats at σ = {sweep.sigmas[0]:.3g}, log N = log {n_images} = {bound:.2f}",
    )


@_claim(
    "sigma-tradeoff/test-mse-stops-improving",
    "From σ ≈ 0.36 down to the smallest σ the training MSE falls by more than 10 %, while "
    "the test MSE never gets more than 10 % below its value at σ ≈ 0.36",
)
def _test_mse_plateau(sweep) -> Evidence:
    import numpy as np

    start = sweep.index_of(0.36)
    train_drop = 1 - float(sweep.train_mse[0] / sweep.train_mse[start])
    test_drop = 1 - float(np.min(sweep.mse[: start + 1]) / sweep.mse[start])
    return Evidence(
        min(train_drop - 0.1, 0.1 - test_drop),
        "relative",
        f"from σ = {sweep.sigmas[start]:.3g} down: training MSE −{train_drop:.0%}, "
        f"best test MSE −{test_drop:.0%}",
    )


@_claim(
    "sigma-tradeoff/collapse-begins-above-sqrt-lambda1",
    "The first grid σ whose code carries no information (KL < 0.01 nats) is the first "
    "one above √λ₁",
)
def _collapse_begins(sweep) -> Evidence:
    import numpy as np

    root = float(np.sqrt(_eigenvalues()[0]))
    above = int(np.argmax(sweep.sigmas > root))
    if not (sweep.sigmas > root).any() or above == 0:
        raise ValueError("the sweep's grid must have σ values on both sides of √λ₁")
    kl_last_below, kl_first_above = float(sweep.kl[above - 1]), float(sweep.kl[above])
    margin = min(
        _decades(kl_last_below, ACTIVE, above=True), _decades(kl_first_above, ACTIVE, above=False)
    )
    return Evidence(
        margin,
        "decades of KL",
        f"√λ₁ = {root:.3f}; KL {kl_last_below:.3g} nats at σ = "
        f"{sweep.sigmas[above - 1]:.3g}, {kl_first_above:.2g} at σ = "
        f"{sweep.sigmas[above]:.3g}",
    )


IGNORED_CHANGE, USED_CHANGE, USED_KL = 0.1, 0.5, 0.1
"""Claim ``collapsed-decoders-ignore-the-code``: a decoder ignores its code when no pixel
changes by more than ``IGNORED_CHANGE`` over the latent plane, and uses it when some pixel
changes by more than ``USED_CHANGE``; a code is used when its KL exceeds ``USED_KL`` nats."""


@_claim(
    "sigma-tradeoff/collapsed-decoders-ignore-the-code",
    f"Where the code is empty (KL < {ACTIVE} nats) no decoded pixel changes by more than "
    f"{IGNORED_CHANGE} over the plane [−4, 4]²; where the KL exceeds {USED_KL} nats some pixel "
    f"changes by more than {USED_CHANGE}",
)
def _decoders_ignore_code(sweep, change) -> Evidence:
    """``change``: :func:`vaebook.explorer.decoded_pixel_range` of ``sweep``."""
    import numpy as np

    change, kl = np.asarray(change, dtype=float), np.asarray(sweep.kl)
    if change.shape != kl.shape:
        raise ValueError(f"change: expected one value per σ {kl.shape}, got {change.shape}")
    empty, used = kl < ACTIVE, kl > USED_KL
    if not empty.any() or not used.any():
        raise ValueError("the sweep needs σ values with an empty code and with a used one")
    largest_ignored, smallest_used = float(change[empty].max()), float(change[used].min())
    return Evidence(
        min(IGNORED_CHANGE - largest_ignored, smallest_used - USED_CHANGE),
        "pixel values",
        f"largest change {largest_ignored:.3f} where the code is empty (σ ≥ "
        f"{sweep.sigmas[empty].min():.3g}), smallest {smallest_used:.3f} where it is used",
    )


def _linear_count(sweep):
    import numpy as np

    latent_dim = sweep.kl_per_latent.shape[1]
    values = _eigenvalues()
    return np.minimum(latent_dim, (values[None, :] > sweep.sigmas[:, None] ** 2).sum(axis=1))


@_claim(
    "sigma-tradeoff/active-units-follow-the-linear-count",
    "At every σ the active latents are at most the linear count #{λᵢ > σ²}, and none is "
    "left exactly where that count is 0",
)
def _active_follow(wide) -> Evidence:
    import numpy as np

    predicted = _linear_count(wide)
    active = np.asarray(wide.active_units)
    # At or below the count; at least one latent active wherever the count is not 0.
    slack = np.where(predicted > 0, np.minimum(predicted - active, active - 1), -active)
    worst = int(np.argmin(slack))
    return Evidence(
        float(slack[worst]),
        "latents",
        f"active {active.tolist()}, linear count {predicted.tolist()}; tightest "
        f"at σ = {wide.sigmas[worst]:.3g}",
    )


@_claim(
    "sigma-tradeoff/active-units-switch-off-in-turn",
    "With 8 latents, all are active at the smallest σ, they switch off without coming "
    "back as σ grows, and none is left at the largest σ",
)
def _active_switch_off(wide) -> Evidence:
    import numpy as np

    active = np.asarray(wide.active_units)
    latent_dim = wide.kl_per_latent.shape[1]
    margin = min(
        int(np.min(active[:-1] - active[1:])),
        0 if active[0] == latent_dim else -1,
        0 if active[-1] == 0 else -1,
    )
    return Evidence(float(margin), "latents", f"active units {active.tolist()}")


@_claim(
    "sigma-tradeoff/beta-vae-is-a-plain-vae",
    "A β-VAE at σ₀ and a plain VAE at σ = √β·σ₀ end with MSE within 5 % and KL within 5 % "
    "plus 0.05 nats (a KL near 0 cannot be compared relatively)",
)
def _beta_is_sigma(beta_vaes, plain_vaes) -> Evidence:
    import numpy as np

    # The KL may be near 0 for a large β: compare it to 5 % of itself plus 0.05 nats.
    kl_gap = np.abs(beta_vaes.train_kl - plain_vaes.train_kl) / (np.abs(plain_vaes.train_kl) + 1.0)
    mse_gap = np.abs(beta_vaes.train_mse - plain_vaes.train_mse) / plain_vaes.train_mse
    worst = max(float(kl_gap.max()), float(mse_gap.max()))
    return Evidence(
        0.05 - worst,
        "relative",
        f"largest relative gap: KL {kl_gap.max():.2%}, MSE {mse_gap.max():.2%}",
    )


@_claim(
    "sigma-tradeoff/mean-reduction-collapses",
    "F.mse_loss(reduction='mean') + summed KL, and the Gaussian −ELBO at its σ, both end "
    "with an empty code (KL < 0.01 nats)",
)
def _mean_collapses(wild, gaussian) -> Evidence:
    kls = (float(wild["kl"][0]), float(gaussian.kl[0]))
    return Evidence(
        min(ACTIVE - kl for kl in kls), "nats", f"KL {kls[0]:.2g} and {kls[1]:.2g} nats"
    )


@_claim(
    "sigma-tradeoff/mean-reduction-gives-the-average-digit",
    "Both reconstruct every digit as the average digit: test MSE within 0.005 of the "
    "data variance and within 0.001 of each other",
)
def _mean_average_digit(wild, gaussian) -> Evidence:
    from vaebook.data import load_digits_split

    variance = float(load_digits_split()[2].var(dim=0).mean())
    mse_wild, mse_gauss = float(wild["mse"][0]), float(gaussian.mse[0])
    margin = min(0.005 - abs(mse_wild - variance), 0.001 - abs(mse_wild - mse_gauss))
    return Evidence(
        margin,
        "MSE",
        f"MSE {mse_wild:.4f} and {mse_gauss:.4f}, variance of the test digits {variance:.4f}",
    )


# ---------------------------------------------------------------------------------------------
# Posterior collapse in the linear VAE (book/linear-vae.md)
# ---------------------------------------------------------------------------------------------


@_claim(
    "linear-vae/active-latents-match-ppca",
    "Every trained linear VAE keeps exactly the #{λᵢ > σ²} latents that probabilistic PCA predicts",
)
def _linear_active(sweep) -> Evidence:
    import numpy as np

    margins = []
    for k, predicted in enumerate(sweep.predicted_active):
        kl = np.sort(sweep.kl_per_latent[k])[::-1]
        if predicted > 0:
            margins.append((_decades(kl[predicted - 1], ACTIVE, above=True), k))
        if predicted < kl.size:
            margins.append((_decades(kl[predicted], ACTIVE, above=False), k))
    margin, k = min(margins)
    return Evidence(
        margin,
        "decades of KL",
        f"active {sweep.active_units.tolist()}, predicted "
        f"{sweep.predicted_active.tolist()}; closest to the 0.01-nat threshold at "
        f"σ = {sweep.sigmas[k]:g}",
    )


NORM_RELATIVE, NORM_ABSOLUTE = 0.15, 0.005
"""Tolerances of the column norms against probabilistic PCA: relative where a norm is
predicted, absolute (in [0, 1] pixel units) where the latent should be off."""


@_claim(
    "linear-vae/column-norms-match-ppca",
    "Every squared decoder column norm matches max(λᵢ − σ², 0): within 15 % where that is "
    "positive, below 0.005 where it is 0",
)
def _linear_norms(sweep) -> Evidence:
    import numpy as np

    # in the units of [0, 1] pixels: squared norms scale with the square of the range's width
    trained = np.asarray(sweep.column_norms_sq) / sweep.pixel_width**2
    predicted = np.asarray(sweep.predicted_norms_sq) / sweep.pixel_width**2
    kept = predicted > 0
    relative = np.abs(trained[kept] / predicted[kept] - 1)  # a missing latent is 100 % off
    absolute = np.abs(trained[~kept])
    worst_relative = float(relative.max()) if relative.size else 0.0
    worst_absolute = float(absolute.max()) if absolute.size else 0.0
    return Evidence(
        min(1 - worst_relative / NORM_RELATIVE, 1 - worst_absolute / NORM_ABSOLUTE),
        "of the tolerance",
        f"largest relative error {worst_relative:.1%} where a norm is predicted (smallest "
        f"predicted {predicted[kept].min() if kept.any() else math.nan:.3f}), largest norm "
        f"{worst_absolute:.4f} where none is",
    )


@_claim(
    "linear-vae/elbo-reaches-the-ppca-optimum",
    "Every trained −ELBO is within 0.1 nat of the exact optimal −log p(x), and never below it",
)
def _linear_gap(sweep) -> Evidence:
    gaps = sweep.elbo_gap
    margin = min(0.1 - float(gaps.max()), float(gaps.min()) + 1e-6)
    return Evidence(margin, "nats", f"gaps {', '.join(f'{gap:.4f}' for gap in gaps)} nats")


@_claim(
    "linear-vae/pixel-range-decides-collapse",
    "The mean-reduction loss keeps no latent on [0, 1] and [−1, 1] pixels, and on 0–255 "
    "pixels the #{λᵢ > σ²} latents (at least 5) that probabilistic PCA predicts",
)
def _pixel_range_collapse(studies) -> Evidence:
    expected = {"0..1": lambda n: n == 0, "-1..1": lambda n: n == 0, "0..255": lambda n: n >= 5}
    if sorted(studies) != sorted(expected):
        raise ValueError(
            f"expected one study per pixel range {sorted(expected)}, got {sorted(studies)}"
        )
    predicted = {name: int(study.predicted_active[0]) for name, study in studies.items()}
    if not all(expected[name](count) for name, count in predicted.items()):
        return Evidence(-math.inf, "decades of KL", f"predicted active latents {predicted}")
    margins = {name: _linear_active(study) for name, study in studies.items()}
    worst = min(margins, key=lambda name: margins[name].margin)
    active = {name: int(study.active_units[0]) for name, study in studies.items()}
    return Evidence(
        margins[worst].margin,
        "decades of KL",
        f"active {active}, predicted {predicted}; closest to the threshold on {worst}",
    )


@_claim(
    "linear-vae/pixel-range-runs-reach-the-optimum",
    "On every pixel range the trained linear VAE ends within 0.1 nat above the exact "
    "optimal −log p(x), with column norms as close to the closed form as the column-norm "
    "check asks (15 % where a norm is predicted, 0.005 in [0, 1] units where none is)",
)
def _pixel_range_optimum(studies) -> Evidence:
    gaps = {name: float(study.elbo_gap[0]) for name, study in studies.items()}
    norms = {name: _linear_norms(study) for name, study in studies.items()}
    detail = "; ".join(
        f"{name}: gap {gaps[name]:.4f} nats, norms {norms[name].detail}" for name in studies
    )
    if min(gaps.values()) < -1e-6:  # below the optimum: impossible for a bound, a bug
        return Evidence(min(gaps.values()), "nats", detail)
    # the worse of the two, each as a share of its tolerance
    margin = min(1 - max(gaps.values()) / 0.1, min(e.margin for e in norms.values()))
    return Evidence(margin, "of the tolerance", detail)


# ---------------------------------------------------------------------------------------------
# A recipe for a sound VAE loss (book/recipe.md)
# ---------------------------------------------------------------------------------------------


@_claim(
    "recipe/sigma-chosen-on-validation-is-best-on-test",
    "The σ with the lowest −ELBO on the validation half of the held-out digits is the grid "
    "point nearest σ = 0.18, inside the grid, and it is also the lowest on the test half",
)
def _validation_choice(sigmas, validation, test) -> Evidence:
    import numpy as np

    sigmas, validation, test = (
        np.asarray(item, dtype=float) for item in (sigmas, validation, test)
    )
    best = int(np.argmin(validation))
    expected = int(np.argmin(np.abs(np.log(sigmas) - math.log(0.18))))
    on_validation = float(np.delete(validation, best).min() - validation[best])
    on_test = float(np.delete(test, best).min() - test[best])
    margin = min(on_validation, on_test)
    detail = (
        f"chosen σ = {sigmas[best]:.3f}: validation −ELBO {validation[best]:.2f} nats "
        f"({on_validation:.2f} below the next), test {test[best]:.2f} ({on_test:.2f} below "
        f"the best other σ)"
    )
    if best != expected or best in (0, len(sigmas) - 1):
        return Evidence(-abs(margin), "nats", detail)
    return Evidence(margin, "nats", detail)


def _member(result, label: str):
    """Index and :class:`~vaebook.experiment.Config` of the member called ``label``."""
    index = result.index_of(label)
    return index, result.configs[index]


def _above_plain(result, label: str) -> float:
    """Test −ELBO of the member ``label`` minus that of the member ``"plain"`` (nats)."""
    return float(
        result.neg_elbo[result.index_of(label)] - result.neg_elbo[result.index_of("plain")]
    )


@_claim(
    "recipe/annealing-delays-collapse-until-sqrt-lambda1",
    "The annealed VAE carries a code (batch KL > 0.1 nats) while 0.4·√λ₁ ≤ σ(t) ≤ 0.9·√λ₁, "
    "has none (< 0.01 nats) once σ(t) ≥ 1.15·√λ₁, and ends collapsed",
)
def _annealing_delays(result, root_lambda1) -> Evidence:
    import numpy as np

    from vaebook.training import warmup_weight

    k, variant = _member(result, "annealed")
    steps, kl = result.history["step"], result.history["kl"][:, k]
    sigma_t = variant.sigma * np.sqrt(warmup_weight(steps, variant.kl_warmup))
    coded = kl[(sigma_t >= 0.4 * root_lambda1) & (sigma_t <= 0.9 * root_lambda1)]
    empty = kl[sigma_t >= 1.15 * root_lambda1]
    if coded.size == 0 or empty.size == 0:
        raise ValueError("the training history does not cover both sides of √λ₁")
    margin = min(
        _decades(float(coded.min()), 0.1, above=True),
        _decades(float(empty.max()), ACTIVE, above=False),
        _decades(float(result.kl[k]), ACTIVE, above=False),
    )
    return Evidence(
        margin,
        "decades of KL",
        f"smallest batch KL below √λ₁ {coded.min():.3f}, largest above "
        f"{empty.max():.4f}, final test KL {result.kl[k]:.4f} nats",
    )


@_claim(
    "recipe/annealing-ends-where-plain-ends",
    "The annealed VAE ends within 0.1 nat of the plain VAE's test −ELBO",
)
def _annealing_ends(result) -> Evidence:
    difference = _above_plain(result, "annealed")
    return Evidence(
        0.1 - abs(difference), "nats", f"test −ELBO annealed − plain = {difference:+.4f} nats"
    )


@_claim(
    "recipe/free-bits-keep-lambda-per-latent",
    "With free bits every latent keeps its τ nats to within 20 %, where the plain VAE collapses",
)
def _free_bits_keep(result) -> Evidence:
    import numpy as np

    k, variant = _member(result, "free bits")
    plain, _ = _member(result, "plain")
    deviation = float(np.abs(result.kl_per_latent[k] / variant.free_bits - 1).max())
    detail = (
        f"KL per latent {', '.join(f'{v:.3f}' for v in result.kl_per_latent[k])} for τ = "
        f"{variant.free_bits:g}; plain test KL {result.kl[plain]:.4f} nats"
    )
    if result.kl[plain] >= ACTIVE:
        return Evidence(ACTIVE - float(result.kl[plain]), "relative", detail)
    return Evidence(0.2 - deviation, "relative", detail)


@_claim(
    "recipe/free-bits-cost-elbo",
    "The free-bits code costs test −ELBO: the free-bits VAE ends above the collapsed plain VAE",
)
def _free_bits_cost(result) -> Evidence:
    difference = _above_plain(result, "free bits")
    return Evidence(difference, "nats", f"test −ELBO free bits − plain = {difference:+.3f} nats")


# ---------------------------------------------------------------------------------------------
# Reading real VAE code (book/real-code.md)
# ---------------------------------------------------------------------------------------------

SAME_VAE_NATS = 0.2
"""Losses that differ by a constant factor train the same VAE to this many nats (−ELBO and
every latent's KL)."""

DETERMINISTIC_KL = 0.5 * (math.log(1e4) - 1 + 1e-4)
"""≈ 4.105 nats: the KL of N(0, 0.01²) from N(0, 1), a posterior with 1 % of the prior's width."""


@_claim(
    "real-code/rescaled-losses-train-the-same-vae",
    "The 2017 and 2018 PyTorch example losses and the keras.io loss with its KL summed (the "
    "same −ELBO times 1/(B·D), 1 and 1/B) train the same VAE: test −ELBO and every latent's "
    "KL agree to 0.2 nats, with a code (KL > 0.01 nats per latent)",
)
def _rescaled_same(result, labels) -> Evidence:
    import numpy as np

    index = [result.index_of(label) for label in labels]
    if len(index) < 2:
        raise ValueError("compare at least two members")
    elbo, kl = result.neg_elbo[index], result.kl_per_latent[index]
    spread = max(float(np.ptp(elbo)), float(np.ptp(kl, axis=0).max()))
    margin = min(
        (SAME_VAE_NATS - spread) / SAME_VAE_NATS, _decades(float(kl.min()), ACTIVE, above=True)
    )
    return Evidence(
        margin,
        "of the tolerance (or decades of KL)",
        f"test −ELBO {', '.join(f'{v:.3f}' for v in elbo)}; largest difference "
        f"(−ELBO or KL of a latent) {spread:.4f} nats; smallest KL of a latent "
        f"{kl.min():.3f}",
    )


HALF_BETA_EXTRA_KL = 0.5
"""Nats of test KL that the β = ½ keras.io loss of 2020 keeps beyond the β = 1 one, at least."""


@_claim(
    "real-code/half-beta-keeps-more-code-and-a-worse-bound",
    "The 2020 keras.io loss (KL averaged over the latents: β = ½) keeps more than 0.5 nats "
    "more test KL than the same loss with β = 1, and its test −ELBO is higher",
)
def _half_beta(result, half, full) -> Evidence:
    low, one = result.index_of(half), result.index_of(full)
    extra_kl = float(result.kl[low] - result.kl[one])
    elbo_gap = float(result.neg_elbo[low] - result.neg_elbo[one])
    return Evidence(
        min(extra_kl - HALF_BETA_EXTRA_KL, elbo_gap),
        "nats",
        f"test KL {result.kl[low]:.2f} (β = ½) vs {result.kl[one]:.2f} (β = 1); test −ELBO "
        f"{result.neg_elbo[low]:.2f} vs {result.neg_elbo[one]:.2f}",
    )


@_claim(
    "real-code/collapse-where-the-auditor-says",
    "Each loss whose audit gives a Gaussian decoder lands on the side of λ₁ that the linear "
    "theory predicts: a code (test KL > 0.01 nats) where σ² < λ₁, none where σ² > λ₁. The "
    "audited σ² nearest to λ₁ are printed; between them the check cannot place the boundary",
)
def _auditor_collapse(result, gaussian_variance) -> Evidence:
    lambda1 = float(_eigenvalues()[0])
    if not gaussian_variance:
        raise ValueError("gaussian_variance must map member labels to σ² per pixel")
    margins, parts = [], []
    for label, variance in gaussian_variance.items():
        kl = float(result.kl[result.index_of(label)])
        margins.append(_decades(kl, ACTIVE, above=variance < lambda1))
        parts.append(f"{label}: σ² = {variance:.3g}, KL {kl:.3g}")
    ratios = [variance / lambda1 for variance in gaussian_variance.values()]
    below = max((ratio for ratio in ratios if ratio < 1), default=math.nan)
    above = min((ratio for ratio in ratios if ratio > 1), default=math.nan)
    return Evidence(
        min(margins),
        "decades of KL",
        f"λ₁ = {lambda1:.3f}; nearest σ² below {below:.2f} λ₁, above {above:.2f} λ₁; "
        + "; ".join(parts),
    )


NARROW_SD = 0.01
"""A posterior standard deviation below this, 1 % of the prior's, counts as no noise at all."""


@_claim(
    "real-code/tiny-kl-weight-leaves-narrow-posteriors",
    "The autoencoder losses with KL weight 1e-6 give the test digits posteriors whose median "
    "standard deviation is below 1 % of the prior's; the −ELBO losses' medians are above 1 %",
)
def _tiny_weight(posterior_sd, tiny_labels, elbo_labels) -> Evidence:
    import numpy as np

    median = {
        label: float(np.median(np.asarray(posterior_sd[label])))
        for label in [*tiny_labels, *elbo_labels]
    }
    tiny = max(median[label] for label in tiny_labels)
    elbo = min(median[label] for label in elbo_labels)
    return Evidence(
        min(_decades(tiny, NARROW_SD, above=False), _decades(elbo, NARROW_SD, above=True)),
        "decades of sd",
        "median posterior sd: "
        + ", ".join(f"{label} {value:.2g}" for label, value in median.items()),
    )


BLUR_VARIANCE = 0.1
"""A loss whose noise variance per pixel exceeds this (three times the squared error per pixel
that a VAE with a sharp code reaches on the digits) is predicted to blur."""

BLUR_RATIO = 1.25
"""Blurring means a test mean squared error at least this many times that of every sharp loss."""


@_claim(
    "real-code/large-sigma-blurs",
    "Each loss whose audit puts the noise variance per pixel above 0.1 reconstructs the "
    "test digits with at least 1.25 times the mean squared error of every loss whose audit "
    "puts it below 0.1",
)
def _large_sigma_blurs(result, noise_variance) -> Evidence:
    large = {
        label: float(result.mse[result.index_of(label)])
        for label, variance in noise_variance.items()
        if variance > BLUR_VARIANCE
    }
    small = {
        label: float(result.mse[result.index_of(label)])
        for label, variance in noise_variance.items()
        if variance <= BLUR_VARIANCE
    }
    if not large or not small:
        raise ValueError(f"noise_variance needs members above and below σ² = {BLUR_VARIANCE}")
    ratio = min(large.values()) / max(small.values())
    return Evidence(
        ratio / BLUR_RATIO - 1,
        "relative",
        f"test MSE with σ² > {BLUR_VARIANCE}: "
        f"{', '.join(f'{k} {v:.4f}' for k, v in large.items())}; below: "
        f"{', '.join(f'{k} {v:.4f}' for k, v in small.items())}; "
        f"smallest ratio {ratio:.2f}",
    )


# ---------------------------------------------------------------------------------------------
# Learning σ (book/learned-sigma.md)
# ---------------------------------------------------------------------------------------------


def _always_black():
    """Indices of the pixels that are 0 in every training digit."""
    import torch

    from vaebook.data import load_digits_split

    return torch.nonzero(load_digits_split()[0].max(dim=0).values == 0).flatten().tolist()


@_claim(
    "learned-sigma/learned-sigma-is-the-rmse",
    "A σ learned by gradient descent ends within 1 % of the root mean squared error of "
    "the reconstructions it was trained on",
)
def _learned_is_rmse(result) -> Evidence:
    k = result.index_of("learned σ")
    gap = abs(result.scale[k] / result.fitted_scale[k] - 1)
    return Evidence(
        0.01 - float(gap),
        "relative",
        f"σ = {result.scale[k]:.4f}, √MSE = {result.fitted_scale[k]:.4f}",
    )


@_claim(
    "learned-sigma/learned-sigma-and-sigma-vae-agree",
    "The learned σ and the σ-VAE's σ end within 5 % of each other",
)
def _learned_and_sigma_vae(result) -> Evidence:
    learned = result.scale[result.index_of("learned σ")]
    closed = result.scale[result.index_of("σ-VAE")]
    spread = abs(learned / closed - 1)
    return Evidence(
        0.05 - float(spread), "relative", f"learned σ {learned:.4f}, σ-VAE {closed:.4f}"
    )


@_claim(
    "learned-sigma/shared-sigma-between-0.12-and-0.18",
    "Both shared σ end between the same two neighbouring σ of the sweep's grid, 0.124 and 0.178",
)
def _shared_sigma_range(result) -> Evidence:
    from vaebook.experiment import sigma_grid

    grid = sigma_grid()
    low, high = (float(grid[int(abs(grid - value).argmin())]) for value in (0.12, 0.18))
    values = [float(result.scale[result.index_of(label)]) for label in ("learned σ", "σ-VAE")]
    margin = min(min(value - low, high - value) for value in values)
    return Evidence(
        margin, "σ", f"σ = {values[0]:.4f} and {values[1]:.4f}; grid points {low:.4f}, {high:.4f}"
    )


@_claim(
    "learned-sigma/learned-sigma-on-the-rate-distortion-curve",
    "Both learned-σ VAEs sit within 10 % of the fixed-σ sweep's MSE at their KL",
)
def _on_the_curve(result, sweep) -> Evidence:
    import numpy as np

    order = np.argsort(sweep.train_kl)
    excess = {}
    for label in ("learned σ", "σ-VAE"):
        k = result.index_of(label)
        on_curve = np.interp(result.train_kl[k], sweep.train_kl[order], sweep.train_mse[order])
        excess[label] = float(result.train_mse[k] / on_curve - 1)
    return Evidence(
        0.1 - max(abs(value) for value in excess.values()),
        "relative",
        ", ".join(f"{label} {value:+.1%}" for label, value in excess.items()),
    )


@_claim(
    "learned-sigma/floor-holds-at-always-black-pixels",
    "With the floor, σ at the pixels that are black in every training digit sits on the "
    "floor (within 5 %)",
)
def _floor_holds(result) -> Evidence:
    import numpy as np

    k = result.index_of("per-pixel σ, floor")
    floor = result.configs[k].scale_floor
    at_black = result.train_pixel_scale[k, _always_black()]
    error = float(np.abs(at_black / floor - 1).max())
    return Evidence(
        0.05 - error, "relative", f"σ {np.round(at_black, 5).tolist()} at the floor {floor:.5f}"
    )


@_claim(
    "learned-sigma/per-pixel-sigma-reconstructs-worse",
    "The per-pixel σ model reconstructs the training digits worse (higher MSE) than the "
    "learned shared σ",
)
def _per_pixel_worse(result) -> Evidence:
    per_pixel = result.train_mse[result.index_of("per-pixel σ, floor")]
    shared = result.train_mse[result.index_of("learned σ")]
    return Evidence(
        float(per_pixel / shared - 1),
        "relative",
        f"MSE {per_pixel:.4f} per-pixel, {shared:.4f} shared",
    )


def _lowered(lowered):
    """(control index, lowered index, their floors) of a :func:`vaebook.variants.lower_floor`
    result."""
    floors = [item.scale_floor for item in lowered.configs]
    control, low = (
        int(max(range(2), key=floors.__getitem__)),
        int(min(range(2), key=floors.__getitem__)),
    )
    return control, low, floors[control], floors[low]


@_claim(
    "learned-sigma/sigma-follows-the-lowered-floor",
    "After the floor is lowered tenfold, σ at every always-black pixel falls at least "
    "fivefold, towards the new floor",
)
def _follows_floor(lowered) -> Evidence:
    import numpy as np

    _, low, old, new = _lowered(lowered)
    at_black = lowered.train_pixel_scale[low, _always_black()]
    return Evidence(
        1 - float(at_black.max()) / (old / 5),
        "relative",
        f"σ {np.round(at_black, 5).tolist()}; old floor {old:.4f}, new floor {new:.5f}",
    )


@_claim(
    "learned-sigma/lower-floor-better-on-training-digits",
    "With the lower floor the training −ELBO improves on the control's",
)
def _lower_floor_train(lowered) -> Evidence:
    return _floor_change(lowered, lowered.train_neg_elbo, "training", improves=True)


@_claim(
    "learned-sigma/lower-floor-worse-on-test-digits",
    "With the lower floor the test −ELBO gets worse than the control's",
)
def _lower_floor_test(lowered) -> Evidence:
    return _floor_change(lowered, lowered.neg_elbo, "test", improves=False)


def _floor_change(lowered, neg_elbo, split: str, improves: bool) -> Evidence:
    """How many nats lowering the floor gains (``improves``) or costs on one split."""
    control, low, _, _ = _lowered(lowered)
    change = float(neg_elbo[control] - neg_elbo[low])
    return Evidence(
        change if improves else -change,
        "nats",
        f"{split} −ELBO {neg_elbo[control]:.1f} with the floor kept, "
        f"{neg_elbo[low]:.1f} with it lowered",
    )


@_claim(
    "learned-sigma/costliest-test-pixel-is-usually-black",
    "With the lower floor, the test pixel that costs the most nats is black in most "
    "training digits, but not in all of them",
)
def _costliest_pixel(lowered) -> Evidence:
    from vaebook.data import load_digits_split

    _, low, _, _ = _lowered(lowered)
    cost = lowered.per_pixel_nll(lowered.labels[low]).mean(dim=0)
    worst = int(cost.argmax())
    x_train = load_digits_split()[0]
    grey = int((x_train[:, worst] > 0).sum())
    black = 1 - grey / len(x_train)
    # "not in all": at least one training digit is not black there (half a digit of slack)
    return Evidence(
        min(black - 0.5, (grey - 0.5) / len(x_train)),
        "share of digits",
        f"pixel {worst} costs {float(cost[worst]):.1f} nats per test image and is black in "
        f"{black:.1%} of the training digits ({grey} are not)",
    )


# ---------------------------------------------------------------------------------------------
# Other likelihoods side by side (book/other-likelihoods.md)
# ---------------------------------------------------------------------------------------------


@_claim(
    "other-likelihoods/learned-scales-settle-at-their-error",
    "The learned σ ends within 1 % of the root mean squared error, the learned Laplace b "
    "within 1 % of the mean absolute error",
)
def _scales_settle(result) -> Evidence:
    gaps = {}
    for label in ("Gaussian, σ learned", "Laplace, b learned"):
        k = result.index_of(label)
        gaps[label] = abs(float(result.scale[k] / result.fitted_scale[k]) - 1)
    return Evidence(
        0.01 - max(gaps.values()),
        "relative",
        ", ".join(f"{label}: gap {gap:.2%}" for label, gap in gaps.items()),
    )


def _ranked(values: dict, order: list) -> Evidence:
    """Margin (nats) by which ``values`` (label -> −ELBO) keep ``order``, smallest first."""
    gaps = [values[b] - values[a] for a, b in zip(order, order[1:])]
    return Evidence(
        float(min(gaps)), "nats", " < ".join(f"{label} {values[label]:.1f}" for label in order)
    )


DENSITY_ORDER = [
    "continuous Bernoulli",
    "Laplace, b learned",
    "Gaussian, σ learned",
    "Gaussian, σ = 0.1",
]


@_claim(
    "other-likelihoods/density-ranking",
    "On the grey test digits the −ELBO ranks continuous Bernoulli < Laplace < learned-σ "
    "Gaussian < Gaussian with σ = 0.1",
)
def _density_ranking(result) -> Evidence:
    return _ranked(
        {label: float(result.neg_elbo[result.index_of(label)]) for label in DENSITY_ORDER},
        DENSITY_ORDER,
    )


@_claim(
    "other-likelihoods/densities-earn-on-exact-zeros",
    "On the exactly-black test pixels the continuous Bernoulli scores best; on the pixels "
    "strictly between 0 and 1 the Gaussian does",
)
def _exact_zeros(result) -> Evidence:
    from vaebook.data import load_digits_split

    x_test = load_digits_split()[2]
    masks = {"x = 0": x_test == 0, "0 < x < 1": (x_test > 0) & (x_test < 1)}
    labels = ("Gaussian, σ learned", "Laplace, b learned", "continuous Bernoulli")
    split = {}
    for label in labels:
        nll = result.per_pixel_nll(label)
        split[label] = {kind: float((nll * mask).sum(dim=1).mean()) for kind, mask in masks.items()}

    def lead(kind, winner):
        others = [split[label][kind] for label in labels if label != winner]
        return min(others) - split[winner][kind]

    margin = min(lead("x = 0", "continuous Bernoulli"), lead("0 < x < 1", "Gaussian, σ learned"))
    detail = "; ".join(
        f"{kind}: " + ", ".join(f"{label} {split[label][kind]:.1f}" for label in labels)
        for kind in masks
    )
    return Evidence(margin, "nats", detail)


DEQUANTISED = [
    "continuous Bernoulli, dequantised",
    "Laplace, b learned, dequantised",
    "Gaussian, σ learned, dequantised",
]


def _bounds(result) -> dict:
    """−ELBO + D log 17 of the dequantised variants: bounds on the discrete −log P."""
    from vaebook.data import GREY_LEVELS

    offset = result.reconstructions.shape[-1] * math.log(GREY_LEVELS)
    return {label: float(result.neg_elbo[result.index_of(label)]) + offset for label in DEQUANTISED}


@_claim(
    "other-likelihoods/dequantised-ranking",
    "On dequantised digits the bound on −log P still ranks continuous Bernoulli < "
    "Laplace < Gaussian",
)
def _dequantised_ranking(result) -> Evidence:
    return _ranked(_bounds(result), DEQUANTISED)


@_claim(
    "other-likelihoods/dequantised-beats-the-uniform-baseline",
    "Every dequantised bound is below 64 log 17, the score of a uniform guess over the "
    "17 grey levels",
)
def _dequantised_baseline(result) -> Evidence:
    from vaebook.data import GREY_LEVELS

    baseline = result.reconstructions.shape[-1] * math.log(GREY_LEVELS)
    worst = max(_bounds(result).values())
    return Evidence(
        baseline - worst, "nats", f"largest bound {worst:.1f}, baseline {baseline:.1f} nats"
    )


@_claim(
    "other-likelihoods/dequantised-gap-is-smaller",
    "On dequantised digits the continuous Bernoulli still leads the Laplace by more than "
    "30 nats, but by less than on the grey digits",
)
def _dequantised_gap(result) -> Evidence:
    bounds = _bounds(result)
    gap = bounds[DEQUANTISED[1]] - bounds[DEQUANTISED[0]]
    raw = float(
        result.neg_elbo[result.index_of("Laplace, b learned")]
        - result.neg_elbo[result.index_of("continuous Bernoulli")]
    )
    return Evidence(
        min(gap - 30, raw - gap),
        "nats",
        f"lead {gap:.1f} nats dequantised, {raw:.1f} on the grey digits",
    )


@_claim(
    "other-likelihoods/log-likelihood-keeps-the-density-ranking",
    "The importance-weighted estimate of −log p(x) ranks the grey-digit densities as the "
    "−ELBO does: continuous Bernoulli < Laplace < learned-σ Gaussian < σ = 0.1",
)
def _log_likelihood_ranking(result, neg_log_p) -> Evidence:
    return _ranked(
        {label: float(neg_log_p[result.index_of(label)]) for label in DENSITY_ORDER}, DENSITY_ORDER
    )


@_claim(
    "other-likelihoods/log-likelihood-keeps-the-dequantised-ranking",
    "On dequantised digits the importance-weighted bound on −log P still ranks "
    "continuous Bernoulli < Laplace < Gaussian",
)
def _log_likelihood_dequantised(result, neg_log_p) -> Evidence:
    from vaebook.data import GREY_LEVELS

    offset = result.reconstructions.shape[-1] * math.log(GREY_LEVELS)
    return _ranked(
        {label: float(neg_log_p[result.index_of(label)]) + offset for label in DEQUANTISED},
        DEQUANTISED,
    )


@_claim(
    "other-likelihoods/fixed-sigma-has-the-loosest-bound",
    "The gap between −ELBO and the estimate of −log p(x) is largest for the Gaussian "
    "with fixed σ = 0.1, by more than 2 nats over every other decoder",
)
def _loosest_bound(result, neg_log_p) -> Evidence:
    gaps = {
        label: float(result.neg_elbo[k] - neg_log_p[k]) for k, label in enumerate(result.labels)
    }
    fixed = gaps.pop("Gaussian, σ = 0.1")
    runner_up = max(gaps, key=gaps.get)
    return Evidence(
        fixed - gaps[runner_up] - 2.0,
        "nats",
        f"gap {fixed:.1f} nats for σ = 0.1, next {gaps[runner_up]:.1f} ({runner_up})",
    )


# ---------------------------------------------------------------------------------------------
# Assignment 3, the bug zoo (assignments/03-bug-zoo/bug-zoo.md). Its answers are derived, not
# measured; these claims say that 600 steps of training show what the answers predict, and
# that the reference fixes pass the hidden retraining test on any machine.
# ---------------------------------------------------------------------------------------------

BUG_ZOO_PREDICTIONS = {
    "a": "collapse",
    "b": "collapse",
    "c": "collapse",
    "d": "autoencoder",
    "e": "sound",
}
"""The failure each loss of the bug zoo is predicted to cause."""

FIXED_KL_RANGE = (1.0, 2 * DETERMINISTIC_KL)
"""The test KL (nats per image, 2 latents) that the bug zoo's hidden tests accept for a fixed
loss: a code, and no latent as narrow as an autoencoder's."""


@_claim(
    "bug-zoo-assignment/bugs-fail-as-predicted",
    "Trained for 600 steps, the bug zoo's losses do what the answers predict: a, b and c "
    "collapse (KL < 0.01 nats), d ends above 8.2 nats (as if both latents were narrower "
    "than 1 % of the prior), e keeps a code (KL > 1 nat) with every latent below 4.1 nats",
)
def _bugs_fail(trained) -> Evidence:
    margins, parts = [], []
    for name, prediction in BUG_ZOO_PREDICTIONS.items():
        kl, per_latent = float(trained[name]["kl"][0]), trained[name]["kl_per_latent"][0]
        if prediction == "collapse":
            margins.append(_decades(kl, ACTIVE, above=False))
        elif prediction == "autoencoder":
            margins.append(_decades(kl, FIXED_KL_RANGE[1], above=True))
        else:
            margins += [
                _decades(kl, 1.0, above=True),
                _decades(float(per_latent.max()), DETERMINISTIC_KL, above=False),
            ]
        parts.append(f"{name}: KL {kl:.3g}")
    return Evidence(min(margins), "decades of KL", "; ".join(parts))


@_claim(
    "bug-zoo-assignment/fixes-keep-a-code",
    "Each reference fix, retrained for 600 steps, ends with a test KL between 1 and 8.2 "
    "nats, as the hidden tests demand",
)
def _fixes_keep(retrained) -> Evidence:
    low, high = FIXED_KL_RANGE
    kls = {name: float(result["kl"][0]) for name, result in retrained.items()}
    margin = min(min(kl / low - 1, 1 - kl / high) for kl in kls.values())
    return Evidence(
        margin, "relative", "; ".join(f"{name}: KL {kl:.2f}" for name, kl in kls.items())
    )


# ---------------------------------------------------------------------------------------------
# Assignment 2, training (assignments/02-training/training.md). Its hidden tests compare a
# student's numbers, computed on the student's machine, with the grader's own training: these
# claims say the answers do not depend on the last bits of either machine's arithmetic.
# ---------------------------------------------------------------------------------------------


@_claim(
    "training-assignment/fixed-loss-keeps-a-code",
    "The reference fixed loss (σ = 0.25, 600 steps) keeps a code and reconstructs: KL "
    "above 1 nat and test MSE below 0.06, as the hidden test demands",
)
def _fixed_loss(fixed) -> Evidence:
    kl, mse = float(fixed["kl"][0]), float(fixed["mse"][0])
    return Evidence(
        min(kl / 1.0 - 1, 1 - mse / 0.06), "relative", f"KL {kl:.2f} nats, MSE {mse:.4f}"
    )


@_claim(
    "training-assignment/collapse-sigma-is-unambiguous",
    "The first grid σ with KL below 0.01 nats is clear-cut: KL under 0.001 nats there and "
    "over 0.1 nats at the grid σ before it",
)
def _collapse_unambiguous(sweep) -> Evidence:
    import numpy as np

    first = int(np.argmax(sweep.kl < ACTIVE))
    if not (sweep.kl < ACTIVE).any() or first == 0:
        raise ValueError("the sweep must have a grid σ with and one without a code")
    before, at = float(sweep.kl[first - 1]), float(sweep.kl[first])
    margin = min(_decades(before, 0.1, above=True), _decades(at, 0.001, above=False))
    return Evidence(margin, "decades of KL", f"KL {before:.3g} nats, then {at:.2g}")


@_claim(
    "training-assignment/best-sigma-is-unambiguous",
    "The grid σ with the lowest test −ELBO beats the runner-up by more than 1 nat",
)
def _best_unambiguous(sweep) -> Evidence:
    import numpy as np

    best, second = np.sort(sweep.neg_elbo)[:2]
    return Evidence(float(second - best) - 1.0, "nats", f"lead {float(second - best):.2f} nats")

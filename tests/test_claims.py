"""The claims registry: every claim is checked by its chapter, and its predicate can fail.

The predicates run here on small synthetic results (no training): each is shown once holding
and once broken, with the margin that says by how much.
"""

from __future__ import annotations

import json
import math
import re
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from conftest import REPO

from vaebook import claims
from vaebook.claims import CLAIMS, ClaimFailed, Evidence, check

CHECK_CALL = re.compile(r"""(?<![\w.])check\(\s*["']([^"']+)["']""")  # not grader.check


def chapter_checks() -> dict[str, set[str]]:
    """Claim names checked in each chapter source (and the assignment master), by name."""
    from vaebook.robust import SOURCES

    paths = {path.stem: path for path in (REPO / "book").glob("*.md")}
    paths.update({name: REPO / source for name, source in SOURCES.items()})
    return {name: set(CHECK_CALL.findall(path.read_text())) for name, path in paths.items()}


def test_every_claim_is_checked_in_its_own_chapter_and_nowhere_else():
    checked = chapter_checks()
    for name, claim in CLAIMS.items():
        assert claim.chapter in checked, f"{name}: no chapter {claim.chapter}"
        assert name in checked[claim.chapter], (
            f"the claim {name!r} is never checked in {claim.chapter}"
        )
    for chapter, names in checked.items():
        for name in names:
            assert name in CLAIMS, f"book/{chapter}.md checks the unknown claim {name!r}"
            assert CLAIMS[name].chapter == chapter, f"{chapter} checks {name} of another chapter"


def test_no_trained_chapter_asserts_behind_the_claims_back():
    """Trained chapters state their trained results through check(), not bare asserts."""
    from vaebook.robust import TRAINED_CHAPTERS

    for chapter in TRAINED_CHAPTERS:
        if chapter.endswith("-assignment"):
            continue  # their asserts are otter's tests, which grade a student's answers
        text = (REPO / "book" / f"{chapter}.md").read_text()
        for line in text.splitlines():
            if line.lstrip().startswith("assert"):
                assert not re.search(r"result|sweep|wide|lowered|neg_elbo|train_", line), (
                    f"{chapter}: a trained result is asserted without a named claim: {line}"
                )


def _fake_claim(monkeypatch, margin):
    monkeypatch.setitem(
        CLAIMS,
        "test/fake",
        claims.Claim(
            "test/fake",
            "test",
            "a fake claim",
            lambda value: Evidence(margin, "nats", f"value {value}"),
        ),
    )


def test_check_prints_returns_and_raises(monkeypatch, capsys):
    monkeypatch.delenv(claims.LOG_ENV, raising=False)
    _fake_claim(monkeypatch, 0.5)
    evidence = check("test/fake", 3)
    assert evidence.holds and evidence.margin == 0.5
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "✔ a fake claim: value 3"  # the statement, the numbers, the tick
    assert " ".join(line.strip() for line in lines[1:]) == (
        "It holds with a margin of 0.5 nats: how far these numbers are from breaking it. "
        "Claim test/fake."
    )
    assert all(line.startswith("  ") for line in lines[1:])  # the details, indented
    _fake_claim(monkeypatch, -0.25)
    with pytest.raises(ClaimFailed, match="does not hold.*margin -0.25 nats"):
        check("test/fake", 3)
    out = capsys.readouterr().out
    assert out.startswith("✘ a fake claim: value 3\n") and "It fails by 0.25 nats." in out
    with pytest.raises(ValueError, match="unknown claim 'test/nothing'"):
        check("test/nothing")


def test_check_shows_one_line_and_its_details_on_demand(monkeypatch, capsys):
    """On the website: the line is the summary of a fold-out that holds the margin."""
    shown = []
    monkeypatch.setattr(claims, "_show", shown.append)
    monkeypatch.delenv(claims.LOG_ENV, raising=False)
    _fake_claim(monkeypatch, 0.5)
    check("test/fake", 3)
    (verdict,) = shown
    page = verdict._repr_html_()
    summary, details = page.split("</summary>")
    assert summary.startswith('<details class="vaebook-check"')
    line = summary.rsplit(">", 1)[1]
    assert line == "✔ a fake claim: value 3" and "margin of 0.5 nats" in details
    assert "Evidence" not in page


def test_a_margin_of_exactly_zero_is_said_in_words(monkeypatch, capsys):
    monkeypatch.delenv(claims.LOG_ENV, raising=False)
    monkeypatch.setitem(
        CLAIMS,
        "test/count",
        claims.Claim(
            "test/count", "test", "at most 3 latents", lambda: Evidence(0.0, "latents", "3 active")
        ),
    )
    assert check("test/count").holds
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "✔ at most 3 latents: 3 active (exactly at the bound)"
    assert "It holds exactly at the bound: 0 latents to spare." in out
    assert "margin 0" not in out


@pytest.mark.parametrize(
    "margin, unit, words",
    [
        (1.0, "latents", "It holds with a margin of 1 latent:"),
        (2.0, "latents", "It holds with a margin of 2 latents:"),
        (0.0235, "relative", "It holds with a margin of 0.0235 (relative):"),
        (0.003, "MSE", "It holds with a margin of 0.003 in MSE:"),
        (0.457, "of the tolerance", "It holds with a margin of 0.457 of the tolerance:"),
        (-1.5, "decades of KL", "It fails by 1.5 decades of KL."),
        (math.nan, "", "It could not be measured."),
    ],
)
def test_the_margin_is_said_in_its_unit(margin, unit, words):
    assert claims._margin_in_words(margin, unit).startswith(words)


def test_a_cell_ending_with_check_shows_the_check_once(monkeypatch, capsys):
    """The returned evidence displays nothing: no second "Evidence: margin" block."""
    from IPython.core.formatters import DisplayFormatter

    monkeypatch.delenv(claims.LOG_ENV, raising=False)
    _fake_claim(monkeypatch, 0.5)
    evidence = check("test/fake", 3)
    capsys.readouterr()
    assert DisplayFormatter().format(evidence) == ({}, {})  # as IPython's displayhook calls it
    assert capsys.readouterr().out == ""
    # A bare Evidence (a predicate called by hand) says its margin in words, once.
    DisplayFormatter().format(Evidence(0.125, "nats", "x"))
    assert capsys.readouterr().out.startswith("It holds with a margin of 0.125 nats")
    assert evidence == Evidence(0.5, "nats", "value 3")  # equal to the predicate's evidence


def test_check_prints_lines_that_fit_a_code_block(monkeypatch, capsys):
    monkeypatch.delenv(claims.LOG_ENV, raising=False)
    long = "a claim whose statement and numbers run on " * 5
    monkeypatch.setitem(
        CLAIMS,
        "test/long",
        claims.Claim("test/long", "test", long, lambda: Evidence(0.125, "nats", "numbers " * 20)),
    )
    check("test/long")
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) > 2 and max(map(len, lines)) <= claims.PRINT_WIDTH
    assert " ".join(line.strip() for line in lines).startswith("✔ " + long.strip())
    assert not any("Evidence" in line for line in lines)


def test_check_records_instead_of_raising_in_a_study(monkeypatch, tmp_path, capsys):
    log = tmp_path / "claims.jsonl"
    monkeypatch.setenv(claims.LOG_ENV, str(log))
    _fake_claim(monkeypatch, -1.0)
    assert not check("test/fake", 7).holds
    monkeypatch.setitem(
        CLAIMS,
        "test/broken",
        claims.Claim("test/broken", "test", "a broken predicate", lambda: 1 / 0),
    )
    assert np.isnan(check("test/broken").margin)
    records = [json.loads(line) for line in log.read_text().splitlines()]
    assert records[0] == {
        "claim": "test/fake",
        "chapter": "test",
        "holds": False,
        "margin": -1.0,
        "unit": "nats",
        "detail": "value 7",
    }
    assert records[1]["claim"] == "test/broken" and not records[1]["holds"]
    assert records[1]["margin"] is None and "ZeroDivisionError" in records[1]["detail"]
    assert "✘" in capsys.readouterr().out


def test_a_predicate_that_cannot_measure_raises_outside_a_study(monkeypatch):
    monkeypatch.delenv(claims.LOG_ENV, raising=False)
    monkeypatch.setitem(
        CLAIMS, "test/broken", claims.Claim("test/broken", "test", "broken", lambda: 1 / 0)
    )
    with pytest.raises(ZeroDivisionError):
        check("test/broken")


def measure(name, *inputs) -> Evidence:
    return CLAIMS[name].predicate(*inputs)


GRID = np.geomspace(0.03, 1.5, 12)


def sweep(**fields):
    values = dict(
        sigmas=GRID,
        train_kl=np.linspace(12, 0, 12),
        kl=np.linspace(12, 0, 12),
        train_mse=np.linspace(0.024, 0.073, 12),
        mse=np.full(12, 0.034),
    )
    values.update(fields)
    result = SimpleNamespace(**values)
    result.index_of = lambda sigma: int(np.argmin(np.abs(np.log(GRID) - np.log(sigma))))
    return result


def test_sigma_sweep_trends_hold_and_break():
    assert measure("sigma-tradeoff/kl-falls-as-sigma-grows", sweep()).holds
    bumped = np.linspace(12, 0, 12)
    bumped[4] = bumped[3] + 0.1
    assert not measure("sigma-tradeoff/kl-falls-as-sigma-grows", sweep(train_kl=bumped)).holds
    assert measure("sigma-tradeoff/mse-rises-as-sigma-grows", sweep()).holds
    wiggle = np.linspace(0.024, 0.073, 12)
    wiggle[2] = wiggle[1] * 0.97  # a 3 % dip is allowed, a 6 % dip is not
    assert measure("sigma-tradeoff/mse-rises-as-sigma-grows", sweep(train_mse=wiggle)).holds
    wiggle[2] = wiggle[1] * 0.94
    assert not measure("sigma-tradeoff/mse-rises-as-sigma-grows", sweep(train_mse=wiggle)).holds
    late = np.linspace(0.024, 0.073, 12)
    late[8] = late[7] * 0.99  # a 1 % dip on the step from σ = 0.36: not allowed there
    assert GRID[7] >= claims.MSE_DIP_BELOW  # the step starts at σ = 0.362
    assert not measure("sigma-tradeoff/mse-rises-as-sigma-grows", sweep(train_mse=late)).holds


def test_test_mse_plateau_holds_and_breaks():
    assert measure("sigma-tradeoff/test-mse-stops-improving", sweep()).holds
    improving = np.linspace(0.020, 0.073, 12)
    assert not measure("sigma-tradeoff/test-mse-stops-improving", sweep(mse=improving)).holds


def test_collapse_claim_reads_the_kl_on_both_sides_of_sqrt_lambda1():
    root = float(np.sqrt(claims._eigenvalues()[0]))
    above = int(np.argmax(GRID > root))
    kl = np.linspace(12, 0, 12)
    kl[above - 1], kl[above:] = 0.3, 1e-4
    assert measure("sigma-tradeoff/collapse-begins-above-sqrt-lambda1", sweep(kl=kl)).holds
    early = kl.copy()
    early[above - 1] = 0.001  # the code is already empty one grid point too early
    evidence = measure("sigma-tradeoff/collapse-begins-above-sqrt-lambda1", sweep(kl=early))
    assert not evidence.holds and evidence.margin == pytest.approx(-1.0)


def test_active_unit_claims_hold_and_break():
    kl_per_latent = np.zeros((12, 8))
    good = sweep(
        kl_per_latent=kl_per_latent,
        active_units=claims._linear_count(sweep(kl_per_latent=kl_per_latent)),
    )
    assert measure("sigma-tradeoff/active-units-follow-the-linear-count", good).holds
    too_many = sweep(kl_per_latent=kl_per_latent, active_units=good.active_units + 1)
    assert not measure("sigma-tradeoff/active-units-follow-the-linear-count", too_many).holds
    early = good.active_units.copy()
    early[int(np.argmax(early == 0)) - 1] = 0  # empty one grid point before the linear count
    assert not measure(
        "sigma-tradeoff/active-units-follow-the-linear-count",
        sweep(kl_per_latent=kl_per_latent, active_units=early),
    ).holds
    assert measure("sigma-tradeoff/active-units-switch-off-in-turn", good).holds
    back = good.active_units.copy()
    back[-2] = back[-3] + 1
    assert not measure(
        "sigma-tradeoff/active-units-switch-off-in-turn",
        sweep(kl_per_latent=kl_per_latent, active_units=back),
    ).holds


def test_beta_claim_compares_kl_and_mse():
    plain = SimpleNamespace(
        train_kl=np.array([8.0, 5.0, 0.2]), train_mse=np.array([0.025, 0.03, 0.06])
    )
    close = SimpleNamespace(train_kl=plain.train_kl * 1.02, train_mse=plain.train_mse * 0.98)
    assert measure("sigma-tradeoff/beta-vae-is-a-plain-vae", close, plain).holds
    far = SimpleNamespace(train_kl=plain.train_kl, train_mse=plain.train_mse * 1.1)
    assert measure("sigma-tradeoff/beta-vae-is-a-plain-vae", far, plain).margin == (
        pytest.approx(-0.05)
    )


def test_learned_sigma_claims_hold_and_break():
    def variants(scale, fitted):
        result = SimpleNamespace(scale=np.array(scale), fitted_scale=np.array(fitted))
        result.index_of = ["learned σ", "σ-VAE"].index
        return result

    assert measure(
        "learned-sigma/learned-sigma-is-the-rmse", variants([0.167, 0.163], [0.1672, 0.163])
    ).holds
    assert not measure(
        "learned-sigma/learned-sigma-is-the-rmse", variants([0.167, 0.163], [0.15, 0.163])
    ).holds
    assert not measure(
        "learned-sigma/learned-sigma-and-sigma-vae-agree", variants([0.167, 0.14], [0.167, 0.14])
    ).holds
    assert not measure(
        "learned-sigma/shared-sigma-between-0.12-and-0.18", variants([0.19, 0.16], [0.19, 0.16])
    ).holds
    # 0.122 is inside [0.12, 0.18] but below the grid point 0.1244 that the sentence names
    assert not measure(
        "learned-sigma/shared-sigma-between-0.12-and-0.18", variants([0.122, 0.16], [0.122, 0.16])
    ).holds


def test_lowered_floor_claims_hold_and_break():
    def lowered(train, test, at_black):
        result = SimpleNamespace(
            configs=[SimpleNamespace(scale_floor=0.018), SimpleNamespace(scale_floor=0.0018)],
            train_neg_elbo=np.array(train),
            neg_elbo=np.array(test),
            train_pixel_scale=np.full((2, 64), 0.2),
        )
        result.train_pixel_scale[0, claims._always_black()] = 0.018
        result.train_pixel_scale[1, claims._always_black()] = at_black
        return result

    good = lowered([-70.0, -85.0], [-60.0, 5.0], 0.0019)
    assert measure("learned-sigma/lower-floor-better-on-training-digits", good).margin == 15
    assert measure("learned-sigma/lower-floor-worse-on-test-digits", good).margin == 65
    assert measure("learned-sigma/sigma-follows-the-lowered-floor", good).holds
    stuck = lowered([-70.0, -69.0], [-60.0, -61.0], 0.004)  # fell 4.5-fold only
    for name in (
        "lower-floor-better-on-training-digits",
        "lower-floor-worse-on-test-digits",
        "sigma-follows-the-lowered-floor",
    ):
        assert not measure(f"learned-sigma/{name}", stuck).holds, name


def test_costliest_pixel_claim_holds_and_breaks():
    from vaebook.data import load_digits_split

    x_train = load_digits_split()[0]
    black = (x_train == 0).float().mean(dim=0)
    always = int(claims._always_black()[0])
    mostly = int(torch.nonzero((black > 0.7) & (black < 0.8))[0])
    rarely = int(black.argmin())

    def costliest_at(pixel):
        labels = ["floor", "lowered"]
        cost = torch.ones(450, 64)
        cost[:, pixel] = 30.0
        return SimpleNamespace(
            configs=[SimpleNamespace(scale_floor=0.018), SimpleNamespace(scale_floor=0.0018)],
            labels=labels,
            per_pixel_nll=lambda label: cost,
        )

    name = "learned-sigma/costliest-test-pixel-is-usually-black"
    assert measure(name, costliest_at(mostly)).holds
    assert not measure(name, costliest_at(always)).holds  # the sentence says: not in all
    assert not measure(name, costliest_at(rarely)).holds


def test_likelihood_rankings_hold_and_break():
    labels = [
        "continuous Bernoulli",
        "Laplace, b learned",
        "Gaussian, σ learned",
        "Gaussian, σ = 0.1",
        *claims.DEQUANTISED,
    ]

    def result(values):
        fake = SimpleNamespace(neg_elbo=np.array(values), reconstructions=np.zeros((9, 8, 64)))
        fake.index_of = labels.index
        return fake

    good = result([-135.0, -25.0, -10.0, 27.0, -75.0, -27.0, -15.0])
    assert measure("other-likelihoods/density-ranking", good).margin == 15
    assert measure("other-likelihoods/dequantised-ranking", good).margin == 12
    assert measure("other-likelihoods/dequantised-beats-the-uniform-baseline", good).holds
    assert measure("other-likelihoods/dequantised-gap-is-smaller", good).margin == 18
    swapped = result([-25.0, -135.0, -10.0, 27.0, -27.0, -75.0, -15.0])
    for name in ("density-ranking", "dequantised-ranking", "dequantised-gap-is-smaller"):
        assert not measure(f"other-likelihoods/{name}", swapped).holds, name


def test_assignment_claims_hold_and_break():
    assert measure(
        "training-assignment/fixed-loss-keeps-a-code", {"kl": [3.2], "mse": [0.044]}
    ).holds
    assert not measure(
        "training-assignment/fixed-loss-keeps-a-code", {"kl": [0.003], "mse": [0.074]}
    ).holds
    kl = np.array([9.0, 7.0, 5.0, 3.0, 2.0, 1.0, 0.6, 0.35, 2e-4, 1e-4])
    clear = SimpleNamespace(kl=kl, neg_elbo=np.array([5.0, -2.0, -9.0, -3.0]))
    assert measure("training-assignment/collapse-sigma-is-unambiguous", clear).holds
    assert measure("training-assignment/best-sigma-is-unambiguous", clear).margin == 5.0
    borderline = kl.copy()
    borderline[8] = 0.009  # under 0.01, but a rounding away from the other side
    assert not measure(
        "training-assignment/collapse-sigma-is-unambiguous", SimpleNamespace(kl=borderline)
    ).holds
    tie = SimpleNamespace(neg_elbo=np.array([5.0, -9.2, -9.0]))
    assert not measure("training-assignment/best-sigma-is-unambiguous", tie).holds


def test_log_likelihood_claims_hold_and_break():
    labels = [
        "continuous Bernoulli",
        "Laplace, b learned",
        "Gaussian, σ learned",
        "Gaussian, σ = 0.1",
        *claims.DEQUANTISED,
    ]
    neg_elbo = np.array([-135.0, -25.0, -10.0, 27.0, -75.0, -27.0, -15.0])

    def result():
        fake = SimpleNamespace(
            neg_elbo=neg_elbo, labels=labels, reconstructions=np.zeros((7, 8, 64))
        )
        fake.index_of = labels.index
        return fake

    good = neg_elbo - np.array([3.0, 4.0, 4.5, 10.0, 2.5, 3.0, 4.0])
    assert (
        measure("other-likelihoods/log-likelihood-keeps-the-density-ranking", result(), good).margin
        == 14.5
    )
    assert (
        measure(
            "other-likelihoods/log-likelihood-keeps-the-dequantised-ranking", result(), good
        ).margin
        == 11
    )
    assert (
        measure("other-likelihoods/fixed-sigma-has-the-loosest-bound", result(), good).margin == 3.5
    )
    # The bounds rank the same, but a far tighter bound for the Gaussians reverses the order.
    reversed_ = neg_elbo - np.array([0.0, 0.0, 20.0, 60.0, 0.0, 0.0, 20.0])
    for name in (
        "log-likelihood-keeps-the-density-ranking",
        "log-likelihood-keeps-the-dequantised-ranking",
    ):
        assert not measure(f"other-likelihoods/{name}", result(), reversed_).holds, name
    even = neg_elbo - 3.0  # every decoder with the same gap
    assert not measure("other-likelihoods/fixed-sigma-has-the-loosest-bound", result(), even).holds


def pixel_studies(active_on_255=10, gap_on_255=0.002, norm_error_255=0.03):
    """Synthetic one-σ linear sweeps on the three pixel ranges, as the chapter trains them;
    on 0..255 pixels the ten kept column norms are ``norm_error_255`` (relative) too large."""

    def study(width, predicted, active, gap, error):
        kl = np.zeros((1, 16))
        kl[0, :active] = np.linspace(0.9, 0.065, active) if active else 0
        kl[0, active:] = 1e-4
        norms = np.zeros((1, 16))
        norms[0, :predicted] = np.linspace(0.4, 0.02, predicted) * width**2
        trained = norms * (1 + error)
        trained[0, predicted:] = 1e-4 * width**2
        return SimpleNamespace(
            sigmas=np.array([90.5]),
            predicted_active=np.array([predicted]),
            kl_per_latent=kl,
            active_units=np.array([active]),
            elbo_gap=np.array([gap]),
            pixel_width=width,
            column_norms_sq=trained,
            predicted_norms_sq=norms,
        )

    return {
        "0..1": study(1.0, 0, 0, 4e-8, 0.0),
        "-1..1": study(2.0, 0, 0, 1e-7, 0.0),
        "0..255": study(255.0, 10, active_on_255, gap_on_255, norm_error_255),
    }


def test_column_norm_claim_sees_a_missing_latent():
    predicted = np.array([[0.448, 0.385, 0.313, 0.135, 0.022, 0.0, 0.0]])

    def linear(trained):
        return SimpleNamespace(
            column_norms_sq=np.array([trained]), predicted_norms_sq=predicted, pixel_width=1.0
        )

    name = "linear-vae/column-norms-match-ppca"
    close = [0.419, 0.413, 0.315, 0.136, 0.0212, 0.0001, 0.0002]  # the worst seed: 7 % off
    assert measure(name, linear(close)).margin == pytest.approx(1 - (0.413 / 0.385 - 1) / 0.15)
    # the latent of norm 0.022 missing: 0.022 off, inside the old absolute 0.05, 100 % relative
    missing = [0.448, 0.385, 0.313, 0.135, 0.0, 0.0001, 0.0002]
    assert not measure(name, linear(missing)).holds
    extra = [0.448, 0.385, 0.313, 0.135, 0.022, 0.02, 0.0002]  # a latent where none should be
    assert not measure(name, linear(extra)).holds


def test_pixel_range_claims_hold_and_break():
    collapse = "linear-vae/pixel-range-decides-collapse"
    optimum = "linear-vae/pixel-range-runs-reach-the-optimum"
    evidence = measure(collapse, pixel_studies())
    assert evidence.holds and evidence.margin == pytest.approx(np.log10(6.5), abs=1e-6)
    assert not measure(collapse, pixel_studies(active_on_255=9)).holds
    assert not measure(collapse, pixel_studies(active_on_255=11)).holds
    no_collapse = pixel_studies()
    no_collapse["0..1"].predicted_active = np.array([1])  # the theory itself disagrees
    assert measure(collapse, no_collapse).margin == -np.inf
    with pytest.raises(ValueError, match="one study per pixel range"):
        claims.CLAIMS[collapse].predicate({"0..1": pixel_studies()["0..1"]})
    evidence = measure(optimum, pixel_studies())
    assert evidence.holds and evidence.margin == pytest.approx(0.8)  # norms: 3 % of 15 %
    assert not measure(optimum, pixel_studies(gap_on_255=0.12)).holds
    assert not measure(optimum, pixel_studies(gap_on_255=-1e-5)).holds  # below the optimum
    assert not measure(optimum, pixel_studies(norm_error_255=0.2)).holds
    # an off latent is judged in [0, 1] units: 1e-4 · 255² on 0..255 pixels is 1e-4
    assert measure(optimum, pixel_studies(norm_error_255=0.1)).holds


def tricks_result(
    annealed_kl=None, free_kl=(0.48, 0.49), plain_kl=0.0, neg_elbo=(72.13, 72.13, 72.74)
):
    """A synthetic run of the recipe's three VAEs at σ = 1.2: plain, annealed, free bits."""
    from vaebook.experiment import Config

    variants = [
        Config("plain", "gaussian", sigma=1.2),
        Config("annealed", "gaussian", sigma=1.2, kl_warmup=2500),
        Config("free bits", "gaussian", sigma=1.2, free_bits=0.5),
    ]
    steps = np.arange(0, 5000, 50)
    sigma_t = 1.2 * np.sqrt(np.minimum(1, (steps + 1) / 2500))
    if annealed_kl is None:  # a code below √λ₁ = 0.835, none above it
        annealed_kl = np.where(sigma_t < 0.835, 1.0, 1e-4)
    kl = np.column_stack([np.zeros_like(steps, dtype=float), annealed_kl, np.full(100, 1.0)])
    labels = [item.label for item in variants]
    return SimpleNamespace(
        configs=variants,
        index_of=labels.index,
        history={"step": steps, "kl": kl},
        kl=np.array([plain_kl, annealed_kl[-1], sum(free_kl)]),
        kl_per_latent=np.array([[plain_kl / 2] * 2, [0, 0], free_kl]),
        neg_elbo=np.array(neg_elbo),
    )


def test_recipe_claims_hold_and_break():
    delays = "recipe/annealing-delays-collapse-until-sqrt-lambda1"
    assert measure(delays, tricks_result(), 0.835).margin == pytest.approx(1.0)
    steps = np.arange(0, 5000, 50)
    sigma_t = 1.2 * np.sqrt(np.minimum(1, (steps + 1) / 2500))
    early = np.where(sigma_t < 0.6, 1.0, 1e-4)  # the code empties too early
    assert not measure(delays, tricks_result(annealed_kl=early), 0.835).holds
    late = np.where(sigma_t < 1.0, 1.0, 1e-4)  # still a code at 1.15·√λ₁
    assert not measure(delays, tricks_result(annealed_kl=late), 0.835).holds
    ends = "recipe/annealing-ends-where-plain-ends"
    assert measure(ends, tricks_result()).margin == pytest.approx(0.1)
    assert not measure(ends, tricks_result(neg_elbo=(72.13, 72.3, 72.74))).holds
    keep = "recipe/free-bits-keep-lambda-per-latent"
    assert measure(keep, tricks_result()).margin == pytest.approx(0.16)
    assert not measure(keep, tricks_result(free_kl=(0.48, 0.3))).holds
    assert not measure(keep, tricks_result(plain_kl=0.5)).holds  # the plain VAE kept a code
    cost = "recipe/free-bits-cost-elbo"
    assert measure(cost, tricks_result()).margin == pytest.approx(0.61)
    assert not measure(cost, tricks_result(neg_elbo=(72.13, 72.13, 72.0))).holds
    choice = "recipe/sigma-chosen-on-validation-is-best-on-test"
    validation = np.array(
        [1161.6, 485.0, 188.5, 52.2, 8.4, -9.9, -6.2, 6.5, 24.2, 43.6, 64.1, 85.8]
    )
    test = np.array([1092.6, 470.6, 187.1, 42.5, 4.1, -10.9, -7.4, 6.3, 24.0, 43.6, 64.2, 85.8])
    sigmas = np.geomspace(0.03, 1.5, 12)
    assert measure(choice, sigmas, validation, test).margin == pytest.approx(3.5)
    shifted = np.roll(validation, 2)  # lowest at σ = 0.36
    assert not measure(choice, sigmas, shifted, np.roll(test, 2)).holds
    elsewhere = test.copy()
    elsewhere[6] = -11.5  # the test half prefers σ = 0.25: the choice does not carry over
    assert not measure(choice, sigmas, validation, elsewhere).holds
    edge = np.sort(validation)[::-1]  # lowest at the largest σ, the grid's edge
    assert not measure(choice, sigmas, edge, np.sort(test)[::-1]).holds


def code_result(
    kl_per_latent=None, neg_elbo=None, mse=(0.0333, 0.0333, 0.0333, 0.057, 0.074, 0.0386)
):
    """A synthetic run of chapter *Reading real VAE code*: members a, b, c (rescaled losses),
    keras (σ² = 0.5), collapsed (σ² = 6.1), tiny (weight 1e-6)."""
    labels = ["a", "b", "c", "keras", "collapsed", "tiny"]
    if kl_per_latent is None:
        kl_per_latent = [
            [1.5, 1.55],
            [1.5, 1.55],
            [1.51, 1.55],
            [0.27, 0.27],
            [0.0, 0.0],
            [8.3, 8.1],
        ]
    kl_per_latent = np.array(kl_per_latent)
    if neg_elbo is None:
        neg_elbo = [24.38, 24.39, 24.39, 41.3, 61.2, 7e6]
    return SimpleNamespace(
        index_of=labels.index,
        kl_per_latent=kl_per_latent,
        kl=kl_per_latent.sum(axis=1),
        neg_elbo=np.array(neg_elbo),
        mse=np.array(mse),
    )


def test_the_half_beta_claim_holds_and_breaks():
    half = "real-code/half-beta-keeps-more-code-and-a-worse-bound"

    def pair(kl, neg_elbo):  # members "half" (β = ½) and "full" (β = 1)
        labels = ["half", "full"]
        return SimpleNamespace(index_of=labels.index, kl=np.array(kl), neg_elbo=np.array(neg_elbo))

    assert measure(half, pair([4.2, 3.05], [25.03, 24.39]), "half", "full").margin == (
        pytest.approx(0.64)
    )
    assert measure(half, pair([3.4, 3.05], [25.03, 24.39]), "half", "full").margin == (
        pytest.approx(-0.15)  # only 0.35 nats more code
    )
    better_bound = pair([4.2, 3.05], [24.3, 24.39])
    assert not measure(half, better_bound, "half", "full").holds
    assert not measure(half, pair([3.05, 4.2], [25.03, 24.39]), "half", "full").holds


def test_real_code_claims_hold_and_break():
    same = "real-code/rescaled-losses-train-the-same-vae"
    assert measure(same, code_result(), ["a", "b", "c"]).margin == pytest.approx(0.95)
    assert not measure(
        same, code_result(neg_elbo=[24.38, 24.7, 24.39, 41, 61, 7e6]), ["a", "b", "c"]
    ).holds
    collapsed_too = [[0.001, 0.0]] * 3 + [[0.27, 0.27], [0, 0], [8.3, 8.1]]
    assert not measure(same, code_result(kl_per_latent=collapsed_too), ["a", "b", "c"]).holds
    with pytest.raises(ValueError, match="at least two"):
        measure(same, code_result(), ["a"])
    collapse = "real-code/collapse-where-the-auditor-says"
    variances = {"keras": 0.5, "collapsed": 6.1, "tiny": 2e-12}
    assert measure(collapse, code_result(), variances).margin == pytest.approx(math.log10(54))
    # the auditor's σ² for keras above λ₁ = 0.698 would predict a collapse that did not happen
    assert not measure(collapse, code_result(), {**variances, "keras": 0.8}).holds
    detail = measure(collapse, code_result(), variances).detail
    assert "nearest σ² below 0.72 λ₁, above 8.74 λ₁" in detail
    kept = [[1.5, 1.55]] * 3 + [[0.27, 0.27], [0.3, 0.0], [8.3, 8.1]]
    assert not measure(collapse, code_result(kl_per_latent=kept), variances).holds
    tiny = "real-code/tiny-kl-weight-leaves-narrow-posteriors"
    sd = {"tiny": np.full((450, 2), 1e-3), "b": np.full((450, 2), 0.2)}
    assert measure(tiny, sd, ["tiny"], ["b"]).margin == pytest.approx(1.0)  # 1e-3 vs 1e-2
    # the case a KL threshold let through: sd 0.1 with a large mean (KL > 4.1 nats)
    wide = {**sd, "tiny": np.full((450, 2), 0.1)}
    assert not measure(tiny, wide, ["tiny"], ["b"]).holds
    assert not measure(tiny, sd, ["tiny"], ["b", "tiny"]).holds  # an ELBO loss with a point
    mostly = {**sd, "tiny": np.concatenate([np.full((300, 2), 1e-3), np.full((150, 2), 0.05)])}
    assert measure(tiny, mostly, ["tiny"], ["b"]).holds  # the median, not every digit
    blur = "real-code/large-sigma-blurs"
    assert measure(blur, code_result(), variances).margin == pytest.approx(
        0.057 / 0.0386 / 1.25 - 1
    )
    # Keras' σ² = 0.5 reconstructing as sharply as the tiny-σ autoencoder: no blur
    sharp = (0.0333, 0.0333, 0.0333, 0.04, 0.074, 0.0386)
    assert not measure(blur, code_result(mse=sharp), variances).holds
    with pytest.raises(ValueError, match="above and below"):
        measure(blur, code_result(), {"tiny": 2e-12})


def zoo_result(kl=None):
    """Synthetic 600-step runs of the bug zoo's losses a-e: KL per latent of each."""
    kl = kl or {
        "a": [0.0, 0.0],
        "b": [1e-4, 0.0],
        "c": [0.0, 0.0],
        "d": [6.0, 7.0],
        "e": [1.2, 1.4],
    }
    return {
        name: {"kl": np.array([sum(v)]), "kl_per_latent": np.array([v])} for name, v in kl.items()
    }


def test_bug_zoo_claims_hold_and_break():
    fail = "bug-zoo-assignment/bugs-fail-as-predicted"
    assert measure(fail, zoo_result()).margin == pytest.approx(math.log10(13 / 8.21), rel=1e-3)
    base = {name: value["kl_per_latent"][0].tolist() for name, value in zoo_result().items()}
    for name, latents in [
        ("b", [0.02, 0.0]),
        ("d", [3.0, 5.0]),
        ("e", [0.3, 0.4]),
        ("e", [5.0, 0.5]),
    ]:
        assert not measure(fail, zoo_result({**base, name: latents})).holds, (name, latents)
    keep = "bug-zoo-assignment/fixes-keep-a-code"
    fixes = {name: {"kl": np.array([v])} for name, v in zip("abcd", (3.0, 2.5, 3.0, 4.0))}
    assert measure(keep, fixes).margin == pytest.approx(1 - 4.0 / 8.21, rel=1e-3)
    assert not measure(keep, {**fixes, "b": {"kl": np.array([0.8])}}).holds
    assert not measure(keep, {**fixes, "d": {"kl": np.array([9.0])}}).holds

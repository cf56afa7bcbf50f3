"""The loss calculator: its maths (Python), and the same maths in JavaScript, in a real browser."""

from __future__ import annotations

import itertools
import math

import pytest

from vaebook.calculator import (
    PIXEL_RANGES,
    RECON_LOSSES,
    REDUCTIONS,
    loss_assumptions,
    loss_calculator_html,
)
from vaebook.likelihoods import effective_sigma


@pytest.mark.parametrize("recon, kl", list(itertools.product(REDUCTIONS, REDUCTIONS)))
def test_gaussian_sigma_is_the_effective_sigma_of_the_chapter(recon, kl):
    result = loss_assumptions("mse", recon, kl, 0.5, (28, 28), 64, 16)
    expected = effective_sigma(784, 64, recon, kl, latent_dim=16, kl_weight=0.5)
    assert result["family"] == "gaussian" and result["beta"] == 1.0
    assert math.isclose(result["scale"], expected, rel_tol=1e-12)


def test_the_known_cases():
    # F.mse_loss (mean) + KL summed over the batch: sigma^2 = B*D/2, on [0, 1] pixels
    pytorch_style = loss_assumptions("mse", "mean", "sum", 1.0, (28, 28), 128, 20)
    assert math.isclose(pytorch_style["scale"] ** 2, 128 * 784 / 2)
    assert pytorch_style["collapse"] == "all"
    assert pytorch_style["depends_on_batch_size"] and pytorch_style["depends_on_image_size"]
    # the same loss on 0..255 digits (8x8, KL averaged over the batch): sigma^2 = 32 in the
    # data's units, far below the digits' largest principal variance on that scale
    wide = loss_assumptions("mse", "mean", "batchmean", 1.0, (8, 8), 128, 2, "0..255")
    assert math.isclose(wide["scale"] ** 2, 32) and wide["collapse"] == "some"
    assert math.isclose(wide["scale_01"], math.sqrt(32) / 255)
    # a stated sigma: sums everywhere give sigma = 1/sqrt(2), no dependence on any size
    plain = loss_assumptions("mse", "sum", "sum", 1.0, (8, 8), 7, 2)
    assert math.isclose(plain["scale"], 1 / math.sqrt(2))
    assert not (
        plain["depends_on_batch_size"]
        or plain["depends_on_image_size"]
        or plain["depends_on_latent_dim"]
    )
    laplace = loss_assumptions("l1", "mean", "batchmean", 1.0, (8, 8), 32, 2)
    assert laplace["family"] == "laplace" and math.isclose(laplace["scale"], 64)
    bce = loss_assumptions("bce", "batchmean", "mean", 4.0, (1, 28, 28), 32, 10)
    assert bce["family"] == "bernoulli" and math.isclose(bce["beta"], 4.0 / 10)
    assert bce["depends_on_latent_dim"] and not bce["depends_on_batch_size"]


@pytest.mark.parametrize(
    "change, message",
    [
        ({"recon_loss": "huber"}, "recon_loss must be one of 'mse', 'l1', 'bce', got 'huber'"),
        ({"recon_reduction": "avg"}, "recon_reduction must be one of"),
        ({"kl_reduction": None}, "kl_reduction must be one of"),
        ({"pixel_range": "0..65535"}, "pixel_range must be one of"),
        ({"kl_weight": 0.0}, "kl_weight must be a finite number > 0, got 0.0"),
        ({"kl_weight": float("nan")}, "kl_weight must be a finite number > 0, got nan"),
        ({"kl_weight": True}, "kl_weight must be a finite number > 0"),
        ({"image_shape": ()}, "image_shape must have at least one dimension"),
        ({"image_shape": (28, 0)}, "every entry of image_shape must be a positive integer, got 0"),
        ({"image_shape": (2.5,)}, "every entry of image_shape must be a positive integer"),
        ({"batch_size": 0}, "batch_size must be a positive integer, got 0"),
        ({"latent_dim": -3}, "latent_dim must be a positive integer, got -3"),
        ({"recon_loss": "bce", "pixel_range": "-1..1"}, "binary cross-entropy needs targets in"),
    ],
)
def test_bad_settings_are_refused_clearly(change, message):
    settings = dict(
        recon_loss="mse",
        recon_reduction="mean",
        kl_reduction="sum",
        kl_weight=1.0,
        image_shape=(8, 8),
        batch_size=16,
        latent_dim=2,
        pixel_range="0..1",
    )
    settings.update(change)
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(".", r"\.")):
        loss_assumptions(**settings)


def combinations() -> list[dict]:
    """Every loss, reduction pair and pixel range (BCE on [0, 1] only), with varied sizes."""
    shapes = [(8, 8), (28, 28), (3, 32, 32), (1, 64, 64), (100,)]
    batches, latents, weights = [1, 16, 128, 500], [2, 10, 128], [1.0, 0.5, 4.0, 0.00213]
    cases = []
    for index, (loss, recon, kl, pixels) in enumerate(
        itertools.product(RECON_LOSSES, REDUCTIONS, REDUCTIONS, PIXEL_RANGES)
    ):
        if loss == "bce" and pixels != "0..1":
            continue
        cases.append(
            dict(
                recon_loss=loss,
                recon_reduction=recon,
                kl_reduction=kl,
                kl_weight=weights[index % 4],
                image_shape=list(shapes[index % 5]),
                batch_size=batches[index % 4],
                latent_dim=latents[index % 3],
                pixel_range=pixels,
            )
        )
    return cases


@pytest.mark.browser
def test_the_javascript_calculator_agrees_with_python(chromium):
    cases = combinations()
    assert len(cases) >= 50
    page = chromium.new_page()
    try:
        page.set_content(f"<html><body>{loss_calculator_html()}</body></html>")
        results = page.evaluate(
            "cases => cases.map(c => window.vaebookLossCalculator.compute(c))", cases
        )
        for case, js in zip(cases, results):
            py = loss_assumptions(**case)
            for key in (
                "family",
                "collapse",
                "depends_on_batch_size",
                "depends_on_image_size",
                "depends_on_latent_dim",
                "dim",
            ):
                assert js[key] == py[key], (case, key, js[key], py[key])
            for key in ("scale", "scale_01", "beta", "ratio"):
                if py[key] is None:
                    assert js[key] is None, (case, key)
                else:
                    assert math.isclose(js[key], py[key], rel_tol=1e-12), (case, key)
        # bad input: the same message in both
        error = page.evaluate(
            """c => { try { window.vaebookLossCalculator.compute(c); }
                                     catch (e) { return e.message; } }""",
            dict(cases[0], recon_loss="bce", pixel_range="0..255"),
        )
        with pytest.raises(ValueError) as python_error:
            loss_assumptions(**dict(cases[0], recon_loss="bce", pixel_range="0..255"))
        assert error == str(python_error.value)
    finally:
        page.close()


@pytest.mark.browser
def test_the_form_updates_its_verdict(chromium):
    page = chromium.new_page()
    try:
        page.set_content(f"<html><body>{loss_calculator_html()}</body></html>")
        result = page.locator("#loss-calculator-result")
        # the defaults: F.mse_loss (mean) + KL summed, 28x28, batch 128
        assert "σ = 224 in the data's units" in result.inner_text()
        assert "every latent" in result.inner_text()
        page.select_option("select[name=recon_reduction]", "sum")
        page.select_option("select[name=kl_reduction]", "sum")
        assert "σ = 0.707107" in result.inner_text()
        page.fill("input[name=batch_size]", "0")
        assert "Cannot compute: batch_size must be a positive integer" in result.inner_text()
    finally:
        page.close()

"""Tests of vaebook.audit.audit_loss: exact recovery of σ, b and β from constructed losses."""

from __future__ import annotations

import dataclasses
import math

import pytest
import torch
import torch.nn.functional as F

from vaebook.audit import LossAudit, audit_loss
from vaebook.claims import PRINT_WIDTH


def said(audit) -> str:
    """The audit's verdict as one line (str() wraps it to the website's code width)."""
    return " ".join(str(audit).split())


def kl_sum(mu, logvar):
    """KL(N(mu, exp(logvar)) || N(0, I)) summed over latents and batch (written out here)."""
    return -0.5 * (1 + logvar - mu**2 - logvar.exp()).sum()


def kl_per_sample(mu, logvar):
    return -0.5 * (1 + logvar - mu**2 - logvar.exp()).sum(dim=1)


def batch(x):
    return x.shape[0]


def pixels(x):
    return x[0].numel()


def cb_nll_sum(x_hat, x):
    return -torch.distributions.ContinuousBernoulli(probs=x_hat).log_prob(x).sum()


N_DATASET, KLD_WEIGHT_BATCH = 60_000, 144
KLD_WEIGHT = KLD_WEIGHT_BATCH / N_DATASET  # PyTorch-VAE: M_N = batch_size / num_train_images

# name: (loss, image_shape, latent_dim, batch_size, family, expected(B, D, L), batch dep, D dep)
# expected is σ (Gaussian), b (Laplace) or β (Bernoulli families), worked out by hand from
# L = a * sum rho + c * sum KL: σ = sqrt(c / (2a)), b = c / a, β = c / a.
CASES = {
    "mse sum + kl sum": (
        lambda x_hat, x, mu, logvar: F.mse_loss(x_hat, x, reduction="sum") + kl_sum(mu, logvar),
        (8, 8),
        2,
        8,
        "gaussian",
        lambda B, D, L: 1 / math.sqrt(2),
        False,
        False,
    ),
    "mse mean + kl sum / B (sigma^2 = D/2)": (
        lambda x_hat, x, mu, logvar: F.mse_loss(x_hat, x) + kl_sum(mu, logvar) / batch(x),
        (8, 8),
        2,
        8,
        "gaussian",
        lambda B, D, L: math.sqrt(D / 2),
        False,
        True,
    ),
    "mse mean + kl sum (sigma^2 = BD/2)": (
        lambda x_hat, x, mu, logvar: F.mse_loss(x_hat, x) + kl_sum(mu, logvar),
        (8, 8),
        2,
        8,
        "gaussian",
        lambda B, D, L: math.sqrt(B * D / 2),
        True,
        True,
    ),
    "mse sum / B + kl sum / B": (
        lambda x_hat, x, mu, logvar: (
            (F.mse_loss(x_hat, x, reduction="sum") + kl_sum(mu, logvar)) / batch(x)
        ),
        (8, 8),
        2,
        8,
        "gaussian",
        lambda B, D, L: 1 / math.sqrt(2),
        False,
        False,
    ),
    "mse mean + kl mean over batch and latents": (
        lambda x_hat, x, mu, logvar: (
            F.mse_loss(x_hat, x) + (-0.5 * (1 + logvar - mu**2 - logvar.exp())).mean()
        ),
        (8, 8),
        3,
        8,
        "gaussian",
        lambda B, D, L: math.sqrt(D / (2 * L)),
        False,
        True,
    ),
    "beta-VAE beta=4, sums": (
        lambda x_hat, x, mu, logvar: ((x - x_hat) ** 2).sum() + 4 * kl_sum(mu, logvar),
        (8, 8),
        2,
        8,
        "gaussian",
        lambda B, D, L: math.sqrt(4 / 2),
        False,
        False,
    ),
    "mse sum + kl mean over batch": (
        lambda x_hat, x, mu, logvar: (
            F.mse_loss(x_hat, x, reduction="sum") + kl_per_sample(mu, logvar).mean()
        ),
        (8, 8),
        2,
        8,
        "gaussian",
        lambda B, D, L: math.sqrt(1 / (2 * B)),
        True,
        False,
    ),
    "PyTorch-VAE: mse mean + kld_weight * kl batchmean": (
        lambda x_hat, x, mu, logvar: (
            F.mse_loss(x_hat, x) + KLD_WEIGHT * kl_per_sample(mu, logvar).mean()
        ),
        (8, 8),
        2,
        8,
        "gaussian",
        lambda B, D, L: math.sqrt(KLD_WEIGHT * D / 2),
        False,
        True,
    ),
    "sigma-VAE: sse / (2 * 0.1^2)": (
        lambda x_hat, x, mu, logvar: (
            ((x - x_hat) ** 2).flatten(1).sum(1) / (2 * 0.1**2) + kl_per_sample(mu, logvar)
        ).mean(),
        (8, 8),
        2,
        8,
        "gaussian",
        lambda B, D, L: 0.1,
        False,
        False,
    ),
    "Gaussian NLL with its log-sigma constant, sigma=0.3": (
        lambda x_hat, x, mu, logvar: (
            -torch.distributions.Normal(x_hat, 0.3).log_prob(x).sum() + kl_sum(mu, logvar)
        ),
        (8, 8),
        2,
        8,
        "gaussian",
        lambda B, D, L: 0.3,
        False,
        False,
    ),
    "F.gaussian_nll_loss var=0.01 mean + kl batchmean": (
        lambda x_hat, x, mu, logvar: (
            F.gaussian_nll_loss(x_hat, x, torch.full_like(x, 0.01), full=True)
            + kl_sum(mu, logvar) / batch(x)
        ),
        (8, 8),
        2,
        8,
        "gaussian",
        lambda B, D, L: math.sqrt(0.01 * D),
        False,
        True,
    ),
    "flattened 1-D images, mse sum + kl sum": (
        lambda x_hat, x, mu, logvar: F.mse_loss(x_hat, x, reduction="sum") + kl_sum(mu, logvar),
        (64,),
        2,
        8,
        "gaussian",
        lambda B, D, L: 1 / math.sqrt(2),
        False,
        False,
    ),
    "MNIST shape (1, 28, 28), x.view(-1, D), mse mean + kl batchmean": (
        lambda x_hat, x, mu, logvar: (
            F.mse_loss(x_hat.view(-1, pixels(x)), x.view(-1, pixels(x)))
            + kl_sum(mu, logvar) / batch(x)
        ),
        (1, 28, 28),
        4,
        16,
        "gaussian",
        lambda B, D, L: math.sqrt(784 / 2),
        False,
        True,
    ),
    "batch size 1, mse sum + kl batchmean": (
        lambda x_hat, x, mu, logvar: (
            F.mse_loss(x_hat, x, reduction="sum") + kl_sum(mu, logvar) / batch(x)
        ),
        (8, 8),
        2,
        1,
        "gaussian",
        lambda B, D, L: math.sqrt(1 / (2 * B)),
        True,
        False,
    ),
    "L1 sum + kl sum (b = 1)": (
        lambda x_hat, x, mu, logvar: F.l1_loss(x_hat, x, reduction="sum") + kl_sum(mu, logvar),
        (8, 8),
        2,
        8,
        "laplace",
        lambda B, D, L: 1.0,
        False,
        False,
    ),
    "L1 mean + kl batchmean (b = D)": (
        lambda x_hat, x, mu, logvar: F.l1_loss(x_hat, x) + kl_sum(mu, logvar) / batch(x),
        (8, 8),
        2,
        8,
        "laplace",
        lambda B, D, L: D,
        False,
        True,
    ),
    "Laplace NLL with constant, b=0.2": (
        lambda x_hat, x, mu, logvar: (
            -torch.distributions.Laplace(x_hat, 0.2).log_prob(x).sum() + kl_sum(mu, logvar)
        ),
        (3, 5, 5),
        2,
        4,
        "laplace",
        lambda B, D, L: 0.2,
        False,
        False,
    ),
    "BCE sum + kl sum (beta 1)": (
        lambda x_hat, x, mu, logvar: (
            F.binary_cross_entropy(x_hat, x, reduction="sum") + kl_sum(mu, logvar)
        ),
        (8, 8),
        2,
        8,
        "bernoulli",
        lambda B, D, L: 1.0,
        False,
        False,
    ),
    "BCE mean + kl batchmean (beta = D)": (
        lambda x_hat, x, mu, logvar: (
            F.binary_cross_entropy(x_hat, x) + kl_sum(mu, logvar) / batch(x)
        ),
        (1, 28, 28),
        2,
        8,
        "bernoulli",
        lambda B, D, L: D,
        False,
        True,
    ),
    "BCE mean + kl sum (beta = BD)": (
        lambda x_hat, x, mu, logvar: F.binary_cross_entropy(x_hat, x) + kl_sum(mu, logvar),
        (8, 8),
        2,
        8,
        "bernoulli",
        lambda B, D, L: B * D,
        True,
        True,
    ),
    "BCE with logits of x_hat, sum, beta 0.5": (
        lambda x_hat, x, mu, logvar: (
            F.binary_cross_entropy_with_logits(torch.logit(x_hat), x, reduction="sum")
            + 0.5 * kl_sum(mu, logvar)
        ),
        (8, 8),
        2,
        8,
        "bernoulli",
        lambda B, D, L: 0.5,
        False,
        False,
    ),
    "continuous Bernoulli NLL sum + kl sum": (
        lambda x_hat, x, mu, logvar: cb_nll_sum(x_hat, x) + kl_sum(mu, logvar),
        (8, 8),
        2,
        8,
        "continuous-bernoulli",
        lambda B, D, L: 1.0,
        False,
        False,
    ),
    "continuous Bernoulli, (1, 28, 28), mean over batch, beta 2": (
        lambda x_hat, x, mu, logvar: (cb_nll_sum(x_hat, x) + 2 * kl_sum(mu, logvar)) / batch(x),
        (1, 28, 28),
        3,
        4,
        "continuous-bernoulli",
        lambda B, D, L: 2.0,
        False,
        False,
    ),
}


@pytest.fixture(scope="module")
def audits():
    return {
        name: audit_loss(case[0], image_shape=case[1], latent_dim=case[2], batch_size=case[3])
        for name, case in CASES.items()
    }


@pytest.mark.parametrize("name", CASES)
def test_exact_recovery_of_family_scale_beta_and_dependence(audits, name):
    _, shape, latent_dim, batch_size, family, expected, on_batch, on_image = CASES[name]
    audit = audits[name]
    value = expected(batch_size, math.prod(shape), latent_dim)
    assert audit.family == family, str(audit)
    if family in ("gaussian", "laplace"):
        got = audit.scale
        assert audit.beta == 1.0
        pixel_sigma = value if family == "gaussian" else math.sqrt(2) * value
        assert audit.sigma_per_pixel == pytest.approx(pixel_sigma, rel=1e-6)
    else:
        got = audit.beta
        assert audit.scale is None and audit.sigma_per_pixel is None
    assert abs(got - value) < 1e-6 * value, (name, got, value)
    assert audit.depends_on_batch_size is on_batch
    assert audit.depends_on_image_size is on_image
    assert audit.dtype == "float64" and audit.reason == "" and audit.notes == ()


def test_the_recovery_covers_enough_losses_and_every_dependence_pattern():
    assert len(CASES) >= 15
    patterns = {(case[6], case[7]) for case in CASES.values()}
    assert {(False, False), (True, False), (False, True), (True, True)} <= patterns
    assert {case[4] for case in CASES.values()} == {
        "gaussian",
        "laplace",
        "bernoulli",
        "continuous-bernoulli",
    }


def test_the_weights_and_the_factor_of_the_elbo(audits):
    audit = audits["mse mean + kl sum / B (sigma^2 = D/2)"]
    assert audit.recon_weight == pytest.approx(1 / (8 * 64), rel=1e-9)
    assert audit.kl_weight == pytest.approx(1 / 8, rel=1e-9)
    assert "times 1/B (= 0.125)" in said(audit)
    assert "times 1/(B·D)" in said(audits["BCE mean + kl batchmean (beta = D)"])
    assert "times 1," in said(audits["mse sum + kl sum"])


def test_str_gives_family_sigma_and_collapse_verdict(audits):
    text = said(audits["mse mean + kl sum (sigma^2 = BD/2)"])  # σ² = 8 * 64 / 2 = 256
    assert "Gaussian decoder with σ = 16 " in text
    assert "σ² = 256" in text and "collapse" in text
    assert "every latent will collapse" in text  # 256 >= D/4 = 16
    assert "changes with the batch size and the number of pixels" in text
    sound = said(audits["sigma-VAE: sse / (2 * 0.1^2)"])
    assert "σ = 0.1 " in sound and "σ² = 0.01" in sound
    assert "every latent will collapse" not in sound
    assert "does not change with the batch size or the number of pixels" in sound
    assert "Laplace decoder with b = 64" in said(audits["L1 mean + kl batchmean (b = D)"])
    bce = said(audits["BCE mean + kl batchmean (beta = D)"])
    assert "Bernoulli decoder with β = 784" in bce and "collapse" in bce
    assert "continuous Bernoulli decoder with β = 1," in said(
        audits["continuous Bernoulli NLL sum + kl sum"]
    )


def test_the_result_is_a_frozen_dataclass(audits):
    audit = audits["mse sum + kl sum"]
    assert isinstance(audit, LossAudit)
    with pytest.raises(dataclasses.FrozenInstanceError):
        audit.scale = 1.0
    assert audit.collapse_variance == pytest.approx(0.5, rel=1e-9)


def test_a_loss_without_kl_is_a_plain_autoencoder():
    audit = audit_loss(
        lambda x_hat, x, mu, logvar: F.mse_loss(x_hat, x),
        image_shape=(4, 4),
        latent_dim=2,
        batch_size=4,
    )
    assert audit.family == "gaussian" and audit.scale == 0.0 and audit.kl_weight == 0.0
    assert "No KL term" in said(audit)


def test_a_float32_only_loss_is_probed_in_float32_with_a_note():
    def loss(x_hat, x, mu, logvar):
        if x.dtype != torch.float32:
            raise TypeError("this model only runs in float32")
        return F.mse_loss(x_hat, x) + kl_sum(mu, logvar) / x.shape[0]

    audit = audit_loss(loss, image_shape=(8, 8), latent_dim=2, batch_size=8)
    assert audit.family == "gaussian" and audit.dtype == "float32"
    assert audit.scale == pytest.approx(math.sqrt(64 / 2), rel=1e-4)
    assert audit.depends_on_batch_size is False and audit.depends_on_image_size is True
    assert "float32" in audit.notes[0] and "only runs in float32" in said(audit)


@pytest.mark.parametrize(
    "loss",
    [
        lambda x_hat, x, mu, logvar: F.mse_loss(x_hat, x) + kl_sum(mu.float(), logvar.float()),
        lambda x_hat, x, mu, logvar: (F.mse_loss(x_hat, x) + kl_sum(mu, logvar)).float(),
    ],
    ids=["float32 KL inside", "float32 result"],
)
def test_float32_arithmetic_inside_a_float64_loss_is_noted(loss):
    audit = audit_loss(loss, image_shape=(8, 8), latent_dim=2, batch_size=4)
    assert audit.family == "gaussian" and audit.dtype == "float64"
    assert audit.scale == pytest.approx(math.sqrt(4 * 64 / 2), rel=1e-5)
    assert audit.depends_on_batch_size is True and audit.depends_on_image_size is True
    assert "float32 arithmetic inside" in said(audit)


def test_a_loss_that_changes_its_inputs_in_place_does_not_spoil_the_probes():
    def loss(x_hat, x, mu, logvar):
        value = F.mse_loss(x_hat, x, reduction="sum") + kl_sum(mu, logvar)
        x_hat.zero_(), x.zero_(), mu.zero_(), logvar.zero_()
        return value

    audit = audit_loss(loss, image_shape=(8, 8), latent_dim=2, batch_size=4)
    assert audit.family == "gaussian"
    assert audit.scale == pytest.approx(1 / math.sqrt(2), rel=1e-9)


def test_a_loss_that_cannot_take_another_image_size_gets_none_and_a_note():
    def loss(x_hat, x, mu, logvar):
        assert x.shape[1:] == (8, 8), "fixed image size"
        return F.mse_loss(x_hat, x) + kl_sum(mu, logvar) / x.shape[0]

    audit = audit_loss(loss, image_shape=(8, 8), latent_dim=2, batch_size=8)
    assert audit.family == "gaussian" and audit.scale == pytest.approx(math.sqrt(32), rel=1e-9)
    assert audit.depends_on_batch_size is False and audit.depends_on_image_size is None
    assert "image size could not be probed" in said(audit)
    assert "fixed image size" in said(audit)
    assert "dependence on the number of pixels could not be probed" in said(audit)


@pytest.mark.parametrize(
    "loss, reason",
    [
        (
            lambda x_hat, x, mu, logvar: (F.mse_loss(x_hat, x) + kl_sum(mu, logvar)) ** 2,
            "do not add up",
        ),
        (
            lambda x_hat, x, mu, logvar: F.mse_loss(x_hat, x) * (1 + kl_sum(mu, logvar)),
            "do not add up",
        ),
        (
            lambda x_hat, x, mu, logvar: F.mse_loss(x_hat, x) + (mu**2 + logvar**2).sum(),
            "KL part is not a positive multiple",
        ),
        (
            lambda x_hat, x, mu, logvar: (
                F.mse_loss(x_hat, x)
                + (-0.5 * (1 + logvar - mu**2 - logvar.exp()) * torch.where(mu > 0, 2.0, 1.0)).sum()
            ),
            "KL part is not a positive multiple",
        ),
        (
            lambda x_hat, x, mu, logvar: F.mse_loss(x_hat, x) - kl_sum(mu, logvar),
            "KL part is not a positive multiple",
        ),
        (
            lambda x_hat, x, mu, logvar: (
                F.smooth_l1_loss(x_hat, x, beta=0.1, reduction="sum") + kl_sum(mu, logvar)
            ),
            "matches none of",
        ),
        (
            lambda x_hat, x, mu, logvar: (
                0.5 * x[0].numel() * torch.log(F.mse_loss(x_hat, x)) + kl_sum(mu, logvar)
            ),
            "matches none of",
        ),
        (
            lambda x_hat, x, mu, logvar: -F.mse_loss(x_hat, x) + kl_sum(mu, logvar),
            "decreases as the squared error grows",
        ),
        (lambda x_hat, x, mu, logvar: kl_sum(mu, logvar), "does not depend on x_hat"),
    ],
    ids=[
        "squared total",
        "product",
        "logvar squared",
        "KL doubled where mu > 0",
        "negative KL",
        "Huber",
        "log-MSE (optimal sigma)",
        "rewards error",
        "KL only",
    ],
)
def test_losses_of_another_form_are_unknown_with_a_reason(loss, reason):
    audit = audit_loss(loss, image_shape=(6, 6), latent_dim=3, batch_size=5)
    assert audit.family == "unknown"
    assert audit.scale is None and audit.beta is None and audit.sigma_per_pixel is None
    assert audit.depends_on_batch_size is None and audit.depends_on_image_size is None
    assert reason in audit.reason and reason in said(audit)
    assert said(audit).startswith("Unknown loss:")


def _mse_loss(x_hat, x, mu, logvar):
    return F.mse_loss(x_hat, x) + kl_sum(mu, logvar)


def _raises(x_hat, x, mu, logvar):
    raise RuntimeError("decoder exploded")


@pytest.mark.parametrize(
    "loss, kwargs, match",
    [
        (3.0, {}, r"audit_loss: loss must be a callable loss\(x_hat, x, mu, logvar\); got float"),
        (
            lambda x_hat, x: F.mse_loss(x_hat, x),
            {},
            r"must accept four positional arguments loss\(x_hat, x, mu, logvar\); its signature is "
            r"\(x_hat, x\)",
        ),
        (
            lambda x_hat, x, mu, logvar: ((x - x_hat) ** 2).sum(dim=(1, 2)),
            {},
            r"must return a scalar tensor; got shape \(8,\)",
        ),
        (lambda x_hat, x, mu, logvar: "0.5", {}, r"must return a scalar tensor; got str"),
        (
            lambda x_hat, x, mu, logvar: F.mse_loss(x_hat, x) * torch.tensor(math.nan),
            {},
            r"returned nan on the probe inputs",
        ),
        (lambda x_hat, x, mu, logvar: F.mse_loss(x_hat, x) / 0.0, {}, r"returned inf"),
        (
            lambda x_hat, x, mu, logvar: F.mse_loss(x_hat, x).half(),
            {},
            r"returns torch.float16, too coarse to audit",
        ),
        (_raises, {}, r"raised RuntimeError: decoder exploded on x_hat and x of shape \(8, 8, 8\)"),
        (_mse_loss, {"image_shape": ()}, r"image_shape must be a non-empty tuple of positive ints"),
        (_mse_loss, {"image_shape": (8, 0)}, r"image_shape must be .* got \(8, 0\)"),
        (_mse_loss, {"image_shape": 64}, r"image_shape must be .* got 64"),
        (_mse_loss, {"image_shape": (8.0, 8)}, r"image_shape must be"),
        (_mse_loss, {"latent_dim": 0}, r"latent_dim must be a positive int; got 0"),
        (_mse_loss, {"latent_dim": True}, r"latent_dim must be a positive int; got True"),
        (_mse_loss, {"batch_size": -1}, r"batch_size must be a positive int; got -1"),
        (_mse_loss, {"batch_size": 2.0}, r"batch_size must be a positive int; got 2.0"),
    ],
    ids=[
        "not callable",
        "two arguments",
        "vector",
        "string",
        "nan",
        "inf",
        "half",
        "raises",
        "empty shape",
        "zero in shape",
        "int shape",
        "float in shape",
        "latent 0",
        "latent bool",
        "batch negative",
        "batch float",
    ],
)
def test_clear_errors(loss, kwargs, match):
    arguments = {"image_shape": (8, 8), "latent_dim": 2, "batch_size": 8, **kwargs}
    with pytest.raises(ValueError, match=match):
        audit_loss(loss, **arguments)


def test_a_raising_loss_is_reported_with_its_own_message_not_a_torch_traceback():
    with pytest.raises(ValueError, match=r"also fails on float64") as info:
        audit_loss(_raises, image_shape=(8, 8), latent_dim=2, batch_size=8)
    assert info.value.__cause__ is None and "dtype float32" in str(info.value)


def test_max_relative_error_report(audits):
    """Records the worst relative error of the recovery (printed with -s)."""
    worst = max(
        abs(
            (audit.scale if audit.scale is not None else audit.beta)
            - CASES[name][5](CASES[name][3], math.prod(CASES[name][1]), CASES[name][2])
        )
        / CASES[name][5](CASES[name][3], math.prod(CASES[name][1]), CASES[name][2])
        for name, audit in audits.items()
    )
    print(f"\nmax relative error over {len(audits)} losses: {worst:.2e}")
    assert worst < 1e-9


def test_the_auditor_is_public_at_the_package_top_level():
    import vaebook
    from vaebook import audit

    assert vaebook.audit_loss is audit.audit_loss and vaebook.LossAudit is audit.LossAudit
    with pytest.raises(AttributeError, match="no attribute 'audit_losses'"):
        _ = vaebook.audit_losses


def test_the_verdict_fits_a_code_block_on_the_website():
    audit = audit_loss(
        lambda x_hat, x, mu, logvar: F.mse_loss(x_hat, x) + kl_sum(mu, logvar),
        image_shape=(784,),
        latent_dim=20,
        batch_size=128,
    )
    lines = str(audit).splitlines()
    assert len(lines) >= 3 and max(map(len, lines)) <= PRINT_WIDTH


def _bce_with_logits(x_hat, x, mu, logvar):
    """The TensorFlow CVAE tutorial's form: cross-entropy on logits, summed per image."""
    recon = F.binary_cross_entropy_with_logits(x_hat, x, reduction="none").sum(dim=1)
    return (recon + kl_per_sample(mu, logvar)).mean()


def _cb_with_logits(x_hat, x, mu, logvar):
    nll = -torch.distributions.ContinuousBernoulli(logits=x_hat).log_prob(x).sum()
    return nll + kl_sum(mu, logvar)


@pytest.mark.parametrize(
    "loss, family, name",
    [
        (_bce_with_logits, "bernoulli", "Bernoulli"),
        (_cb_with_logits, "continuous-bernoulli", "continuous Bernoulli"),
    ],
    ids=["BCE with logits", "continuous Bernoulli with logits"],
)
def test_a_loss_on_logits_is_recognised_and_said_to_read_logits(loss, family, name):
    audit = audit_loss(loss, image_shape=(16,), latent_dim=2, batch_size=8)
    assert audit.family == family and audit.on_logits
    assert audit.beta == pytest.approx(1.0, rel=1e-9)
    assert audit.depends_on_batch_size is False and audit.depends_on_image_size is False
    text = said(audit)
    assert f"{name} decoder with β = 1," in text and "reads x_hat as logits" in text


def test_a_loss_on_probabilities_is_not_said_to_read_logits(audits):
    for name, audit in audits.items():
        assert not audit.on_logits, name
        assert "logits" not in said(audit), name


def _mean_mse(x_hat, x, mu, logvar):
    return F.mse_loss(x_hat, x) + kl_sum(mu, logvar) / x.shape[0]  # σ² = D/2 = 32


def test_the_verdict_names_the_pixel_range_and_its_collapse_ceiling():
    shape = dict(image_shape=(8, 8), latent_dim=2, batch_size=8)
    plain = said(audit_loss(_mean_mse, **shape))
    assert "(pixels on [0, 1])" in plain and "every latent will collapse" in plain  # 32 ≥ 16
    wide = audit_loss(_mean_mse, **shape, pixel_range=(0, 255))
    text = said(wide)
    assert wide.scale == pytest.approx(math.sqrt(32), rel=1e-9)  # σ itself does not move
    assert f"(pixels on [0, 255]; {math.sqrt(32) / 255:.4g} on [0, 1])" in text
    assert "every latent will collapse" not in text  # the ceiling is 64·255²/4
    signed = said(audit_loss(_mean_mse, **shape, pixel_range=(-1.0, 1.0)))
    assert "pixels on [-1, 1]; 2.828 on [0, 1]" in signed  # σ in the data's units, and on [0, 1]
    assert "will collapse" not in signed  # σ² = 32 < 64·2²/4 = 64
    mean_over_batch_too = said(audit_loss(_mse_loss, **shape, pixel_range=(-1.0, 1.0)))
    # F.mse_loss + KL summed over the batch: σ² = BD/2 = 256 ≥ 64
    assert "D·(width)²/4 = 64" in mean_over_batch_too and "[-1, 1]^D" in mean_over_batch_too


def test_the_verdict_compares_sigma_squared_with_the_data_largest_variance():
    shape = dict(image_shape=(8, 8), latent_dim=2, batch_size=8, pixel_range=(0, 255))
    above = said(audit_loss(_mean_mse, **shape, largest_variance=20.0))
    assert "λ₁ = 20, σ² is 1.6 λ₁: every latent will collapse" in above
    below = said(audit_loss(_mean_mse, **shape, largest_variance=3200.0))
    assert "σ² is 0.01 λ₁: the direction of λ₁" in below and "will collapse" not in below
    no_data = said(audit_loss(_mean_mse, **shape))
    assert "λ₁" not in no_data


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"pixel_range": (1, 0)}, r"pixel_range must be two finite numbers .* got \(1, 0\)"),
        ({"pixel_range": (0, math.inf)}, r"pixel_range must be .* got \(0, inf\)"),
        ({"pixel_range": 255}, r"pixel_range must be .* got 255"),
        ({"pixel_range": (0, 1, 2)}, r"pixel_range must be .* got \(0, 1, 2\)"),
        ({"largest_variance": 0.0}, r"largest_variance must be None or a finite number > 0"),
        ({"largest_variance": math.nan}, r"largest_variance must be .* got nan"),
        ({"largest_variance": "0.7"}, r"largest_variance must be .* got '0.7'"),
    ],
    ids=["reversed", "infinite", "one number", "three numbers", "zero", "nan", "string"],
)
def test_clear_errors_for_the_data_scale(kwargs, match):
    with pytest.raises(ValueError, match=match):
        audit_loss(_mse_loss, image_shape=(8, 8), latent_dim=2, batch_size=8, **kwargs)

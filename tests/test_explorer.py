"""The latent explorer's callbacks (decode, nearest, move, select), its data for the page, and
its live widget. The page's JavaScript is compared with torch in tests/test_explorer_browser.py."""

from __future__ import annotations

import base64
import json
import re
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from vaebook import claims, explorer
from vaebook.experiment import Config
from vaebook.models import BatchedMLPVAE

N_MEMBERS, N_DIGITS = 3, 40


def random_model(n_members=N_MEMBERS, ignore=(), gain=1.0) -> BatchedMLPVAE:
    """A random 2-latent MLP VAE; members in ``ignore`` decode every code to one image."""
    model = BatchedMLPVAE(n_members, seed=3)
    generator = torch.Generator().manual_seed(4)
    with torch.no_grad():  # the members start equal: make each its own decoder
        for weight in (model.dec_hidden_weight, model.dec_out_weight):
            weight.add_(torch.randn(weight.shape, generator=generator) * weight.std())
        model.dec_out_weight.mul_(gain)
        for k in ignore:
            model.dec_hidden_weight[k] = 0
    return model.eval()


def fake_sweep(kl, ignore=(), gain=5.0):
    """What :func:`vaebook.explorer.latent_explorer` reads from a sweep result."""
    kl = np.asarray(kl, dtype=float)
    model = random_model(kl.size, ignore, gain)
    sigmas = np.geomspace(0.1, 1.5, kl.size)
    generator = np.random.default_rng(0)
    return SimpleNamespace(
        sigmas=sigmas,
        kl=kl,
        weights={name: value.detach().numpy().copy() for name, value in model.state_dict().items()},
        latent_means=generator.normal(size=(kl.size, N_DIGITS, 2)),
        latent_labels=np.arange(N_DIGITS) % 10,
        configs=[Config(label=f"σ = {s:.3g}", sigma=float(s)) for s in sigmas],
        model=lambda: model,
        test_data=lambda: (
            torch.from_numpy(generator.uniform(size=(kl.size, N_DIGITS, 64))).float(),
            None,
        ),
    )


@pytest.fixture()
def made():
    return explorer.latent_explorer(fake_sweep([3.0, 1.0, 0.0]), start=1)


def test_decode_is_the_torch_decoder(made):
    model = random_model(gain=5.0)
    points = np.random.default_rng(1).uniform(-4, 4, size=(25, 2))
    with torch.no_grad():
        expected = model.decode(torch.tensor(points, dtype=torch.float32)).numpy()
    for k in range(N_MEMBERS):
        for i, point in enumerate(points):
            np.testing.assert_allclose(made.decode(k, point), expected[k, i], atol=1e-5)
    # Another member is another decoder.
    assert np.abs(made.decode(0, points[0]) - made.decode(1, points[0])).max() > 0.1


def test_nearest_is_the_closest_code(made):
    codes = made.codes[2]
    for n in (0, 7, N_DIGITS - 1):
        assert made.nearest(2, codes[n] + 1e-4) == n
    distances = ((codes - np.array([3.0, -2.0])) ** 2).sum(axis=1)
    assert made.nearest(2, (3.0, -2.0)) == int(np.argmin(distances))


def test_move_keeps_the_point_in_the_plane_and_select_switches_the_decoder(made):
    view = made.move(9.0, -0.5)
    assert view.point == (explorer.PLANE_EXTENT, -0.5) == made.point
    np.testing.assert_allclose(view.decoded, made.decode(1, (4.0, -0.5)))
    np.testing.assert_allclose(view.reconstruction, made.decode(1, view.nearest_code))
    assert f"a {made.labels[view.nearest]}," in view.text and "(4.00, −0.50)" in view.text
    other = made.select(0)
    assert other.index == 0 == made.index and other.point == view.point
    assert np.abs(other.decoded - view.decoded).max() > 0.1
    assert "σ = 0.1 (test KL 3.00 nats)" in other.text


def test_the_page_data_are_the_float32_weights_exactly(made):
    payload = made.payload()
    for name, weights in made.weights.items():
        decoded = np.frombuffer(base64.b64decode(payload["weights"][name]), dtype="<f4")
        np.testing.assert_array_equal(decoded, weights.ravel())
    codes = np.frombuffer(base64.b64decode(payload["codes"]), dtype="<f4")
    np.testing.assert_array_equal(codes, made.codes.astype(np.float32).ravel())
    assert payload["labels"] == "".join(str(v) for v in made.labels)
    assert payload["labels_sigma"] == [f"{s:.3g}" for s in made.sigmas]


def test_the_html_is_complete_and_holds_its_data(made):
    page = made.to_html()
    assert not re.search(r"\{(uid|last|start|sigma|words|payload|script)\}", page)
    uid = re.search(r'id="(vaebook-explorer-\d+)"', page).group(1)
    data = page.split(f'id="{uid}-data">', 1)[1].split("</script>", 1)[0]
    assert json.loads(data)["start"] == 1
    assert 'aria-live="polite"' in page and 'role="application"' in page
    assert page.count(f'getElementById("{uid}") ') + page.count(f'getElementById("{uid}")') >= 1
    assert made.to_html() != page  # every view has its own ids


def test_the_live_widget_calls_the_callbacks(made):
    widget = made.widget
    sigma, z1, z2, plane, digits, words = made._parts
    assert widget.children[0] is sigma
    before = (plane.value, digits.value)
    z1.value = 2.5
    assert made.point == (2.5, 0.0) and "(2.50, 0.00)" in words.value
    z2.value = -1.0
    assert made.point == (2.5, -1.0)
    assert plane.value != before[0] and digits.value != before[1]
    sigma.index = 2
    assert made.index == 2 and "σ = 1.5" in words.value
    made.move(0.0, 0.0)
    assert z1.value == 0.0 and z2.value == 0.0


def test_decoded_pixel_range_is_zero_for_a_decoder_that_ignores_its_code():
    change = explorer.decoded_pixel_range(fake_sweep([3.0, 0.0], ignore=[1]))
    assert change.shape == (2,) and change[0] > 0.5 and change[1] < 1e-6


def test_the_collapsed_decoder_claim_holds_and_breaks():
    claim = claims.CLAIMS["sigma-tradeoff/collapsed-decoders-ignore-the-code"].predicate

    def measured(kl, ignore=()):
        sweep = fake_sweep(kl, ignore)
        return claim(sweep, explorer.decoded_pixel_range(sweep))

    holds = measured([3.0, 0.5, 0.001], ignore=[2])
    assert holds.holds and holds.margin > 0
    # An empty code whose decoder still follows the point.
    assert not measured([3.0, 0.5, 0.001]).holds
    # A used code whose decoder ignores it.
    assert not measured([3.0, 0.5, 0.001], ignore=[1, 2]).holds
    with pytest.raises(ValueError, match="empty code and with a used one"):
        measured([3.0, 0.5])
    with pytest.raises(ValueError, match="one value per σ"):
        claim(fake_sweep([3.0, 0.0]), np.zeros(3))


def test_the_explorer_refuses_what_it_cannot_show():
    with pytest.raises(ValueError, match="2 latents"):
        sweep = fake_sweep([1.0, 0.0])
        sweep.latent_means = np.zeros((2, N_DIGITS, 8))
        explorer.latent_explorer(sweep)
    bernoulli = fake_sweep([1.0, 0.0])
    bernoulli.configs = [Config(label=str(i), likelihood="bernoulli") for i in range(2)]
    with pytest.raises(ValueError, match="Gaussian decoder with a fixed σ"):
        explorer.latent_explorer(bernoulli)

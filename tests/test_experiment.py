"""Tests of the one experiment pipeline: configs in, one batched model, one cached result out.

Every trained MLP VAE of the book goes through :func:`vaebook.experiment.run`; a σ sweep is a
list of Gaussian configs. These tests check that the cache key is the configs themselves, that
an override is the same as building the configs with it, and that a sweep is nothing but such
a list.
"""

import dataclasses

import numpy as np
import pytest

from vaebook import settings
from vaebook.experiment import (
    TRAINING_FIELDS,
    Config,
    run,
    run_sigma_sweep,
    sigma_configs,
    with_fields,
)

QUICK = dict(steps=20, batch_size=64, record_every=10, progress=False)


@pytest.fixture(autouse=True)
def empty_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("VAEBOOK_CACHE_DIR", str(tmp_path / "cache"))


def test_the_cache_key_is_the_configs():
    configs = [Config("a", sigma=0.3), Config("b", "laplace-learned")]
    first = run(configs, **QUICK)
    assert not first.from_cache
    # The same configs, built with the fields instead of given as overrides: the same entry.
    built = with_fields(
        configs, steps=20, batch_size=64, record_every=10, seed=settings.default_seed()
    )
    again = run(built, progress=False)
    assert again.from_cache
    np.testing.assert_array_equal(again.neg_elbo, first.neg_elbo)
    assert again.configs == first.configs
    # One field of one config changed: another entry, trained anew.
    other = run([configs[0], dataclasses.replace(configs[1], sigma=0.5)], **QUICK)
    assert not other.from_cache
    assert other.scale[1] != first.scale[1]


def test_a_sigma_sweep_is_a_list_of_gaussian_configs():
    sweep = run_sigma_sweep([0.2, 0.2, 0.6], kl_weight=[1.0, 2.0, 1.0], cache=False, **QUICK)
    assert sweep.labels == ["σ = 0.2", "σ = 0.2, β = 2", "σ = 0.6"]
    assert [item.likelihood for item in sweep.configs] == ["gaussian"] * 3
    assert [item.kl_weight for item in sweep.configs] == [1.0, 2.0, 1.0]
    np.testing.assert_array_equal(sweep.sigmas, [0.2, 0.2, 0.6])
    np.testing.assert_array_equal(sweep.scale, np.float32([0.2, 0.2, 0.6]))
    direct = run(sigma_configs([0.2, 0.2, 0.6], kl_weight=[1.0, 2.0, 1.0]), cache=False, **QUICK)
    np.testing.assert_array_equal(direct.neg_elbo, sweep.neg_elbo)
    # β only weights the KL of the training objective, not the bound that is reported.
    assert sweep.objective[1] == pytest.approx(sweep.neg_elbo[1] + sweep.kl[1], rel=1e-5)
    assert sweep.objective[0] == pytest.approx(sweep.neg_elbo[0], rel=1e-6)


def test_repeated_sigmas_get_distinct_labels():
    labels = [item.label for item in sigma_configs([0.3, 0.3])]
    assert labels == ["σ = 0.3 #0", "σ = 0.3 #1"]


def test_index_of_reads_a_label_or_the_nearest_sigma():
    result = run([Config("wide", sigma=1.0), Config("narrow", sigma=0.1)], cache=False, **QUICK)
    assert result.index_of("narrow") == 1
    assert result.index_of(0.12) == 1 and result.index_of(0.8) == 0


@pytest.mark.parametrize("field", TRAINING_FIELDS)
def test_configs_that_would_train_differently_cannot_share_a_model(field):
    value = {
        "latent_dim": 3,
        "hidden_dim": 8,
        "steps": 7,
        "batch_size": 9,
        "lr": 0.5,
        "seed": 4,
        "record_every": 3,
    }[field]
    with pytest.raises(ValueError, match=f"must share {field}"):
        run([Config("a"), Config("b", **{field: value})], cache=False)

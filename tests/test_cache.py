"""The training cache heals itself: every kind of damage is reported once and recomputed.

Each case damages a stored entry the way a crash, a full disk, a careless edit or a stray tool
would, then asks for the result again. The cache must warn exactly once (a
:class:`~vaebook.cache.CacheWarning` naming the entry), return the right result, and leave a
healthy entry behind: the next call is a silent cache hit.
"""

import dataclasses
import errno
import json
import os
import warnings

import numpy as np
import pytest

from vaebook import cache
from vaebook.cache import CacheDamaged, CacheWarning, StoredResult

pytestmark = pytest.mark.usefixtures("private_cache")  # an empty cache per test

KEY = {"sigmas": [0.1, 0.5], "steps": 7}


@dataclasses.dataclass
class Toy(StoredResult):
    """A small stored result with the field kinds of the book's results."""

    sigmas: np.ndarray
    counts: np.ndarray
    labels: np.ndarray
    history: dict
    hyperparameters: dict
    train_seconds: float
    DICT_FIELDS = ("history",)
    from_cache: bool = False


def make_toy() -> Toy:
    return Toy(
        sigmas=np.array([0.1, 0.5]),
        counts=np.arange(6, dtype=np.int64).reshape(2, 3),
        labels=np.array(["a", "bb"]),
        history={"loss": np.linspace(0, 1, 5)},
        hyperparameters=dict(KEY),
        train_seconds=1.5,
    )


class Counter:
    """``compute`` for the cache that counts its calls."""

    def __init__(self):
        self.calls = 0

    def __call__(self):
        self.calls += 1
        return make_toy()


def get(compute):
    """The toy result through the cache, with every warning it raised."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = cache.load_or_compute("toy", KEY, Toy.load, compute)
    return result, [w for w in caught if issubclass(w.category, CacheWarning)]


def assert_toy(result):
    expected = make_toy()
    for name in ("sigmas", "counts", "labels"):
        np.testing.assert_array_equal(getattr(result, name), getattr(expected, name))
        assert getattr(result, name).dtype == getattr(expected, name).dtype
    np.testing.assert_array_equal(result.history["loss"], expected.history["loss"])
    assert result.hyperparameters == expected.hyperparameters


@pytest.fixture
def entry():
    """A healthy stored entry and its path."""
    compute = Counter()
    result, caught = get(compute)
    assert compute.calls == 1 and not caught and not result.from_cache
    path = cache.cache_path("toy", KEY)
    assert sorted(p.name for p in path.iterdir()) == ["arrays.npz", "manifest.json", "meta.json"]
    return path


def rewrite_manifest(path):
    """Make the manifest match the files again, as a tool that 'fixes' checksums would."""
    manifest = {
        p.name: cache._sha256(p) for p in sorted(path.iterdir()) if p.name != "manifest.json"
    }
    (path / "manifest.json").write_text(json.dumps(manifest))


def resave_arrays(path, change):
    with np.load(path / "arrays.npz") as stored:
        arrays = {name: stored[name] for name in stored.files}
    change(arrays)
    np.savez(path / "arrays.npz", **arrays)


def truncate(file, keep=0.5):
    data = file.read_bytes()
    file.write_bytes(data[: int(len(data) * keep)])


DAMAGE = {
    "arrays truncated": lambda p: truncate(p / "arrays.npz"),
    "arrays zero bytes": lambda p: (p / "arrays.npz").write_bytes(b""),
    "arrays garbage": lambda p: (p / "arrays.npz").write_bytes(os.urandom(300)),
    "arrays one flipped byte": lambda p: (p / "arrays.npz").write_bytes(
        (lambda b: b[:200] + bytes([b[200] ^ 1]) + b[201:])((p / "arrays.npz").read_bytes())
    ),
    "arrays wrong dtype": lambda p: resave_arrays(
        p, lambda a: a.update(sigmas=a["sigmas"].astype(np.float16))
    ),
    "arrays missing key": lambda p: resave_arrays(p, lambda a: a.pop("counts")),
    "arrays deleted": lambda p: (p / "arrays.npz").unlink(),
    "meta zero bytes": lambda p: (p / "meta.json").write_bytes(b""),
    "meta garbage": lambda p: (p / "meta.json").write_bytes(b"\xff\xfe{not json"),
    "meta missing key": lambda p: (p / "meta.json").write_text(
        json.dumps(
            {
                k: v
                for k, v in json.loads((p / "meta.json").read_text()).items()
                if k != "hyperparameters"
            }
        )
    ),
    "manifest missing (half-written entry)": lambda p: (p / "manifest.json").unlink(),
    "manifest garbage": lambda p: (p / "manifest.json").write_text("[1, 2"),
    "extra file": lambda p: (p / "stray.tmp").write_text("x"),
    "empty folder": lambda p: [f.unlink() for f in list(p.iterdir())],
    "a file instead of a folder": lambda p: (
        [f.unlink() for f in list(p.iterdir())],
        p.rmdir(),
        p.write_text("garbage"),
    ),
    "a dangling symlink": lambda p: (
        [f.unlink() for f in list(p.iterdir())],
        p.rmdir(),
        p.symlink_to(p.parent / "gone"),
    ),
    "wrong dtype, checksums rewritten": lambda p: (
        resave_arrays(p, lambda a: a.update(counts=a["counts"].astype(np.float32))),
        rewrite_manifest(p),
    ),
    "missing key, checksums and schema rewritten": lambda p: (
        resave_arrays(p, lambda a: a.pop("counts")),
        (p / "meta.json").write_text(
            json.dumps(
                {
                    **json.loads((p / "meta.json").read_text()),
                    "_schema": {
                        k: v
                        for k, v in json.loads((p / "meta.json").read_text())["_schema"].items()
                        if k != "counts"
                    },
                }
            )
        ),
        rewrite_manifest(p),
    ),
}


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_a_damaged_entry_warns_once_is_recomputed_and_healed(entry, damage):
    DAMAGE[damage](entry)
    compute = Counter()
    result, caught = get(compute)
    assert compute.calls == 1, "a damaged entry must be recomputed"
    assert len(caught) == 1, [str(w.message) for w in caught]
    message = str(caught[0].message)
    assert f"cache entry {entry} damaged (" in message and message.endswith("): retraining")
    assert_toy(result)
    healed, caught = get(Counter())
    assert healed.from_cache and not caught, "the entry must be healthy again"
    assert_toy(healed)


def test_verify_names_what_is_wrong(entry):
    cache.verify(entry)
    (entry / "meta.json").write_text("{}")
    with pytest.raises(CacheDamaged, match="meta.json changed after it was stored"):
        cache.verify(entry)
    (entry / "manifest.json").unlink()
    with pytest.raises(CacheDamaged, match="no manifest: half-written"):
        cache.verify(entry)


def test_a_leftover_staging_folder_from_a_crash_is_ignored(entry):
    (entry.parent / f".{entry.name}-crashed").mkdir()
    (entry.parent / f".{entry.name}-crashed" / "arrays.npz").write_bytes(b"half")
    result, caught = get(Counter())
    assert result.from_cache and not caught
    assert_toy(result)


def test_a_crash_while_writing_leaves_no_entry(monkeypatch):
    def crash(self, path):
        (path / "arrays.npz").write_bytes(b"half")
        raise KeyboardInterrupt

    monkeypatch.setattr(Toy, "save", crash)
    with pytest.raises(KeyboardInterrupt):
        get(Counter())
    assert not os.path.lexists(cache.cache_path("toy", KEY))
    assert list(cache.cache_dir().iterdir()) == []
    monkeypatch.undo()


@pytest.mark.parametrize("error", [errno.EACCES, errno.ENOSPC, errno.EROFS])
def test_a_cache_that_cannot_be_written_warns_and_returns_the_result(monkeypatch, error):
    def refuse(*args, **kwargs):
        raise OSError(error, os.strerror(error))

    monkeypatch.setattr(cache.tempfile, "mkdtemp", refuse)
    compute = Counter()
    result, caught = get(compute)
    assert compute.calls == 1 and not result.from_cache
    assert_toy(result)
    assert len(caught) == 1
    assert "could not store the result in the cache" in str(caught[0].message)
    assert os.strerror(error) in str(caught[0].message)


def test_a_full_disk_while_saving_warns_and_keeps_nothing_half_written(monkeypatch):
    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(cache.np, "savez", full)
    result, caught = get(Counter())
    assert_toy(result)
    assert len(caught) == 1 and "No space left on device" in str(caught[0].message)
    assert list(cache.cache_dir().iterdir()) == []


def test_a_cache_folder_that_cannot_be_created_warns_and_computes(monkeypatch, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv(cache.ENV_VAR, str(blocker / "cache"))
    compute = Counter()
    result, caught = get(compute)
    assert compute.calls == 1
    assert_toy(result)
    assert len(caught) == 1 and "the training cache cannot be used" in str(caught[0].message)
    assert cache.ENV_VAR in str(caught[0].message)


def test_a_real_sweep_entry_heals_to_the_same_numbers():
    from vaebook.experiment import run_sigma_sweep

    arguments = dict(steps=30, batch_size=128, lr=1e-2, progress=False)
    first = run_sigma_sweep([0.2, 0.8], **arguments)
    (entry,) = [p for p in cache.cache_dir().iterdir() if p.name.startswith("run-")]
    truncate(entry / "arrays.npz", keep=0.3)
    with pytest.warns(CacheWarning, match="damaged"):
        second = run_sigma_sweep([0.2, 0.8], **arguments)
    assert not second.from_cache
    for name in first._array_fields():
        np.testing.assert_array_equal(getattr(second, name), getattr(first, name))
    assert run_sigma_sweep([0.2, 0.8], **arguments).from_cache

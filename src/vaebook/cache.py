"""On-disk cache of training results, keyed by the hyperparameters *and* the code.

A cached result is reused only when every hyperparameter, the code that computes it, the
versions of the pinned numerical packages and the floating-point path
(:func:`vaebook.settings.numerics`) are the same. The code is the module that computes the
result and every module of the package it imports, directly or not, each fingerprinted
without its docstrings, comments and formatting (:mod:`vaebook._fingerprint`): changing a
constant of ``likelihoods.py`` retrains every result whose computation imports it, a run
under ``MKL_CBWR=COMPATIBLE`` or with another number of threads retrains, and fixing a typo
in a docstring, or editing a module no computation imports (plotting, claims), retrains
nothing. The cache lives in

* ``$VAEBOOK_CACHE_DIR`` when that variable is set (the tests point it at a temporary folder);
* otherwise ``<repository>/.cache/vaebook/`` when :mod:`vaebook` is an editable install
  inside its repository (``.cache/`` is git-ignored);
* otherwise ``~/.cache/vaebook``.

Deleting the folder is always safe: everything in it is recomputed on demand. The cache also
heals itself: every entry carries a manifest with the SHA-256 of its files, and an entry that
is damaged (truncated, edited, half-written, not a folder, of the wrong schema) is reported
with a :class:`CacheWarning`, removed and recomputed. A cache that cannot be written (read-only
folder, full disk) warns and still returns the freshly computed result.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import platform
import shutil
import tempfile
import warnings
import zipfile
from pathlib import Path

import numpy as np
import sklearn
import torch

import vaebook
from vaebook import settings
from vaebook._fingerprint import code_fingerprint

__all__ = [
    "ENV_VAR",
    "CacheWarning",
    "CacheDamaged",
    "cache_dir",
    "source_fingerprint",
    "environment",
    "cache_key",
    "cache_path",
    "store",
    "verify",
    "load_or_compute",
    "StoredResult",
]

ENV_VAR = "VAEBOOK_CACHE_DIR"
"""Environment variable that overrides the cache folder."""


class CacheWarning(UserWarning):
    """A cache entry was damaged and is recomputed, or a result could not be stored.

    Used behind the scenes in chapter *σ trades reconstruction against KL*.
    """


class CacheDamaged(ValueError):
    """A cache entry fails its manifest or schema check (see :func:`verify`).

    Used behind the scenes in chapter *σ trades reconstruction against KL*.
    """


_MANIFEST_FILE = "manifest.json"

_DAMAGE = (OSError, ValueError, KeyError, TypeError, EOFError, zipfile.BadZipFile)
"""What reading a damaged entry can raise (``CacheDamaged`` and JSON decoding errors are
value errors); anything else is a bug and propagates."""


def cache_dir() -> Path:
    """The folder of the cache (created if missing).

    Used behind the scenes in chapter *σ trades reconstruction against KL*.
    """
    override = os.environ.get(ENV_VAR)
    if override:
        folder = Path(override).expanduser()
    else:
        package = Path(vaebook.__file__).resolve().parent
        repository = package.parents[1]  # <repository>/src/vaebook
        editable = (
            "site-packages" not in package.parts and (repository / "pyproject.toml").is_file()
        )
        folder = (
            repository / ".cache" / "vaebook" if editable else (Path.home() / ".cache" / "vaebook")
        )
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def source_fingerprint(modules: tuple[str, ...] = ("vaebook",)) -> dict[str, str]:
    """The fingerprint of the code that ``modules`` run: for each of them and each module of
    the package they import (directly or not), the SHA-256 of its source without docstrings,
    comments and formatting (:func:`vaebook._fingerprint.code_fingerprint`; read, not imported).

    Used behind the scenes in chapter *σ trades reconstruction against KL*.
    """
    if (
        isinstance(modules, str)
        or not isinstance(modules, (tuple, list))
        or not all(isinstance(name, str) for name in modules)
    ):
        raise ValueError(f"modules must be a tuple of module names, got {modules!r}")
    folder = Path(vaebook.__file__).resolve().parent
    for name in modules:
        parts = name.split(".")
        known = (
            parts[0] == "vaebook"
            and len(parts) <= 2
            and (len(parts) == 1 or (folder / f"{parts[1]}.py").is_file())
        )
        if not known:
            raise ValueError(f"modules: cannot find the source of {name!r}")
    return code_fingerprint(tuple(modules), folder)


def environment() -> dict:
    """What besides the code decides a trained number's bits: the Python, numpy and
    scikit-learn versions and the floating-point path (:func:`vaebook.settings.numerics`).

    Used behind the scenes in chapter *σ trades reconstruction against KL*.
    """
    return {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scikit-learn": sklearn.__version__,
        **settings.numerics(),
    }


def _plain(value):
    """JSON-friendly form of numpy/torch values inside hyperparameters."""
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().tolist()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, torch.dtype):
        return str(value)
    raise ValueError(f"hyperparameters: cannot hash a value of type {type(value).__name__}")


def cache_key(kind: str, hyperparameters: dict, modules: tuple[str, ...] = ("vaebook",)) -> str:
    """A hex digest of ``kind``, every hyperparameter, the code and the torch version.

    Used behind the scenes in chapter *σ trades reconstruction against KL*. The key also covers
    :func:`environment` and the :func:`source_fingerprint` of ``modules`` (the modules that
    compute the result, and so everything they import). ``hyperparameters`` must be a
    dict of JSON-friendly values (numbers, strings, lists; numpy arrays and tensors are
    converted to lists).
    """
    if not isinstance(kind, str) or not kind:
        raise ValueError(f"kind must be a non-empty string, got {kind!r}")
    if not isinstance(hyperparameters, dict):
        raise ValueError(f"hyperparameters must be a dict, got {type(hyperparameters).__name__}")
    payload = json.dumps(
        {
            "kind": kind,
            "hyperparameters": hyperparameters,
            "environment": environment(),
            "sources": source_fingerprint(modules),
        },
        sort_keys=True,
        default=_plain,
    )
    return hashlib.sha256(payload.encode()).hexdigest()[:24]


def cache_path(kind: str, hyperparameters: dict, modules: tuple[str, ...] = ("vaebook",)) -> Path:
    """Where the result of ``kind`` with ``hyperparameters`` is (or will be) stored.

    Used behind the scenes in chapter *σ trades reconstruction against KL*. The path is a folder
    ``<cache_dir>/<kind>-<key>``; it exists only once a result was completely stored.
    """
    return cache_dir() / f"{kind}-{cache_key(kind, hyperparameters, modules)}"


def _as_path(path) -> Path:
    if not isinstance(path, (str, os.PathLike)):
        raise ValueError(f"path must be a str or os.PathLike, got {type(path).__name__}")
    return Path(path)


def _sha256(file: Path) -> str:
    digest = hashlib.sha256()
    with open(file, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def store(path: Path, write) -> Path:
    """Call ``write(folder)`` on a fresh temporary folder, then move it to ``path`` atomically.

    Used behind the scenes in chapter *σ trades reconstruction against KL*. The entry gets a
    manifest with the SHA-256 of every file ``write`` created (:func:`verify` checks it). An
    interrupted write never leaves a half-written entry behind; if ``path`` already exists it is
    kept as is.
    """
    path = _as_path(path)
    if not callable(write):
        raise ValueError(f"write must be callable as write(folder), got {type(write).__name__}")
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{path.name}-", dir=path.parent))
    try:
        write(staging)
        manifest = {item.name: _sha256(item) for item in sorted(staging.iterdir())}
        (staging / _MANIFEST_FILE).write_text(json.dumps(manifest, indent=1, sort_keys=True))
        try:
            os.rename(staging, path)
        except OSError:
            if not path.is_dir():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return path


def verify(path: Path) -> None:
    """Raise :class:`CacheDamaged` unless ``path`` is a complete, unmodified cache entry.

    Used behind the scenes in chapter *σ trades reconstruction against KL*. The entry must be a
    folder with the manifest written by :func:`store`, holding exactly the files it lists, each
    with its recorded SHA-256.
    """
    path = _as_path(path)
    if not path.is_dir():
        raise CacheDamaged("not a folder")
    try:
        manifest = json.loads((path / _MANIFEST_FILE).read_text())
    except FileNotFoundError:
        raise CacheDamaged("no manifest: half-written or from an older version") from None
    except (OSError, ValueError) as error:
        raise CacheDamaged(f"unreadable manifest ({error})") from None
    if not isinstance(manifest, dict):
        raise CacheDamaged("unreadable manifest")
    present = sorted(item.name for item in path.iterdir() if item.name != _MANIFEST_FILE)
    if present != sorted(manifest):
        raise CacheDamaged(f"holds the files {present}, its manifest lists {sorted(manifest)}")
    for name, digest in manifest.items():
        if _sha256(path / name) != digest:
            raise CacheDamaged(f"{name} changed after it was stored")


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        try:
            path.unlink()
        except OSError:
            pass


def load_or_compute(
    kind: str,
    key: dict,
    load,
    compute,
    *,
    enabled: bool = True,
    modules: tuple[str, ...] = ("vaebook",),
):
    """The cached result for ``(kind, key)``, or ``compute()`` stored for next time.

    Used behind the scenes in chapter *σ trades reconstruction against KL*. ``load(folder)`` reads
    a stored result and ``compute()`` returns a new one with a ``save(folder)`` method. A result
    read from disk gets ``from_cache = True``. ``enabled=False`` just returns ``compute()``;
    ``modules`` names the modules whose code computes the result (the caller's own module):
    the key covers their code and that of every module they import (:func:`source_fingerprint`).

    A damaged entry (see :func:`verify`, or one that ``load`` rejects) is reported with a
    :class:`CacheWarning`, removed and recomputed. If the result cannot be stored (read-only
    folder, full disk), a :class:`CacheWarning` says so and the result is still returned.
    """
    for name, function, call in (("load", load, "load(folder)"), ("compute", compute, "compute()")):
        if not callable(function):
            raise ValueError(f"{name} must be callable as {call}, got {type(function).__name__}")
    if not enabled:
        return compute()
    try:
        path = cache_path(kind, key, modules)
    except OSError as error:
        warnings.warn(
            f"the training cache cannot be used ({error}); computing without it. "
            f"Set {ENV_VAR} to a writable folder to keep results.",
            CacheWarning,
            stacklevel=3,
        )
        return compute()
    if os.path.lexists(path):
        try:
            verify(path)
            result = load(path)
        except _DAMAGE as error:
            warnings.warn(
                f"cache entry {path} damaged ({error}): retraining", CacheWarning, stacklevel=3
            )
            _remove(path)
        else:
            result.from_cache = True
            return result
    result = compute()
    try:
        store(path, result.save)
    except OSError as error:
        warnings.warn(
            f"could not store the result in the cache ({error}); it is returned but "
            "will be recomputed next time",
            CacheWarning,
            stacklevel=3,
        )
    return result


_ARRAYS_FILE, _META_FILE, _SCHEMA_KEY = "arrays.npz", "meta.json", "_schema"


class StoredResult:
    """``save`` and ``load`` for the book's result dataclasses, without pickle.

    Used behind the scenes in chapter *σ trades reconstruction against KL*. Every dataclass field
    is an array stored in ``arrays.npz``, except ``from_cache``, the JSON fields ``META_FIELDS``
    (stored in ``meta.json``) and the dict-of-arrays fields ``DICT_FIELDS`` (stored in
    ``arrays.npz`` as ``<field>/<key>``). ``meta.json`` also records the dtype and shape of every
    array, and :meth:`load` checks them.
    """

    META_FIELDS: tuple[str, ...] = ("hyperparameters", "train_seconds")
    DICT_FIELDS: tuple[str, ...] = ()

    def _array_fields(self) -> list[str]:
        other = {*self.META_FIELDS, *self.DICT_FIELDS, "from_cache"}
        return [f.name for f in dataclasses.fields(self) if f.name not in other]

    def save(self, path) -> Path:
        """Write the result to the folder ``path`` (``arrays.npz`` + ``meta.json``)."""
        folder = _as_path(path)
        folder.mkdir(parents=True, exist_ok=True)
        arrays = {name: np.asarray(getattr(self, name)) for name in self._array_fields()}
        for field in self.DICT_FIELDS:
            arrays.update(
                {f"{field}/{key}": np.asarray(value) for key, value in getattr(self, field).items()}
            )
        np.savez(folder / _ARRAYS_FILE, **arrays)
        meta = {name: getattr(self, name) for name in self.META_FIELDS}
        meta[_SCHEMA_KEY] = {
            name: [value.dtype.str, list(value.shape)] for name, value in arrays.items()
        }
        (folder / _META_FILE).write_text(json.dumps(meta, indent=1, sort_keys=True))
        return folder

    @classmethod
    def load(cls, path):
        """Read a result written by :meth:`save`; :class:`CacheDamaged` if it does not fit."""
        folder = _as_path(path)
        if not (folder / _ARRAYS_FILE).is_file() or not (folder / _META_FILE).is_file():
            raise ValueError(f"path {str(folder)!r} holds no saved {cls.__name__}")
        fields = json.loads((folder / _META_FILE).read_text())
        schema = fields.pop(_SCHEMA_KEY, None) if isinstance(fields, dict) else None
        if not isinstance(schema, dict):
            raise CacheDamaged(f"{_META_FILE} holds no schema")
        with np.load(folder / _ARRAYS_FILE, allow_pickle=False) as stored:
            arrays = {name: stored[name] for name in stored.files}
        found = {name: [value.dtype.str, list(value.shape)] for name, value in arrays.items()}
        if found != schema:
            wrong = sorted(set(found) ^ set(schema)) or sorted(
                name for name in found if found[name] != schema[name]
            )
            raise CacheDamaged(f"arrays {wrong} do not match the stored schema")
        for field in cls.DICT_FIELDS:
            prefix = field + "/"
            fields[field] = {
                name[len(prefix) :]: arrays.pop(name)
                for name in list(arrays)
                if name.startswith(prefix)
            }
        names = {f.name for f in dataclasses.fields(cls)} - {"from_cache"}
        if set(arrays) | set(fields) != names:
            raise CacheDamaged(
                f"fields {sorted(set(arrays) | set(fields))} do not match "
                f"{cls.__name__} ({sorted(names)})"
            )
        return cls(**arrays, **fields)

"""Small offline datasets shipped inside minigrad, plus a NumPy train/test split.

Nothing here touches the network: every file lives in ``minigrad/data/`` and is
read from the installed package.  All files are plain NumPy ``.npz`` archives
(loaded with ``allow_pickle=False``) or UTF-8 text, so loading never executes
pickled code.

Available datasets

========================  ===========================  =========================
loader                    shape                        origin
========================  ===========================  =========================
:func:`load_iris`         150 x 4, 3 classes           Fisher (1936), via sklearn
:func:`load_digits`       1797 x 64 (8x8), 10 classes  UCI optdigits, via sklearn
:func:`load_text`         ~4.5 KB of English prose     written for minigrad
:func:`load_sentiment`    300 sentences, 2 classes     generated for minigrad
========================  ===========================  =========================

See ``minigrad/data/README.md`` for the provenance and licence of each file.

Example::

    from minigrad.datasets import load_digits, train_test_split

    X, y = load_digits()                       # float32 in [0, 1], shape (1797, 64)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.2, stratify=True)
"""

from __future__ import annotations

import importlib.resources
from pathlib import Path
from typing import Any, Literal, TypeVar, overload

import numpy as np

__all__ = [
    "load_iris",
    "load_digits",
    "load_text",
    "load_sentiment",
    "train_test_split",
    "available_texts",
]

_T = TypeVar("_T")


# --------------------------------------------------------------------------- #
# locating files
# --------------------------------------------------------------------------- #
def _data_root() -> Any:
    """Return the ``data`` directory of the package (a Traversable or Path).

    When this module is imported as ``minigrad.datasets`` the directory is found
    through :mod:`importlib.resources`, which works for regular installs, editable
    installs and zipped packages alike.  When the file is loaded directly by path
    (no parent package), fall back to the directory next to this file.
    """
    if __package__:
        try:
            return importlib.resources.files(__package__) / "data"
        except (ModuleNotFoundError, TypeError):  # pragma: no cover - defensive
            pass
    return Path(__file__).resolve().parent / "data"


def _open_binary(name: str):
    return (_data_root() / name).open("rb")


def _read_text(name: str) -> str:
    return (_data_root() / name).read_text(encoding="utf-8")


def _load_npz(name: str) -> dict[str, np.ndarray]:
    """Load every array of a bundled ``.npz`` file, refusing pickled objects."""
    with _open_binary(name) as fh, np.load(fh, allow_pickle=False) as npz:
        return {key: npz[key] for key in npz.files}


# --------------------------------------------------------------------------- #
# tabular / image data
# --------------------------------------------------------------------------- #
@overload
def load_iris(return_names: Literal[False] = ...) -> tuple[np.ndarray, np.ndarray]: ...
@overload
def load_iris(
    return_names: Literal[True],
) -> tuple[np.ndarray, np.ndarray, list[str], list[str]]: ...


def load_iris(
    return_names: bool = False,
) -> tuple[np.ndarray, np.ndarray] | tuple[np.ndarray, np.ndarray, list[str], list[str]]:
    """Load Fisher's Iris data set: 150 flowers, 4 features, 3 classes.

    Origin: R. A. Fisher (1936), "The use of multiple measurements in taxonomic
    problems", *Annals of Eugenics* 7(2), as collected by Edgar Anderson; copied
    from the version bundled with scikit-learn (``sklearn.datasets.load_iris``),
    which itself comes from the UCI Machine Learning Repository.

    Parameters
    ----------
    return_names:
        If True, also return the feature names and the class names.

    Returns
    -------
    X : np.ndarray, float64, shape (150, 4)
        Sepal length, sepal width, petal length, petal width, in centimetres.
    y : np.ndarray, int64, shape (150,)
        Class index 0 (setosa), 1 (versicolor) or 2 (virginica); 50 of each.
    feature_names : list[str]
        Only when ``return_names`` is True.
    target_names : list[str]
        Only when ``return_names`` is True.
    """
    d = _load_npz("iris.npz")
    X = d["X"].astype(np.float64, copy=False)
    y = d["y"].astype(np.int64, copy=False)
    if return_names:
        return X, y, [str(s) for s in d["feature_names"]], [str(s) for s in d["target_names"]]
    return X, y


def load_digits(raw: bool = False, flatten: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Load the 8x8 handwritten digits: 1797 images, 10 classes (0-9).

    A small, fast stand-in for MNIST.  Origin: the UCI "Optical Recognition of
    Handwritten Digits" data set (E. Alpaydin and C. Kaynak, 1998; test part),
    licensed CC BY 4.0, copied from the version bundled with scikit-learn
    (``sklearn.datasets.load_digits``).  Each pixel counts the "on" pixels in
    a 4x4 block of the original 32x32 bitmap, hence the range 0..16.

    Parameters
    ----------
    raw:
        If True, return the original ``uint8`` pixel counts in ``0..16``.
        If False (default), return ``float32`` values scaled to ``[0, 1]``
        by dividing by 16.
    flatten:
        If True (default), ``X`` has shape ``(1797, 64)``; otherwise
        ``(1797, 8, 8)`` images (row-major, top row first).

    Returns
    -------
    X : np.ndarray, shape (1797, 64) or (1797, 8, 8)
    y : np.ndarray, int64, shape (1797,)
        Digit labels 0..9 (roughly 180 per class).
    """
    d = _load_npz("digits.npz")
    X = d["X"]
    y = d["y"].astype(np.int64, copy=False)
    if not raw:
        X = X.astype(np.float32) / np.float32(16.0)
    if not flatten:
        X = X.reshape(-1, 8, 8)
    return X, y


# --------------------------------------------------------------------------- #
# text data
# --------------------------------------------------------------------------- #
def available_texts() -> list[str]:
    """Names accepted by :func:`load_text` (bundled ``.txt`` files, sorted)."""
    return sorted(
        p.name[: -len(".txt")] for p in _data_root().iterdir() if p.name.endswith(".txt")
    )


def load_text(name: str = "tiny_corpus") -> str:
    """Return a bundled plain-text corpus as one string.

    ``"tiny_corpus"`` (the default) is about 4.5 KB of simple English prose
    about rivers, gradients and learning, written for this project and placed in
    the public domain (CC0).  It uses a small vocabulary and 46 distinct
    characters, so a tiny character-level language model can learn it.

    Parameters
    ----------
    name:
        Corpus name without the ``.txt`` suffix; see :func:`available_texts`.

    Raises
    ------
    ValueError
        If no bundled text of that name exists.
    """
    names = available_texts()
    if name not in names:
        raise ValueError(f"unknown text {name!r}; available: {names}")
    return _read_text(f"{name}.txt")


def load_sentiment() -> tuple[list[str], np.ndarray]:
    """Load a tiny synthetic sentiment-classification data set.

    300 short English sentences (150 positive, 150 negative), generated for this
    project from templates and word lists by ``minigrad/data/make_sentiment.py``
    (deterministic; public domain, CC0).  There are no negations, so a
    bag-of-words model can separate the classes perfectly.

    Returns
    -------
    texts : list[str]
        Lower-case sentences, e.g. ``"the movie was great."``.
    labels : np.ndarray, int64, shape (300,)
        1 for positive, 0 for negative.
    """
    texts: list[str] = []
    labels: list[int] = []
    for lineno, line in enumerate(_read_text("sentiment.tsv").splitlines(), 1):
        if not line.strip():
            continue
        label, sep, text = line.partition("\t")
        if not sep or label not in ("0", "1"):
            raise ValueError(f"sentiment.tsv line {lineno}: malformed row {line!r}")
        labels.append(int(label))
        texts.append(text)
    return texts, np.asarray(labels, dtype=np.int64)


# --------------------------------------------------------------------------- #
# splitting
# --------------------------------------------------------------------------- #
def _take(a: _T, idx: np.ndarray) -> _T:
    """Index an array with ``idx``; for other sequences return a list."""
    if isinstance(a, np.ndarray):
        return a[idx]  # type: ignore[return-value]
    return [a[i] for i in idx]  # type: ignore[index, return-value]


def _n_test(n: int, test_size: float | int) -> int:
    if isinstance(test_size, (bool, np.bool_)):
        raise TypeError("test_size must be a float in (0, 1) or an int")
    if isinstance(test_size, (int, np.integer)):
        k = int(test_size)
    else:
        if not 0.0 < float(test_size) < 1.0:
            raise ValueError(f"a float test_size must be in (0, 1), got {test_size}")
        k = int(np.ceil(float(test_size) * n))
    if not 0 < k < n:
        raise ValueError(f"test_size={test_size} gives {k} test samples out of {n}; need 0 < k < n")
    return k


def _stratified_test_counts(counts: np.ndarray, n_test: int) -> np.ndarray:
    """Split ``n_test`` among classes in proportion to ``counts``.

    Uses the largest-remainder method so the totals add up exactly; every class
    with at least two samples keeps at least one sample on each side.
    """
    n = counts.sum()
    ideal = counts * (n_test / n)
    take = np.floor(ideal).astype(np.int64)
    remainder = n_test - take.sum()
    # hand the leftover samples to the classes with the largest fractional parts
    order = np.argsort(-(ideal - take), kind="stable")
    take[order[:remainder]] += 1
    # keep both sides non-empty for classes that can afford it
    for c in range(len(counts)):
        if counts[c] >= 2:
            take[c] = min(max(take[c], 1), counts[c] - 1)
    return take


def train_test_split(
    X: _T,
    y: Any,
    test_size: float | int = 0.2,
    seed: int | None = 42,
    stratify: bool = False,
) -> tuple[_T, _T, Any, Any]:
    """Shuffle and split ``(X, y)`` into training and test parts.

    Parameters
    ----------
    X:
        Samples along the first axis: a NumPy array or any sequence (for
        example the list of sentences from :func:`load_sentiment`).
    y:
        Labels/targets, same length as ``X`` (array or sequence).
    test_size:
        Fraction of samples in the test part (float in (0, 1), rounded up) or
        an absolute number of test samples (int).
    seed:
        Seed for :func:`numpy.random.default_rng`; the same seed always gives
        the same split.  ``None`` gives a fresh random split.
    stratify:
        If True, keep the class proportions of ``y`` in both parts (``y`` must
        hold discrete labels).  Per-class test counts are allotted by the
        largest-remainder rule, and every class with two or more samples gets
        at least one sample on each side (which can shift the total test size
        by a sample or two for very small classes).

    Returns
    -------
    X_train, X_test, y_train, y_test
        NumPy arrays are indexed (so they keep their dtype); other sequences
        are returned as lists.
    """
    n = len(X)  # type: ignore[arg-type]
    if len(y) != n:
        raise ValueError(f"X and y have different lengths: {n} != {len(y)}")
    n_test = _n_test(n, test_size)
    rng = np.random.default_rng(seed)

    if not stratify:
        perm = rng.permutation(n)
        test_idx, train_idx = perm[:n_test], perm[n_test:]
    else:
        y_arr = np.asarray(y)
        if y_arr.ndim != 1:
            raise ValueError("stratify=True needs a 1-D array of class labels")
        classes, y_idx = np.unique(y_arr, return_inverse=True)
        counts = np.bincount(y_idx, minlength=len(classes))
        take = _stratified_test_counts(counts, n_test)
        test_parts, train_parts = [], []
        for c in range(len(classes)):
            members = rng.permutation(np.flatnonzero(y_idx == c))
            test_parts.append(members[: take[c]])
            train_parts.append(members[take[c] :])
        # shuffle again so the classes are interleaved, not in blocks
        test_idx = rng.permutation(np.concatenate(test_parts))
        train_idx = rng.permutation(np.concatenate(train_parts))

    return _take(X, train_idx), _take(X, test_idx), _take(y, train_idx), _take(y, test_idx)

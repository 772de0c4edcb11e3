"""Tests for the bundled offline datasets in ``minigrad.datasets``.

Only ``minigrad.datasets`` is imported.  If the package ``__init__`` cannot be
imported (e.g. while other modules are being written), the module is loaded
directly from its file so these tests still run.
"""

from __future__ import annotations

import importlib
import importlib.util
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "minigrad" / "data"


def _import_datasets():
    try:
        return importlib.import_module("minigrad.datasets")
    except Exception:  # broken/missing package __init__: load the file by path
        path = REPO / "minigrad" / "datasets.py"
        spec = importlib.util.spec_from_file_location("_minigrad_datasets", path)
        assert spec is not None and spec.loader is not None
        mod = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = mod
        spec.loader.exec_module(mod)
        return mod


ds = _import_datasets()


# --------------------------------------------------------------------------- #
# raw files
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("name", ["iris.npz", "digits.npz"])
def test_npz_files_load_without_pickle(name):
    with np.load(DATA / name, allow_pickle=False) as npz:
        for key in npz.files:
            arr = npz[key]  # raises if an object array is stored
            assert arr.dtype != object


def test_npz_contents_and_sizes():
    with np.load(DATA / "iris.npz", allow_pickle=False) as npz:
        assert set(npz.files) == {"X", "y", "feature_names", "target_names"}
        assert npz["feature_names"].dtype.kind == "U"
        assert npz["target_names"].dtype.kind == "U"
    with np.load(DATA / "digits.npz", allow_pickle=False) as npz:
        assert set(npz.files) == {"X", "y"}
        assert npz["X"].dtype == np.uint8
    assert (DATA / "digits.npz").stat().st_size < 100_000
    assert (DATA / "iris.npz").stat().st_size < 10_000


# --------------------------------------------------------------------------- #
# iris
# --------------------------------------------------------------------------- #
def test_iris_shapes_dtypes_counts():
    X, y = ds.load_iris()
    assert X.shape == (150, 4) and X.dtype == np.float64
    assert y.shape == (150,) and y.dtype == np.int64
    assert np.array_equal(np.bincount(y), [50, 50, 50])
    assert np.all(np.isfinite(X))
    assert X.min() > 0.0 and X.max() < 10.0  # centimetres
    # known first row of Fisher's data (setosa)
    assert np.allclose(X[0], [5.1, 3.5, 1.4, 0.2]) and y[0] == 0


def test_iris_names():
    X, y, feature_names, target_names = ds.load_iris(return_names=True)
    assert X.shape == (150, 4) and y.shape == (150,)
    assert feature_names == [
        "sepal length (cm)",
        "sepal width (cm)",
        "petal length (cm)",
        "petal width (cm)",
    ]
    assert target_names == ["setosa", "versicolor", "virginica"]
    assert all(type(s) is str for s in feature_names + target_names)


# --------------------------------------------------------------------------- #
# digits
# --------------------------------------------------------------------------- #
def test_digits_default_scaled():
    X, y = ds.load_digits()
    assert X.shape == (1797, 64) and X.dtype == np.float32
    assert y.shape == (1797,) and y.dtype == np.int64
    assert X.min() == 0.0 and X.max() == 1.0
    counts = np.bincount(y, minlength=10)
    assert len(counts) == 10 and counts.sum() == 1797
    assert counts.min() >= 170 and counts.max() <= 190


def test_digits_raw_matches_scaled():
    Xr, yr = ds.load_digits(raw=True)
    Xs, ys = ds.load_digits()
    assert Xr.dtype == np.uint8 and Xr.shape == (1797, 64)
    assert Xr.min() == 0 and Xr.max() == 16
    assert np.array_equal(yr, ys)
    np.testing.assert_allclose(Xs, Xr.astype(np.float32) / 16.0)


def test_digits_images():
    X, y = ds.load_digits(flatten=False)
    assert X.shape == (1797, 8, 8)
    assert np.array_equal(X.reshape(1797, 64), ds.load_digits()[0])


# --------------------------------------------------------------------------- #
# text
# --------------------------------------------------------------------------- #
def test_tiny_corpus():
    text = ds.load_text()
    assert text == ds.load_text("tiny_corpus")
    assert 3_000 <= len(text.encode("utf-8")) <= 6_500
    assert text.isascii()
    assert len(set(text)) <= 64  # small character vocabulary
    assert "gradient" in text.lower()
    assert "tiny_corpus" in ds.available_texts()


def test_load_text_unknown_name():
    with pytest.raises(ValueError):
        ds.load_text("no_such_text")
    with pytest.raises(ValueError):
        ds.load_text("../datasets")


def test_sentiment():
    texts, labels = ds.load_sentiment()
    assert isinstance(texts, list) and all(isinstance(t, str) and t for t in texts)
    assert len(texts) == len(labels) == 300
    assert labels.dtype == np.int64
    assert set(np.unique(labels)) == {0, 1}
    assert np.array_equal(np.bincount(labels), [150, 150])
    assert len(set(texts)) == len(texts)  # no duplicates
    assert all("\t" not in t and "\n" not in t for t in texts)


def test_sentiment_generator_reproducible():
    script = DATA / "make_sentiment.py"
    res = subprocess.run(
        [sys.executable, str(script), "--check"], capture_output=True, text=True
    )
    assert res.returncode == 0, res.stdout + res.stderr


# --------------------------------------------------------------------------- #
# train_test_split
# --------------------------------------------------------------------------- #
def test_split_sizes_and_partition():
    X = np.arange(100, dtype=np.float64).reshape(50, 2)
    y = np.arange(50)
    X_tr, X_te, y_tr, y_te = ds.train_test_split(X, y, test_size=0.2, seed=0)
    assert X_tr.shape == (40, 2) and X_te.shape == (10, 2)
    assert y_tr.shape == (40,) and y_te.shape == (10,)
    # rows stay paired with their labels
    assert np.array_equal(X_tr[:, 0], 2 * y_tr) and np.array_equal(X_te[:, 0], 2 * y_te)
    # train and test partition the data set
    assert sorted(np.concatenate([y_tr, y_te]).tolist()) == list(range(50))
    assert X_tr.dtype == X.dtype


def test_split_int_test_size():
    X, y = ds.load_iris()
    _, X_te, _, y_te = ds.train_test_split(X, y, test_size=30)
    assert len(X_te) == len(y_te) == 30


def test_split_deterministic_for_seed():
    X, y = ds.load_iris()
    a = ds.train_test_split(X, y, seed=123)
    b = ds.train_test_split(X, y, seed=123)
    c = ds.train_test_split(X, y, seed=124)
    for u, v in zip(a, b):
        assert np.array_equal(u, v)
    assert not np.array_equal(a[3], c[3]) or not np.array_equal(a[1], c[1])
    # default seed is fixed too
    d1 = ds.train_test_split(X, y)
    d2 = ds.train_test_split(X, y)
    assert np.array_equal(d1[1], d2[1])


@pytest.mark.parametrize("test_size", [0.2, 0.25, 0.5])
def test_stratified_split_keeps_proportions(test_size):
    X, y = ds.load_digits()
    X_tr, X_te, y_tr, y_te = ds.train_test_split(X, y, test_size=test_size, stratify=True)
    assert len(y_tr) + len(y_te) == len(y)
    assert len(y_te) == int(np.ceil(test_size * len(y)))
    full = np.bincount(y, minlength=10)
    te = np.bincount(y_te, minlength=10)
    tr = np.bincount(y_tr, minlength=10)
    assert np.array_equal(te + tr, full)
    # each class gets its share of the test set to within one sample
    assert np.all(np.abs(te - full * test_size) <= 1.0)


def test_stratified_split_iris_exact():
    X, y = ds.load_iris()
    _, _, y_tr, y_te = ds.train_test_split(X, y, test_size=0.2, stratify=True, seed=7)
    assert np.array_equal(np.bincount(y_te), [10, 10, 10])
    assert np.array_equal(np.bincount(y_tr), [40, 40, 40])
    # test part is interleaved, not grouped by class
    assert not np.all(np.diff(y_te) >= 0)


def test_stratified_better_than_chance_imbalanced():
    y = np.array([0] * 90 + [1] * 10)
    X = np.arange(100)
    for seed in range(5):
        _, _, _, y_te = ds.train_test_split(X, y, test_size=0.2, seed=seed, stratify=True)
        assert np.array_equal(np.bincount(y_te, minlength=2), [18, 2])


def test_split_accepts_lists():
    texts, labels = ds.load_sentiment()
    t_tr, t_te, l_tr, l_te = ds.train_test_split(texts, labels, test_size=0.1, stratify=True)
    assert isinstance(t_tr, list) and isinstance(t_te, list)
    assert len(t_te) == 30 and len(t_tr) == 270
    assert np.array_equal(np.bincount(l_te), [15, 15])
    lookup = dict(zip(texts, labels.tolist()))
    assert all(lookup[t] == lab for t, lab in zip(t_te, l_te.tolist()))


def test_split_errors():
    X = np.zeros((10, 2))
    y = np.zeros(10)
    with pytest.raises(ValueError):
        ds.train_test_split(X, y[:9])
    with pytest.raises(ValueError):
        ds.train_test_split(X, y, test_size=1.5)
    with pytest.raises(ValueError):
        ds.train_test_split(X, y, test_size=0)
    with pytest.raises(ValueError):
        ds.train_test_split(X, y, test_size=10)

"""Bad data handed to the Python API: clear ValueErrors from fit, never a ZeroDivisionError or silent truncation."""

import numpy as np
import pytest

from digitnet.nn import Dense, Sequential

X = np.random.default_rng(0).random((12, 4)).astype(np.float32)
Y = np.arange(12) % 3


def _model():
    return Sequential([Dense(3)], input_shape=(4,)).compile("sgd", lr=0.1)


CASES = [
    ("empty-x", dict(x=X[:0], y=Y[:0]), "at least one sample"),
    ("float-labels", dict(y=Y + 0.5), "labels y must be integers"),
    ("integral-float-labels", dict(y=Y.astype(float)), "labels y must be integers"),
    ("bool-batch-size", dict(batch_size=True), "batch_size must be a positive int, got True"),
    ("float-batch-size", dict(batch_size=2.0), "batch_size must be a positive int"),
    ("zero-batch-size", dict(batch_size=0), "batch_size must be a positive int"),
    ("string-epochs", dict(epochs="3"), "epochs must be an int"),
    ("nan-inputs", dict(x=np.where(X > 0.9, np.nan, X)), "NaN or infinite"),
    ("inf-inputs", dict(x=np.where(X > 0.9, np.inf, X)), "NaN or infinite"),
    ("complex-inputs", dict(x=X.astype(np.complex64)), "real numbers"),
    ("string-inputs", dict(x=X.astype(str)), "real numbers"),
    ("labels-too-big", dict(y=Y + 5), "0..2 for a model with 3 outputs"),
    ("labels-negative", dict(y=Y - 1), "got -1..1"),
    ("labels-3d", dict(y=Y.reshape(12, 1, 1)), "y must be (N,) labels"),
    ("labels-count", dict(y=Y[:5]), "x has 12 samples but y has 5"),
    ("nan-targets", dict(y=np.full((12, 3), np.nan)), "finite real numbers"),
    ("nan-validation", dict(validation_data=(np.full((2, 4), np.nan, np.float32), Y[:2])), "NaN or infinite"),
    ("list-x", dict(x=X.tolist()), "must be an array"),
]


@pytest.mark.parametrize("change,fragment", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_fit_refuses_bad_data_in_one_line(change, fragment):
    kwargs = {"x": X, "y": Y, "epochs": 1, "batch_size": 4, "verbose": False, **change}
    model = _model()
    before = [p.copy() for _, p, _ in model.parameters()]
    with pytest.raises(ValueError) as info:
        model.fit(kwargs.pop("x"), kwargs.pop("y"), **kwargs)
    assert fragment in str(info.value) and "\n" not in str(info.value)
    for b, (_, p, _) in zip(before, model.parameters()):
        np.testing.assert_array_equal(b, p)  # nothing was trained on bad data

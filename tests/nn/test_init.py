"""Initialisers: shapes, fans and the variance each promises."""

import numpy as np
import pytest

from digitnet.nn import init


def test_fans():
    assert init.fans((784, 16)) == (784, 16)
    assert init.fans((16, 6, 5, 5)) == (150, 400)


@pytest.mark.parametrize(
    "name,var",
    [
        ("normal", lambda i, o: 1.0),
        ("xavier_normal", lambda i, o: 2 / (i + o)),
        ("xavier_uniform", lambda i, o: 2 / (i + o)),
        ("he_normal", lambda i, o: 2 / i),
        ("he_uniform", lambda i, o: 2 / i),
        ("lecun_normal", lambda i, o: 1 / i),
        ("lecun_uniform", lambda i, o: 1 / i),
    ],
)
def test_variance(name, var):
    w = init.initialise(name, (400, 300), np.random.default_rng(0))
    assert w.shape == (400, 300)
    assert w.var() == pytest.approx(var(400, 300), rel=0.03)
    assert abs(w.mean()) < 0.01 * np.sqrt(var(400, 300)) * 10


def test_aliases_and_errors():
    rng = np.random.default_rng(0)
    a = init.initialise("glorot_uniform", (3, 4), np.random.default_rng(1))
    b = init.initialise("xavier_uniform", (3, 4), np.random.default_rng(1))
    np.testing.assert_array_equal(a, b)
    assert np.all(init.initialise("zeros", (2, 2), rng) == 0)
    with pytest.raises(ValueError, match="unknown initialiser 'orthogonal'"):
        init.get("orthogonal")

import numpy as np
import pytest

from digitnet.nn import backend


def test_numpy_is_the_default_backend():
    assert backend.xp() is np
    assert backend.name() == "numpy"
    assert "numpy" in backend.available()
    a = backend.to_device([1, 2], np.float32)
    assert isinstance(a, np.ndarray) and a.dtype == np.float32
    assert backend.to_numpy(a) is a


def test_unknown_backend_is_named():
    with pytest.raises(ValueError, match="unknown backend 'jax'; expected one of numpy, cupy"):
        backend.use("jax")


@pytest.mark.skipif("cupy" not in backend.available(), reason="CuPy with a CUDA GPU is not available here")
def test_cupy_backend_trains_like_numpy():  # pragma: no cover - needs a GPU
    from digitnet.nn import SGD, Sequential
    from digitnet.nn.layers import Dense, ReLU

    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((64, 8)).astype(np.float32), rng.integers(0, 3, 64)
    results = []
    for name in ("numpy", "cupy"):
        backend.use(name)
        try:
            m = Sequential([Dense(16), ReLU(), Dense(3)], input_shape=(8,), seed=0).compile(SGD(lr=0.1))
            m.fit(x, y, epochs=2, batch_size=16, verbose=False)
            results.append(m.predict_logits(x))
        finally:
            backend.use("numpy")
    np.testing.assert_allclose(results[0], results[1], rtol=1e-4, atol=1e-5)

import numpy as np
import pytest

from digitnet import metrics


def test_metrics_on_a_small_known_case():
    y = np.array([0, 0, 1, 1, 2, 2])
    proba = np.array(
        [[0.9, 0.1, 0], [0.2, 0.7, 0.1], [0.1, 0.8, 0.1], [0.1, 0.8, 0.1], [0.3, 0.3, 0.4], [0.6, 0.1, 0.3]]
    )
    pred = proba.argmax(1)  # 0 1 1 1 2 0
    assert metrics.accuracy(y, pred) == pytest.approx(4 / 6)
    cm = metrics.confusion_matrix(y, pred, 3)
    np.testing.assert_array_equal(cm, [[1, 1, 0], [0, 2, 0], [1, 0, 1]])
    pc = metrics.per_class(cm)
    assert pc["precision"] == pytest.approx([0.5, 2 / 3, 1.0])
    assert pc["recall"] == pytest.approx([0.5, 1.0, 0.5])
    assert pc["f1"][1] == pytest.approx(0.8)
    assert metrics.top_k_accuracy(y, proba, 2) == pytest.approx(1.0)
    mistakes = metrics.confident_mistakes(y, proba)
    assert [m["index"] for m in mistakes] == [1, 5]
    rep = metrics.report(y, proba)
    assert rep["halves"] == {"first": pytest.approx(2 / 3), "last": pytest.approx(2 / 3), "split_at": 3}
    assert rep["errors"] == 2
    with pytest.raises(ValueError, match="k must be in"):
        metrics.top_k_accuracy(y, proba, 4)

"""Temperature scaling, ECE, reliability bins and selective accuracy."""

import numpy as np
import pytest

from digitnet import calibration, metrics


def test_fit_temperature_recovers_a_known_temperature():
    rng = np.random.default_rng(0)
    z = rng.normal(0, 3, (20000, 10))
    true_t = 2.5
    p = calibration.softmax(z, true_t)
    labels = (p.cumsum(axis=1) > rng.random((len(z), 1))).argmax(axis=1)  # y ~ softmax(z / T)
    assert calibration.fit_temperature(z, labels) == pytest.approx(true_t, rel=0.05)
    record = calibration.fit(z, labels)
    assert record["method"] == "temperature" and record["ece_after"] < record["ece_before"]


def test_fit_uses_only_the_digit_logits_of_an_11_output_model():
    rng = np.random.default_rng(1)
    z = rng.normal(0, 2, (3000, 10))
    labels = z.argmax(axis=1)
    with_reject = np.concatenate([z, np.full((3000, 1), 50.0)], axis=1)  # a huge 11th logit changes nothing
    assert calibration.fit(with_reject, labels) == calibration.fit(z, labels)


def test_softmax_nll_and_errors():
    z = np.array([[0.0, np.log(3.0)]])
    assert calibration.softmax(z) == pytest.approx(np.array([[0.25, 0.75]]))
    assert calibration.nll(z, [1]) == pytest.approx(-np.log(0.75))
    with pytest.raises(ValueError, match="NaN"):
        calibration.fit_temperature(np.array([[np.nan, 0.0]]), [0])
    with pytest.raises(ValueError, match="temperature must be a finite number > 0, got -1"):
        calibration.check({"method": "temperature", "temperature": -1})
    with pytest.raises(ValueError, match="unknown calibration method 'platt'"):
        calibration.check({"method": "platt", "temperature": 1.0})
    assert calibration.check({}) == {}


def test_ece_against_a_hand_computed_case():
    # 3 bins: (0, 1/3], (1/3, 2/3], (2/3, 1]. Confidences 0.9, 0.8 (bin 2: conf 0.85, acc 1/2),
    # 0.5 (bin 1: conf 0.5, acc 1), 0.6 (bin 1 too: mean conf 0.55, acc 1/2 with both)
    proba = np.array([[0.9, 0.1], [0.2, 0.8], [0.5, 0.5], [0.4, 0.6]])
    y = np.array([0, 0, 0, 0])
    # predictions 0, 1, 0 (argmax of a tie is the first), 1 -> correct 1, 0, 1, 0
    # bin 2: |0.5 - 0.85| * 2/4 = 0.175 ; bin 1: |0.5 - 0.55| * 2/4 = 0.025  -> ECE 0.2
    assert metrics.expected_calibration_error(y, proba, bins=3) == pytest.approx(0.2)
    rel = metrics.reliability(y, proba, bins=3)
    assert rel["count"] == [0, 2, 2] and rel["accuracy"][0] is None
    assert rel["confidence"][2] == pytest.approx(0.85) and rel["accuracy"][2] == pytest.approx(0.5)
    with pytest.raises(ValueError, match="bins must be a positive integer"):
        metrics.reliability(y, proba, bins=0)


def test_selective_accuracy_answers_the_most_confident_first():
    proba = np.array([[0.99, 0.01], [0.6, 0.4], [0.9, 0.1], [0.55, 0.45]])
    y = np.array([0, 1, 0, 1])  # the two least confident are wrong
    curve = metrics.selective_accuracy(y, proba, coverages=(1.0, 0.5))
    assert curve[0]["accuracy"] == 0.5 and curve[1] == {
        "coverage": 0.5,
        "answered": 2,
        "accuracy": 1.0,
        "threshold": pytest.approx(0.1),
    }

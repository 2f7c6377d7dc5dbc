"""Learning-rate schedules: values by hand, configs, errors, and torch.optim.lr_scheduler."""

import json
import math

import numpy as np
import pytest

from digitnet.nn import optim, schedules

TORCH_RTOL = 1e-9


def values(sched, n):
    return np.array([sched(t) for t in range(n)])


# --- by hand -------------------------------------------------------------------------------
def test_constant_step_exponential_by_hand():
    assert schedules.Constant(0.1)(0) == schedules.Constant(0.1)(99) == 0.1
    np.testing.assert_allclose(
        values(schedules.Step(1.0, step_size=3, gamma=0.5), 7), [1, 1, 1, 0.5, 0.5, 0.5, 0.25], rtol=1e-15
    )
    np.testing.assert_allclose(values(schedules.Exponential(2.0, gamma=0.5), 4), [2, 1, 0.5, 0.25], rtol=1e-15)


def test_cosine_with_warmup_by_hand():
    sched = schedules.Cosine(1.0, total=10, warmup=4, min_lr=0.1)
    # warm-up: lr * (t + 1) / (warmup + 1) for t = 0..3, then the peak at t = warmup
    np.testing.assert_allclose(values(sched, 5), [0.2, 0.4, 0.6, 0.8, 1.0], rtol=1e-15)
    # halfway through the 6 cosine units: min + (lr - min) / 2
    assert sched(7) == pytest.approx(0.55, rel=1e-15)
    assert sched(10) == pytest.approx(0.1, rel=1e-15)
    assert sched(25) == 0.1  # clamped after total
    after = values(sched, 11)[4:]
    assert np.all(np.diff(after) < 0)


def test_onecycle_by_hand():
    sched = schedules.OneCycle(max_lr=0.5, total=11, pct_start=0.2, div_factor=25, final_div_factor=1e4)
    # peak at pct_start * total - 1 = 1.2 (torch's float step index)
    assert sched(0) == pytest.approx(0.5 / 25, rel=1e-15)
    assert sched(10) == pytest.approx(0.5 / 25 / 1e4, rel=1e-12)
    assert sched(50) == sched(10)  # clamped after the last step
    # t = 1 on the way up: progress 1 / 1.2
    up = 0.5 + (0.02 - 0.5) / 2 * (math.cos(math.pi / 1.2) + 1)
    assert sched(1) == pytest.approx(up, rel=1e-14)
    lrs = values(sched, 11)
    # the peak 1.2 falls between steps: t = 2 (0.8 / 8.8 down the cosine) is the highest sampled lr
    assert np.all(np.diff(lrs[:3]) > 0) and np.all(np.diff(lrs[2:]) < 0) and lrs.max() < 0.5
    assert schedules.OneCycle(1.0, total=10, pct_start=0.5)(4) == 1.0  # peak 0.5 * 10 - 1 = 4 exactly


def test_units_configs_and_registry():
    assert schedules.Step(0.1, 5).unit == "epoch"
    assert schedules.OneCycle(0.1, 100).unit == "step"
    assert schedules.Cosine(0.1, 100, unit="step").unit == "step"
    for sched in [
        schedules.Constant(0.3),
        schedules.Step(0.1, 5, 0.3),
        schedules.Exponential(0.1, 0.9),
        schedules.Cosine(0.1, 20, warmup=3, min_lr=1e-3, unit="step"),
        schedules.OneCycle(0.4, 50, pct_start=0.25, div_factor=10, final_div_factor=100),
    ]:
        rebuilt = schedules.from_config(json.loads(json.dumps(sched.to_config())))
        assert type(rebuilt) is type(sched) and rebuilt.get_config() == sched.get_config()
        np.testing.assert_array_equal(values(rebuilt, 30), values(sched, 30))
        assert schedules.get(type(sched).__name__.upper(), **sched.get_config()).get_config() == sched.get_config()
    assert isinstance(schedules.get(0.05), schedules.Constant)
    sched = schedules.Exponential(0.1, 0.5)
    assert schedules.get(sched) is sched


def test_drives_an_optimiser():
    opt = optim.SGD(lr=1.0)
    sched = schedules.Step(1.0, step_size=1, gamma=0.5)
    p = np.array([0.0])
    for t in range(3):
        opt.lr = sched(t)
        opt.step([("w", p, np.array([1.0]))])
    assert p[0] == -(1.0 + 0.5 + 0.25)


@pytest.mark.parametrize(
    "make, bad",
    [
        (lambda: schedules.get("linear"), "'linear'.*constant, step, exponential, cosine, onecycle"),
        (lambda: schedules.Constant(0.0), "lr"),
        (lambda: schedules.Step(0.1, 0), "step_size"),
        (lambda: schedules.Step(0.1, 2.5), "step_size"),
        (lambda: schedules.Exponential(0.1, -0.5), "gamma"),
        (lambda: schedules.Cosine(0.1, 10, warmup=10), "warmup"),
        (lambda: schedules.Cosine(0.1, 10, min_lr=0.2), "min_lr"),
        (lambda: schedules.OneCycle(0.1, 100, pct_start=1.0), "pct_start"),
        (lambda: schedules.OneCycle(-1, 10), "max_lr"),
        (lambda: schedules.Step(0.1, 5, unit="batch"), "unit"),
        (lambda: schedules.Constant(0.1)(-1), "t"),
        (lambda: schedules.from_config({"config": {}}), "class"),
    ],
)
def test_errors_name_the_bad_value(make, bad):
    with pytest.raises(ValueError, match=bad):
        make()


# --- against torch.optim.lr_scheduler --------------------------------------------------------
def torch_lrs(make_scheduler, lr, n):
    """The lr torch uses at steps 0..n-1 (read before each scheduler.step())."""
    torch = pytest.importorskip("torch")
    param = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([param], lr=lr)
    sched = make_scheduler(torch.optim.lr_scheduler, opt)
    lrs = []
    for _ in range(n):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return np.array(lrs)


def test_step_and_exponential_match_torch():
    ours = values(schedules.Step(0.3, step_size=4, gamma=0.7), 30)
    np.testing.assert_allclose(ours, torch_lrs(lambda s, o: s.StepLR(o, 4, gamma=0.7), 0.3, 30), rtol=TORCH_RTOL)
    ours = values(schedules.Exponential(0.3, gamma=0.93), 50)
    np.testing.assert_allclose(ours, torch_lrs(lambda s, o: s.ExponentialLR(o, 0.93), 0.3, 50), rtol=TORCH_RTOL)


@pytest.mark.parametrize("total, min_lr", [(10, 0.0), (37, 1e-3)])
def test_cosine_without_warmup_matches_torch(total, min_lr):
    ours = values(schedules.Cosine(0.2, total=total, min_lr=min_lr), total + 1)
    theirs = torch_lrs(lambda s, o: s.CosineAnnealingLR(o, T_max=total, eta_min=min_lr), 0.2, total + 1)
    np.testing.assert_allclose(ours, theirs, rtol=TORCH_RTOL, atol=1e-15)


@pytest.mark.parametrize(
    "total, pct_start, div, final_div",
    [
        (100, 0.3, 25.0, 1e4),
        (7, 0.3, 25.0, 1e4),
        (50, 0.25, 10.0, 100.0),
        (2, 0.3, 25.0, 1e4),
        (1000, 0.1, 5.0, 1e3),
    ],
)
def test_onecycle_matches_torch(total, pct_start, div, final_div):
    ours = values(
        schedules.OneCycle(0.8, total, pct_start=pct_start, div_factor=div, final_div_factor=final_div), total
    )
    theirs = torch_lrs(
        lambda s, o: s.OneCycleLR(
            o,
            max_lr=0.8,
            total_steps=total,
            pct_start=pct_start,
            anneal_strategy="cos",
            cycle_momentum=False,
            div_factor=div,
            final_div_factor=final_div,
        ),
        0.8,
        total,
    )
    np.testing.assert_allclose(ours, theirs, rtol=TORCH_RTOL)

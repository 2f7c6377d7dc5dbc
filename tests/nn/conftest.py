"""Every framework test runs once per vectorised tier: ``reference`` and ``fast``.

A test module that uses digitnet.nn's layer or optimiser classes (or the
``optim``, ``activations`` or ``zoo`` modules) is parametrised with a ``tier``.
For the test's duration the module's globals naming such classes are swapped
for that tier's classes of the same name, ``optim.get`` / ``activations.get`` /
``zoo.build`` build in that tier, and class-valued test parameters are mapped
the same way, so one test body checks both tiers.

A module that compares tiers itself (test_tiers.py) sets ``COMPARES_TIERS = True``.
A test that checks something only one tier promises (the fast tier's memory
layout, its buffers) says so with ``@pytest.mark.tiers("fast")``.
"""

from __future__ import annotations

import functools
import types

import pytest

from digitnet import zoo as zoo_module
from digitnet.nn import optim as optim_module
from digitnet.nn import tiers
from digitnet.nn.layers import activations as activations_module
from digitnet.nn.layers.base import Layer
from digitnet.nn.optim import Optimizer

TESTED_TIERS = ("reference", "fast")
_VIEWED_MODULES = (optim_module, activations_module, zoo_module)


def _is_viewed_module(value):
    return any(value is module for module in _VIEWED_MODULES)


def pytest_configure(config):
    config.addinivalue_line("markers", "tiers(*names): run this test only in the named tiers")


def _tiered_class(value, tier):
    """The class of ``tier`` standing for class ``value``, or None when ``value`` is no tiered class."""
    if isinstance(value, type) and issubclass(value, Layer) and value is not Layer:
        return Layer.lookup(value.__name__, tier)
    if isinstance(value, type) and issubclass(value, Optimizer) and value is not Optimizer:
        key = value.__name__.lower()
        return Optimizer.registry.get(tier, {}).get(key) or Optimizer.registry["reference"].get(key)
    return None


def _module_view(module, tier):
    """``module`` with its classes, ``get`` and ``build`` bound to ``tier``."""
    view = types.SimpleNamespace(**vars(module))
    for name, value in vars(module).items():
        cls = _tiered_class(value, tier)
        if cls is not None:
            setattr(view, name, cls)
    if module is optim_module:
        view.get = functools.partial(optim_module.get, tier=tier)
        view.from_state_dict = functools.partial(optim_module.from_state_dict, tier=tier)
    if module is activations_module:
        view.get = lambda name, **kwargs: tiers.convert(activations_module.get(name, **kwargs), tier)
    if module is zoo_module:
        view.build = functools.partial(zoo_module.build, tier=tier)
    return view


def _swaps(module, tier):
    swaps = {}
    for name, value in vars(module).items():
        cls = _tiered_class(value, tier)
        if cls is not None and cls is not value:
            swaps[name] = cls
        elif _is_viewed_module(value):
            swaps[name] = _module_view(value, tier)
    return swaps


def _uses_tiers(module):
    return any(_tiered_class(v, "fast") is not None or _is_viewed_module(v) for v in vars(module).values())


def pytest_generate_tests(metafunc):
    if getattr(metafunc.module, "COMPARES_TIERS", False) or not _uses_tiers(metafunc.module):
        return
    marker = metafunc.definition.get_closest_marker("tiers")
    wanted = marker.args if marker else TESTED_TIERS
    metafunc.fixturenames.append("tier")
    metafunc.parametrize("tier", [t for t in TESTED_TIERS if t in wanted])


@pytest.fixture
def tier():
    return tiers.DEFAULT


def _tier_of(item):
    callspec = getattr(item, "callspec", None)
    return None if callspec is None else callspec.params.get("tier")


@pytest.fixture(autouse=True)
def _run_in_tier(request, monkeypatch):
    tier = _tier_of(request.node)
    if tier is not None:
        for name, value in _swaps(request.module, tier).items():
            monkeypatch.setattr(request.module, name, value)
    yield


@pytest.hookimpl(hookwrapper=True)
def pytest_pyfunc_call(pyfuncitem):
    tier = _tier_of(pyfuncitem)
    if tier is not None:
        for name, value in list(pyfuncitem.funcargs.items()):
            cls = _tiered_class(value, tier)
            if cls is not None:
                pyfuncitem.funcargs[name] = cls
    yield

"""Fixtures for the drawing app's tests: tiny models, a synthetic test set, a live server on a free port."""

import pytest

from app_helpers import LiveServer, synthetic_testset, tiny_models
from digitnet.app import DrawingApp, TestSet


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    return tiny_models(tmp_path_factory.mktemp("models"))


@pytest.fixture(scope="module")
def testset_arrays():
    return synthetic_testset()


@pytest.fixture(scope="module")
def live(models, testset_arrays, tmp_path_factory):
    images, labels = testset_arrays
    app = DrawingApp(models, TestSet(images, labels), threshold=0.6, save_dir=tmp_path_factory.mktemp("drawings"))
    server = LiveServer(app)
    yield server
    server.close()

"""The drawing app: draw a digit in the browser and see every model's answer (``digitnet draw``).

server.py    the HTTP server (standard library), routes and JSON errors
api.py       what each endpoint does: predict, save, models, test set
models.py    finding model files, feeding them 28x28 images, saliency
images.py    decoding and checking the drawings the page sends
testset.py   MNIST test images with every model's guess (the "test set" tab)
static/      the page: index.html, app.js, style.css (vanilla JS, works offline)
"""

from digitnet.app.api import ApiError, DrawingApp
from digitnet.app.models import AppModel, find_model_files
from digitnet.app.server import make_server, url_of
from digitnet.app.testset import TestSet

__all__ = ["ApiError", "AppModel", "DrawingApp", "TestSet", "find_model_files", "make_server", "url_of"]

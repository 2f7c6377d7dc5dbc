"""Real-data smoke test: the seeds' 784-16-16-10 sigmoid network learns on 2,000 MNIST images."""

import numpy as np

from digitnet.nn import SGD, Sequential
from digitnet.nn.layers import Dense, Flatten, Sigmoid


def test_seed_network_learns_on_real_mnist(mnist_train, mnist_test):
    images, labels = mnist_train
    x = images[:2000].astype(np.float32) / 255
    y = labels[:2000]
    x_test = mnist_test[0][:1000].astype(np.float32) / 255
    y_test = mnist_test[1][:1000]
    model = Sequential([Flatten(), Dense(16), Sigmoid(), Dense(16), Sigmoid(), Dense(10)], input_shape=(28, 28), seed=0)
    model.compile(SGD(lr=0.5), "cross_entropy")
    before = model.evaluate(x_test, y_test)["accuracy"]
    hist = model.fit(x, y, epochs=10, batch_size=32, verbose=False)
    after = model.evaluate(x_test, y_test)["accuracy"]
    assert hist.history["loss"][-1] < 0.5 * hist.history["loss"][0]
    assert before < 0.25 and after > 0.80, (before, after)

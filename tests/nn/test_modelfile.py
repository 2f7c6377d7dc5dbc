"""Model files: round trip, exact resume, and clear errors for files that are not ours."""

import json
import zipfile

import numpy as np
import pytest

from digitnet.nn import Adam, ModelCheckpoint, Sequential, modelfile
from digitnet.nn.layers import Dense, Dropout, Flatten, ReLU, Tanh
from digitnet.nn.schedules import Cosine


def data(n=120, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 2, 3, 3))
    y = (x.reshape(n, -1)[:, :3].sum(1) > 0).astype(int) + (x[:, 0, 0, 0] > 1)
    return x, y


def make(dtype="float64"):
    model = Sequential(
        [Flatten(), Dense(12), Tanh(), Dropout(0.2), Dense(8), ReLU(), Dense(3)],
        input_shape=(2, 3, 3),
        dtype=dtype,
        seed=11,
    )
    model.compile(Adam(lr=0.01, weight_decay=1e-3), "cross_entropy", schedule=Cosine(0.01, total=4, warmup=1))
    return model


def test_round_trip_keeps_weights_predictions_and_metadata(tmp_path):
    x, y = data()
    model = make("float32")
    model.fit(x.astype(np.float32), y, epochs=1, batch_size=16, verbose=False)
    model.preprocessing = {"scale": 1 / 255, "layout": "image"}
    model.metrics = {"test_accuracy": 0.5}
    path = modelfile.save(model, tmp_path / "m")
    assert path.endswith("m.npz")
    again = Sequential.load(path)
    for (n1, p1, _), (n2, p2, _) in zip(model.parameters(), again.parameters()):
        assert n1 == n2 and p1.dtype == p2.dtype
        np.testing.assert_array_equal(p1, p2)
    np.testing.assert_array_equal(model.predict_logits(x), again.predict_logits(x))
    assert again.preprocessing == {"scale": 1 / 255, "layout": "image"}
    assert again.metrics == {"test_accuracy": 0.5}
    assert again.epochs_done == 1
    assert type(again.optimizer).__name__ == "Adam" and again.optimizer.t == model.optimizer.t
    header = modelfile.read_header(path)
    assert header["format"] == "digitnet-model" and header["version"] == modelfile.VERSION
    assert not list(tmp_path.glob(".tmp-*")), "temporary file left behind"


def test_resume_from_checkpoint_is_bit_for_bit(tmp_path):
    """2 epochs + save + load + 2 more epochs == 4 epochs straight, exactly, in float64."""
    x, y = data()
    straight = make()
    straight.fit(x, y, epochs=4, batch_size=16, verbose=False)

    first = make()
    first.fit(
        x,
        y,
        epochs=2,
        batch_size=16,
        verbose=False,
        callbacks=[ModelCheckpoint(tmp_path / "ckpt.npz", save_best_only=False)],
    )
    resumed = Sequential.load(tmp_path / "ckpt.npz").to_tier(straight.tier)
    assert resumed.epochs_done == 2
    hist = resumed.fit(x, y, epochs=4, batch_size=16, verbose=False)
    assert hist.history["epoch"] == [3, 4]
    for (name, p1, _), (_, p2, _) in zip(straight.parameters(), resumed.parameters()):
        np.testing.assert_array_equal(p1, p2, err_msg=name)


def test_not_a_model_file(tmp_path):
    bad = tmp_path / "notes.npz"
    bad.write_text("hello")
    with pytest.raises(modelfile.ModelFileError, match="not a digitnet model file"):
        Sequential.load(bad)
    plain = tmp_path / "plain.npz"
    np.savez(plain, a=np.zeros(3))
    with pytest.raises(modelfile.ModelFileError, match="no __header__"):
        Sequential.load(plain)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        Sequential.load(tmp_path / "missing.npz")


def test_truncated_file(tmp_path):
    path = modelfile.save(make(), tmp_path / "m.npz")
    raw = open(path, "rb").read()
    cut = tmp_path / "cut.npz"
    cut.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(modelfile.ModelFileError):
        Sequential.load(cut)


def _rewrite_header(path, out, change):
    with np.load(path, allow_pickle=False) as f:
        arrays = {k: f[k] for k in f.files}
    header = json.loads(bytes(arrays["__header__"]).decode())
    change(header)
    arrays["__header__"] = np.frombuffer(json.dumps(header).encode(), np.uint8)
    np.savez(out, **arrays)


def test_newer_format_and_foreign_format(tmp_path):
    path = modelfile.save(make(), tmp_path / "m.npz")
    _rewrite_header(path, tmp_path / "new.npz", lambda h: h.update(version=modelfile.VERSION + 1))
    with pytest.raises(modelfile.ModelFileError, match="newer digitnet"):
        Sequential.load(tmp_path / "new.npz")
    _rewrite_header(path, tmp_path / "other.npz", lambda h: h.update(format="keras"))
    with pytest.raises(modelfile.ModelFileError, match="'keras' is not 'digitnet-model'"):
        Sequential.load(tmp_path / "other.npz")


def test_missing_weights_are_reported(tmp_path):
    path = modelfile.save(make(), tmp_path / "m.npz")
    with np.load(path, allow_pickle=False) as f:
        arrays = {k: f[k] for k in f.files if k != "param/1.weight"}
    np.savez(tmp_path / "partial.npz", **arrays)
    with pytest.raises(modelfile.ModelFileError, match="missing array 'param/1.weight'"):
        Sequential.load(tmp_path / "partial.npz")


def test_file_holds_no_pickled_objects(tmp_path):
    path = modelfile.save(make(), tmp_path / "m.npz")
    with zipfile.ZipFile(path) as z:
        names = z.namelist()
    assert "__header__.npy" in names
    with np.load(path, allow_pickle=False) as f:  # would raise if any array needed pickle
        assert all(f[k].dtype != object for k in f.files)


def test_files_from_before_the_weight_init_rename_still_load(tmp_path):
    """Files written before ``init=`` became ``weight_init=`` (the first wave's runs) load unchanged."""
    model = make()
    path = modelfile.save(model, tmp_path / "m.npz")

    def old_names(header):
        for layer in header["architecture"]["layers"]:
            if "weight_init" in layer["config"]:
                layer["config"]["init"] = layer["config"].pop("weight_init")

    _rewrite_header(path, tmp_path / "old.npz", old_names)
    assert '"init"' in json.dumps(modelfile.read_header(tmp_path / "old.npz")["architecture"])
    old = Sequential.load(tmp_path / "old.npz")
    x, _ = data(8)
    np.testing.assert_array_equal(old.predict_proba(x), model.predict_proba(x))

    def bad_initialiser(header):
        old_names(header)
        header["architecture"]["layers"][1]["config"]["init"] = "x"

    _rewrite_header(path, tmp_path / "bad.npz", bad_initialiser)
    with pytest.raises(modelfile.ModelFileError, match="initialiser"):
        Sequential.load(tmp_path / "bad.npz")

"""Bad model files: every one is refused with one ModelFileError line naming the field, nothing a file says
selects code outside the allow-lists, and nothing is allocated before sizes are checked."""

from __future__ import annotations

import copy
import os
import zipfile

import numpy as np
import pytest

from badinput_helpers import (
    arrays_of,
    bounded_memory,
    cli_error,
    header_of,
    npy_bytes,
    one_line,
    rewrite,
    tiny_model,
    write_model,
    write_zip_member,
)
from digitnet import digitmodel
from digitnet.nn import Dense, ModelFileError, Sequential, modelfile, modelschema


def _set(path, value):
    """A header change that sets header[path[0]][path[1]]... = value."""

    def change(h):
        target = h
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
        return h

    return change


def _delete(path):
    def change(h):
        target = h
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]
        return h

    return change


def _layer(i, key, value):
    return _set(["architecture", "layers", i, "config", key], value)


NESTED = {"a": None}
for _ in range(30):
    NESTED = {"a": NESTED}

HEADER_CASES = [  # (id, change, fragment of the one-line error)
    # class 1: names that would select code
    ("rng-test-runner", _set(["state", "rng", "bit_generator"], "test"), "state.rng.bit_generator"),
    ("rng-default_rng", _set(["state", "rng", "bit_generator"], "default_rng"), "state.rng.bit_generator"),
    ("rng-Generator", _set(["state", "rng", "bit_generator"], "Generator"), "state.rng.bit_generator"),
    ("rng-seed", _set(["state", "rng", "bit_generator"], "seed"), "state.rng.bit_generator"),
    ("rng-dunder", _set(["state", "rng", "bit_generator"], "__class__"), "state.rng.bit_generator"),
    ("rng-not-string", _set(["state", "rng", "bit_generator"], 5), "state.rng.bit_generator"),
    ("rng-extra-key", _set(["state", "rng", "call"], "os.system"), "state.rng.call"),
    ("rng-bad-state", _set(["state", "rng", "state"], {"state": "x", "inc": 1}), "state.rng"),
    ("rng-list", _set(["state", "rng"], [1, 2]), "state.rng"),
    ("layer-class-unknown", _set(["architecture", "layers", 1, "class"], "Lambda"), "architecture.layers[1].class"),
    ("layer-class-base", _set(["architecture", "layers", 1, "class"], "Layer"), "architecture.layers[1].class"),
    ("layer-class-private", _set(["architecture", "layers", 1, "class"], "_BatchNorm"), "layers[1].class"),
    ("layer-class-workspace", _set(["architecture", "layers", 1, "class"], "Workspace"), "layers[1].class"),
    ("layer-class-number", _set(["architecture", "layers", 1, "class"], 3), "layers[1].class"),
    ("init-unknown", _layer(1, "init", "eval"), "architecture.layers[1].config.init"),
    ("init-number", _layer(1, "init", 1), "architecture.layers[1].config.init"),
    ("optimizer-unknown", _set(["optimizer", "class"], "Optimizer"), "optimizer.class"),
    ("optimizer-module", _set(["optimizer", "class"], "numpy"), "optimizer.class"),
    ("loss-unknown", _set(["loss", "name"], "hinge"), "loss.name"),
    ("loss-not-string", _set(["loss", "name"], ["mse"]), "loss.name"),
    ("schedule-unknown", _set(["schedule", "name"], "Schedule"), "schedule.name"),
    ("schedule-number", _set(["schedule", "name"], 0.1), "schedule.name"),
    # class 3: wrong-typed or unexpected fields
    ("missing-architecture", _delete(["architecture"]), "architecture: missing"),
    ("architecture-list", _set(["architecture"], [1]), "architecture"),
    ("layers-dict", _set(["architecture", "layers"], {"0": {}}), "architecture.layers"),
    ("layers-missing", _delete(["architecture", "layers"]), "architecture.layers: missing"),
    ("layer-not-object", _set(["architecture", "layers", 1], "Dense"), "architecture.layers[1]"),
    ("layer-config-list", _set(["architecture", "layers", 1, "config"], [8]), "layers[1].config"),
    ("layer-unknown-arg", _layer(1, "activation", "relu"), "layers[1].config.activation"),
    ("layer-units-string", _layer(1, "units", "8"), "layers[1].config.units"),
    ("layer-units-float", _layer(1, "units", 8.5), "layers[1].config.units"),
    ("layer-units-bool", _layer(1, "units", True), "layers[1].config.units"),
    ("layer-units-zero", _layer(1, "units", 0), "layers[1]"),
    ("layer-units-negative", _layer(1, "units", -3), "layers[1]"),
    ("layer-bias-string", _layer(1, "bias", "yes"), "layers[1].config.bias"),
    (
        "layer-missing-units",
        lambda h: h["architecture"]["layers"][1]["config"].pop("units") and h,
        "layers[1].config.units: missing",
    ),
    ("input-shape-missing", _delete(["architecture", "input_shape"]), "architecture.input_shape: missing"),
    ("input-shape-null", _set(["architecture", "input_shape"], None), "architecture.input_shape"),
    ("input-shape-negative", _set(["architecture", "input_shape"], [1, -28, 28]), "architecture.input_shape"),
    ("input-shape-strings", _set(["architecture", "input_shape"], ["1", "28", "28"]), "architecture.input_shape"),
    ("input-shape-5d", _set(["architecture", "input_shape"], [1, 1, 1, 28, 28]), "architecture.input_shape"),
    ("input-shape-wrong", _set(["architecture", "input_shape"], [1, 28, 29]), "in_features=784"),
    ("dtype-int8", _set(["architecture", "dtype"], "int8"), "architecture.dtype"),
    ("dtype-object", _set(["architecture", "dtype"], "object"), "architecture.dtype"),
    ("seed-negative", _set(["architecture", "seed"], -1), "architecture.seed"),
    ("seed-string", _set(["architecture", "seed"], "0"), "architecture.seed"),
    ("name-huge", _set(["architecture", "name"], "x" * 1000), "architecture.name"),
    ("arch-unknown-key", _set(["architecture", "code"], "x"), "architecture.code"),
    ("top-unknown-key", _set(["exec"], "print(1)"), "header.exec"),
    ("format-other", _set(["format"], "keras"), "'keras' is not 'digitnet-model'"),
    ("version-newer", _set(["version"], 99), "newer digitnet"),
    ("version-string", _set(["version"], "1"), "version"),
    ("version-zero", _set(["version"], 0), "version"),
    ("optimizer-bad-arg", _set(["optimizer", "config", "momentum"], 0.9), "optimizer.config.momentum"),
    ("optimizer-lr-negative", _set(["optimizer", "config", "lr"], -1.0), "optimizer"),
    ("optimizer-lr-string", _set(["optimizer", "config", "lr"], "fast"), "optimizer"),
    ("optimizer-beta-big", _set(["optimizer", "config", "beta1"], 5.0), "optimizer"),
    ("optimizer-t-negative", _set(["optimizer", "t"], -5), "optimizer.t"),
    ("optimizer-t-float", _set(["optimizer", "t"], 1.5), "optimizer.t"),
    ("optimizer-config-list", _set(["optimizer", "config"], [0.1]), "optimizer.config"),
    ("loss-bad-arg", _set(["loss", "config"], {"reduction": "sum"}), "loss.config.reduction"),
    ("loss-smoothing-big", _set(["loss", "config"], {"label_smoothing": 3.0}), "loss"),
    ("schedule-bad-arg", _set(["schedule", "config", "period"], 3), "schedule.config.period"),
    ("schedule-total-zero", _set(["schedule", "config", "total"], 0), "schedule"),
    ("schedule-missing-arg", lambda h: h["schedule"]["config"].pop("total") and h, "schedule.config.total: missing"),
    ("epochs-negative", _set(["state", "epochs_done"], -1), "state.epochs_done"),
    ("epochs-string", _set(["state", "epochs_done"], "3"), "state.epochs_done"),
    ("epochs-huge", _set(["state", "epochs_done"], 10**12), "state.epochs_done"),
    ("state-list", _set(["state"], []), "state"),
    ("metrics-list", _set(["metrics"], [0.5]), "metrics"),
    ("metrics-nested-deep", _set(["metrics"], NESTED), "nested deeper"),
    ("preprocessing-string", _set(["preprocessing"], "scale"), "preprocessing"),
    ("training-huge-string", _set(["training"], {"note": "x" * 20000}), "training.note"),
    ("training-too-many", _set(["training"], {"k": list(range(20000))}), "more than"),
    ("calibration-nan", _set(["calibration"], {"temperature": float("nan")}), "calibration.temperature"),
    ("calibration-list", _set(["calibration"], [1.5]), "calibration"),
    ("rejection-inf", _set(["rejection"], {"method": "max", "threshold": float("inf")}), "rejection.threshold"),
    ("rejection-deep", _set(["rejection"], NESTED), "nested deeper"),
    # class 2: sizes from the architecture, before allocating
    ("units-2-million", _layer(1, "units", 2_000_000), "the limit is 50,000,000"),
    ("units-huge-last", _layer(3, "units", 10**9), "the limit"),
    ("input-huge", _set(["architecture", "input_shape"], [65536, 65536]), "the limit is 8,388,608"),
    (
        "too-many-layers",
        lambda h: h["architecture"].update(layers=[{"class": "ReLU"}] * 300) or h,
        "at most 256 layers",
    ),
]


@pytest.mark.parametrize("change,fragment", [c[1:] for c in HEADER_CASES], ids=[c[0] for c in HEADER_CASES])
def test_bad_header_is_one_line_naming_the_field(model_file, tmp_path, change, fragment):
    bad = rewrite(model_file, tmp_path / "bad.npz", change_header=lambda h: change(copy.deepcopy(h)))
    before = open(bad, "rb").read()
    with bounded_memory():
        with pytest.raises(ModelFileError) as info:
            Sequential.load(bad)
    message = one_line(str(info.value))
    assert fragment in message and bad in message
    assert open(bad, "rb").read() == before  # loading never writes


def _arrays(change):
    return lambda a: change(dict(a)) or a


def _put(key, value):
    def change(a):
        a[key] = value
        return a

    return change


ARRAY_CASES = [
    ("weight-nan", _put("param/1.weight", np.full((784, 8), np.nan, np.float32)), "NaN or infinite"),
    ("weight-inf", _put("param/3.bias", np.array([np.inf] + [0.0] * 9, np.float32)), "NaN or infinite"),
    (
        "weight-one-nan",
        _put("param/3.weight", np.where(np.eye(8, 10) > 0, np.nan, 0).astype(np.float32)),
        "NaN or infinite",
    ),
    ("weight-complex", _put("param/1.bias", np.zeros(8, np.complex64)), "dtype complex64"),
    ("weight-int", _put("param/1.bias", np.zeros(8, np.int32)), "dtype int32"),
    ("weight-bool", _put("param/1.bias", np.zeros(8, bool)), "dtype bool"),
    ("weight-float16", _put("param/1.bias", np.zeros(8, np.float16)), "dtype float16"),
    ("weight-string", _put("param/1.bias", np.array(["a"] * 8)), "dtype <U1"),
    ("weight-wrong-shape", _put("param/1.weight", np.zeros((8, 784), np.float32)), "expected (784, 8)"),
    ("weight-scalar", _put("param/1.bias", np.float32(1)), "has shape ()"),
    ("weight-huge-shape", _put("param/1.bias", np.zeros((1 << 20,), np.float32)), "expected (8,)"),
    ("weight-missing", lambda a: a.pop("param/3.weight") is not None and a, "missing array 'param/3.weight'"),
    ("slot-nan", _put("optim/1.weight/m", np.full((784, 8), np.nan, np.float32)), "NaN or infinite"),
    ("slot-wrong-shape", _put("optim/1.weight/v", np.zeros(3, np.float32)), "optim/1.weight/v"),
]


@pytest.mark.parametrize("change,fragment", [c[1:] for c in ARRAY_CASES], ids=[c[0] for c in ARRAY_CASES])
def test_bad_arrays_are_refused_before_use(model_file, tmp_path, change, fragment):
    bad = rewrite(model_file, tmp_path / "bad.npz", change_arrays=_arrays(change))
    with bounded_memory():
        with pytest.raises(ModelFileError) as info:
            Sequential.load(bad)
    assert fragment in one_line(str(info.value))


def test_unnamed_compressed_bomb_is_never_read(model_file, tmp_path):
    """An extra, highly compressed 200 MB array the architecture does not name costs nothing."""
    arrays = arrays_of(model_file)
    header = arrays.pop("__header__")
    path = tmp_path / "bomb.npz"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        for key, value in arrays.items():
            z.writestr(f"{key}.npy", npy_bytes(value))
        z.writestr("__header__.npy", npy_bytes(header))
        with z.open("extra.npy", "w", force_zip64=True) as f:
            np.lib.format.write_array_header_1_0(f, {"descr": "<f8", "fortran_order": False, "shape": (25_000_000,)})
            zeros = bytes(1 << 20)
            for _ in range(200):
                f.write(zeros)
    assert os.path.getsize(path) < 5_000_000
    with bounded_memory(16 << 20):
        model = Sequential.load(path)
    assert model.n_params() > 0


def test_declared_member_size_must_match_npy_header(model_file, tmp_path):
    """A weight whose .npy header claims 100 M values (zip member sized to match nothing) is refused
    from the header alone."""
    arrays = arrays_of(model_file)
    header = arrays.pop("__header__")
    members = {f"{k}.npy": npy_bytes(v) for k, v in arrays.items()}
    members["__header__.npy"] = npy_bytes(header)
    import io as stdio

    fake = stdio.BytesIO()
    np.lib.format.write_array_header_1_0(fake, {"descr": "<f4", "fortran_order": False, "shape": (784, 8)})
    members["param/1.weight.npy"] = fake.getvalue() + b"\0" * 100  # header right, data short
    path = write_zip_member(tmp_path / "short.npz", members)
    with pytest.raises(ModelFileError, match="zip member holds"):
        Sequential.load(path)


ZIP_CASES = [
    ("empty-file", b"", "not a digitnet model file"),
    ("text-file", b"hello world", "not a digitnet model file"),
    ("pickle", b"\x80\x04\x95\x00\x00", "not a digitnet model file"),
    ("zip-without-header", None, "no __header__"),
    ("header-not-json", b"{not json", "not UTF-8 JSON"),
    ("header-not-utf8", b"\xff\xfe\x00", "not UTF-8 JSON"),
    ("header-json-list", b"[1, 2, 3]", "header"),
    ("header-json-string", b'"digitnet"', "header"),
    ("header-deep-json", b"[" * 100_000 + b"]" * 100_000, "not UTF-8 JSON"),
    ("header-huge-int", b'{"format": "digitnet-model", "version": ' + b"9" * 5000 + b"}", "not UTF-8 JSON"),
    ("header-nan-literal", b'{"format": "digitnet-model", "version": NaN}', "version"),
]


@pytest.mark.parametrize("raw,fragment", [c[1:] for c in ZIP_CASES], ids=[c[0] for c in ZIP_CASES])
def test_damaged_containers(tmp_path, raw, fragment):
    path = tmp_path / "bad.npz"
    if raw is None:
        np.savez(path, a=np.zeros(3))
    elif raw[:1] in (b"{", b"[", b'"', b"\xff"):
        write_model(path, raw_header=raw)
    else:
        path.write_bytes(raw)
    with bounded_memory():
        with pytest.raises(ModelFileError) as info:
            Sequential.load(path)
    assert fragment in one_line(str(info.value))


def test_header_too_large_is_refused_unread(tmp_path):
    path = write_model(tmp_path / "big.npz", raw_header=b" " * (modelschema.MAX_HEADER_BYTES + 1))
    with pytest.raises(ModelFileError, match="the limit is"):
        Sequential.load(path)


def test_header_array_of_wrong_dtype(tmp_path):
    path = tmp_path / "h.npz"
    np.savez(path, __header__=np.zeros(4, np.float64))
    with pytest.raises(ModelFileError, match="expected uint8 bytes of JSON"):
        Sequential.load(path)


def test_truncated_copies_are_all_refused(model_file, tmp_path):
    raw = open(model_file, "rb").read()
    for cut in (10, 100, len(raw) // 3, len(raw) // 2, len(raw) - 30, len(raw) - 1):
        path = tmp_path / f"cut{cut}.npz"
        path.write_bytes(raw[:cut])
        with pytest.raises(ModelFileError):
            Sequential.load(path)


def test_folder_and_missing_path(tmp_path):
    with pytest.raises(ModelFileError, match="is a folder"):
        modelfile.load(tmp_path, Sequential)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        Sequential.load(tmp_path / "nope.npz")


def test_nan_metric_from_an_old_file_becomes_null(model_file, tmp_path):
    bad = rewrite(model_file, tmp_path / "nan.npz", change_header=_set(["metrics", "val_loss"], float("nan")))
    model = Sequential.load(bad)
    assert model.metrics["val_loss"] is None
    model.metrics["test_loss"] = float("inf")
    again = model.save(tmp_path / "again.npz")
    assert header_of(again)["metrics"]["test_loss"] is None  # files we write never carry NaN


@pytest.mark.parametrize(
    "outputs,rejection,ok",
    [
        (7, None, False),
        (10, None, True),
        (11, None, False),
        (11, {"method": "max", "threshold": 0.5, "reject_class": 10}, True),
        (10, {"method": "max", "threshold": 0.5, "reject_class": 10}, False),
        (1, None, False),
    ],
)
def test_digit_models_have_10_outputs_or_11_with_a_reject_class(tmp_path, outputs, rejection, ok):
    model = tiny_model(outputs=outputs, optimizer=False)
    model.rejection = rejection or {}
    path = model.save(tmp_path / "m.npz")
    if ok:
        assert digitmodel.load(path).layers[-1].output_shape == (outputs,)
    else:
        with pytest.raises(ModelFileError) as info:
            digitmodel.load(path)
        assert f"output shape ({outputs},)" in one_line(str(info.value))


def test_digit_model_input_must_be_784(tmp_path):
    model = Sequential([Dense(10)], input_shape=(100,))
    path = model.save(tmp_path / "m.npz")
    with pytest.raises(ModelFileError, match="28x28"):
        digitmodel.load(path)


CLI_FILES = ["rng-test-runner", "units-2-million", "layer-unknown-arg", "missing-architecture"]


@pytest.mark.parametrize("case", CLI_FILES)
@pytest.mark.parametrize("command", ["info", "predict", "evaluate"])
def test_commands_refuse_bad_model_files_in_one_line(model_file, tmp_path, capsys, case, command):
    change = dict((c[0], c[1]) for c in HEADER_CASES)[case]
    bad = rewrite(model_file, tmp_path / "bad.npz", change_header=lambda h: change(copy.deepcopy(h)))
    argv = {
        "info": ["info", bad],
        "predict": ["predict", bad, tmp_path / "none.png"],
        "evaluate": ["evaluate", bad, "--images", tmp_path],
    }[command]
    line = cli_error(capsys, argv)
    assert "bad.npz" in line


def test_nn_load_and_save_still_work(tmp_path):
    import digitnet.nn as nn

    model = tiny_model()
    path = nn.save(model, tmp_path / "m")
    again = nn.load(path)
    assert again.epochs_done == model.epochs_done and again.optimizer.t == model.optimizer.t
    np.testing.assert_array_equal(again.parameters()[0][1], model.parameters()[0][1])
    assert nn.read_header(path)["format"] == "digitnet-model"


def test_info_describes_any_model_but_predict_wants_a_digit_model(tmp_path, capsys):
    from digitnet.cli import main

    path = tiny_model(outputs=7, optimizer=False).save(tmp_path / "seven.npz")
    assert main(["info", str(path)]) == 0
    capsys.readouterr()
    assert "a digit model has 10 outputs" in cli_error(capsys, ["predict", path, tmp_path / "x.png"])


@pytest.mark.parametrize(
    "spec,fragment",
    [
        ({"scale": "abc"}, "preprocessing.scale"),
        ({"std": 0}, "preprocessing.std"),
        ({"mean": 1e300}, "preprocessing.mean"),
        ({"layout": "nchw"}, "preprocessing.layout"),
        ({"scale": True}, "preprocessing.scale"),
    ],
    ids=["scale-string", "std-zero", "mean-huge", "layout-unknown", "scale-bool"],
)
def test_digit_model_preprocessing_must_be_applicable(tmp_path, capsys, spec, fragment):
    model = tiny_model(optimizer=False)
    model.preprocessing = {"scale": 1 / 255, "layout": "image", **spec}
    path = model.save(tmp_path / "m.npz")
    assert fragment in cli_error(capsys, ["predict", path, tmp_path / "x.png"])

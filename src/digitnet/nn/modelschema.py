"""The schema of a model file's JSON header, and the size limits checked before anything is allocated.

``check_header(header)`` raises ``SchemaError("<field>: <what was found>; expected <what>")`` for the
first problem; ``digitnet.nn.modelfile`` prefixes the file name. What is checked:

    format, version          "digitnet-model", an int 1..VERSION
    architecture             {name: str, input_shape: 1-4 positive ints, dtype: float32|float64,
                              seed: int >= 0 | null, layers: [{class, config}] (at most MAX_LAYERS)}
    layers[i].class          one of digitnet.nn.layers' own classes (never a name looked up elsewhere)
    layers[i].config         only that class's constructor arguments, each of its annotated JSON type;
                             "init" one of digitnet.nn.init's initialisers; then the constructor's own checks
    sizes                    every layer's output at most MAX_ACTIVATION values per sample; parameters and
                             buffers at most MAX_PARAMETERS values in all (from ``Layer.param_shapes``)
    loss / optimizer / schedule   null or {name|class from digitnet.nn's own registries, config: that class's
                             constructor arguments}; optimizer.t an int >= 0
    state                    {epochs_done: int 0..MAX_EPOCHS, rng: {bit_generator: one of BIT_GENERATORS, ...}}
    preprocessing, training, metrics, calibration, rejection
                             bounded JSON objects: string keys; strings, finite numbers, bools, null, lists,
                             objects; depth <= MAX_JSON_DEPTH, <= MAX_JSON_ITEMS values, strings <= MAX_STRING.
                             Non-finite metrics (an old file's NaN) are replaced by null, never passed on.

Unknown top-level keys are refused, so a file never carries data this version would silently ignore.
"""

from __future__ import annotations

import inspect
import math
import numbers

from digitnet.nn import init, losses, optim, schedules
from digitnet.nn.layers import __all__ as _LAYER_NAMES
from digitnet.nn.layers.base import Layer

FORMAT = "digitnet-model"
VERSION = 1

MAX_HEADER_BYTES = 1 << 20  # bytes of JSON header
MAX_PARAMETERS = 50_000_000  # values in all parameters and buffers together (200 MB as float32)
MAX_ACTIVATION = 1 << 23  # values per sample in any layer's output (8,388,608)
MAX_LAYERS = 256
MAX_JSON_DEPTH = 8  # nesting of the free-form objects
MAX_JSON_ITEMS = 10_000  # values in one free-form object, all levels together
MAX_STRING = 10_000  # characters in one string
MAX_EPOCHS = 10**9
MAX_SIDE = 1 << 16  # any one input dimension
BIT_GENERATORS = ("PCG64", "PCG64DXSM", "Philox", "SFC64", "MT19937")
TOP_LEVEL = (
    "format",
    "version",
    "architecture",
    "preprocessing",
    "training",
    "metrics",
    "loss",
    "optimizer",
    "schedule",
    "state",
    "calibration",
    "rejection",
)
LEGACY_ARGUMENTS = {"init": "weight_init"}  # old constructor-argument name -> the name it has now
FREE_FORM = ("preprocessing", "training", "metrics", "calibration", "rejection")


class SchemaError(ValueError):
    """One problem in a model header: the field and what was expected."""


# --- allow-lists: names a file may carry -> digitnet.nn's own classes --------
def _own(registry: dict, module: str) -> dict:
    return {k: v for k, v in registry.items() if v.__module__ == module}


# names are checked against the reference tier: every tier has the same names, constructors and configs
LAYERS = {name: Layer.registry["reference"][name] for name in _LAYER_NAMES if name != "Layer"}
OPTIMIZERS = _own(optim.Optimizer.registry["reference"], "digitnet.nn.optim")  # lower-case names
SCHEDULES = _own(schedules.Schedule.registry, "digitnet.nn.schedules")  # lower-case names
LOSSES = dict(losses.LOSSES)
INITIALISERS = tuple(sorted(init.INITIALISERS)) + tuple(sorted(init.ALIASES))


def constructor_arguments(cls) -> dict[str, inspect.Parameter]:
    """{name: Parameter} a class's constructor accepts, following ``**kwargs`` up the MRO."""
    found = {}
    for klass in cls.__mro__:
        if klass is object or "__init__" not in vars(klass):
            continue
        params = list(inspect.signature(vars(klass)["__init__"]).parameters.values())[1:]
        for p in params:
            if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY):
                found.setdefault(p.name, p)
        if not any(p.kind == p.VAR_KEYWORD for p in params):
            break
    return found


# --- small checks ----------------------------------------------------------
def _fail(where: str, value, expected: str):
    shown = repr(value)
    if len(shown) > 60:
        shown = shown[:57] + "..."
    raise SchemaError(f"{where}: got {shown}; expected {expected}")


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v) -> bool:
    return isinstance(v, numbers.Real) and not isinstance(v, bool) and math.isfinite(v)


def _object(where, value, required=(), optional=()):
    if not isinstance(value, dict):
        _fail(where, value, "a JSON object")
    allowed = set(required) | set(optional)
    for key in value:
        if key not in allowed:
            _fail(f"{where}.{key}", value[key], f"no such field (allowed: {', '.join(sorted(allowed))})")
    for key in required:
        if key not in value:
            raise SchemaError(f"{where}.{key}: missing; the field is required")
    return value


def bounded_json(where: str, value, depth: int = 0, budget=None, finite: bool = True):
    """Check ``value`` is small plain JSON; returns it (non-finite numbers -> None when not ``finite``)."""
    budget = budget if budget is not None else [MAX_JSON_ITEMS]
    budget[0] -= 1
    if budget[0] < 0:
        raise SchemaError(f"{where}: more than {MAX_JSON_ITEMS} values; expected a small JSON object")
    if depth > MAX_JSON_DEPTH:
        raise SchemaError(f"{where}: nested deeper than {MAX_JSON_DEPTH} levels")
    if value is None or isinstance(value, bool) or _is_int(value):
        return value
    if isinstance(value, float):
        if math.isfinite(value):
            return value
        if finite:
            _fail(where, value, "a finite number")
        return None
    if isinstance(value, str):
        if len(value) > MAX_STRING:
            _fail(where, value, f"a string of at most {MAX_STRING} characters")
        return value
    if isinstance(value, list):
        return [bounded_json(f"{where}[{i}]", v, depth + 1, budget, finite) for i, v in enumerate(value)]
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if len(k) > 200:
                _fail(where, k, "keys of at most 200 characters")
            out[k] = bounded_json(f"{where}.{k}", v, depth + 1, budget, finite)
        return out
    _fail(where, value, "JSON data")


_TYPE_CHECKS = {
    "bool": (lambda v: isinstance(v, bool), "a bool"),
    "int": (_is_int, "an int"),
    "float": (_is_number, "a finite number"),
    "str": (lambda v: isinstance(v, str), "a string"),
}


def _check_argument(where: str, param: inspect.Parameter, value):
    """A constructor argument from a file: of its annotated JSON type (or null if that is allowed)."""
    bounded_json(where, value)
    if value is None and (param.default is None or "None" in str(param.annotation)):
        return
    annotation = param.annotation if isinstance(param.annotation, str) else ""
    kinds = [t.strip() for t in annotation.split("|") if t.strip() in _TYPE_CHECKS]
    if kinds and not any(_TYPE_CHECKS[k][0](value) for k in kinds):
        _fail(where, value, " or ".join(_TYPE_CHECKS[k][1] for k in kinds))
    if param.name in ("init", "weight_init") and value is not None and value not in INITIALISERS:
        _fail(where, value, f"an initialiser: one of {', '.join(INITIALISERS)}")


def _arguments(where: str, cls, config) -> dict:
    if config is None:
        config = {}
    if not isinstance(config, dict):
        _fail(where, config, "a JSON object of constructor arguments")
    accepted = constructor_arguments(cls)
    for old, new in LEGACY_ARGUMENTS.items():  # files written before an argument was renamed
        if old in config and new in accepted and new not in config:
            config = {(new if k == old else k): v for k, v in config.items()}
    for key, value in config.items():
        if key not in accepted:
            _fail(f"{where}.{key}", value, f"an argument of {cls.__name__} ({', '.join(accepted) or 'it takes none'})")
        _check_argument(f"{where}.{key}", accepted[key], value)
    for name, p in accepted.items():
        if p.default is inspect.Parameter.empty and name not in config:
            raise SchemaError(f"{where}.{name}: missing; {cls.__name__} needs it")
    return config


def _construct(where: str, cls, config):
    try:
        return cls(**config)
    except (ValueError, TypeError, OverflowError, KeyError, IndexError) as exc:
        raise SchemaError(f"{where}: {' '.join(str(exc).split())[:200]}") from None


def _named(where: str, value, table: dict, key: str, lower: bool):
    name = value.get(key)
    look = name.lower() if lower and isinstance(name, str) else name
    if not isinstance(name, str) or look not in table:
        _fail(f"{where}.{key}", name, f"one of {', '.join(sorted(table))}")
    return table[look]


# --- the header ------------------------------------------------------------
def check_header(header) -> dict:
    """Validate a parsed header in place (non-finite metrics become null); returns it."""
    if not isinstance(header, dict):
        _fail("header", header, "a JSON object")
    if header.get("format") != FORMAT:
        raise SchemaError(f"format {header.get('format')!r} is not {FORMAT!r}")
    version = header.get("version")
    if not _is_int(version) or version < 1:
        _fail("version", version, f"an int 1..{VERSION}")
    if version > VERSION:
        raise SchemaError(
            f"written by a newer digitnet (format version {version}); "
            f"this version reads up to {VERSION} — upgrade digitnet"
        )
    _object("header", header, required=("format", "version", "architecture"), optional=TOP_LEVEL)
    check_architecture(header["architecture"])
    for key in FREE_FORM:
        value = header.get(key)
        if value is not None:
            if not isinstance(value, dict):
                _fail(key, value, "a JSON object")
            header[key] = bounded_json(key, value, finite=key != "metrics")
    if header.get("loss") is not None:
        loss = _object("loss", header["loss"], required=("name",), optional=("name", "config"))
        cls = _named("loss", loss, LOSSES, "name", lower=False)
        _construct("loss", cls, _arguments("loss.config", cls, loss.get("config")))
    if header.get("optimizer") is not None:
        o = _object("optimizer", header["optimizer"], required=("class",), optional=("config", "t"))
        cls = _named("optimizer", o, OPTIMIZERS, "class", lower=True)
        _construct("optimizer", cls, _arguments("optimizer.config", cls, o.get("config")))
        if not _is_int(o.get("t", 0)) or not 0 <= o.get("t", 0) <= 10**15:
            _fail("optimizer.t", o.get("t"), "a step count: an int >= 0")
    if header.get("schedule") is not None:
        s = _object("schedule", header["schedule"], required=("name",), optional=("config",))
        cls = _named("schedule", s, SCHEDULES, "name", lower=True)
        _construct("schedule", cls, _arguments("schedule.config", cls, s.get("config")))
    if header.get("state") is not None:
        state = _object("state", header["state"], optional=("epochs_done", "rng"))
        done = state.get("epochs_done", 0)
        if not _is_int(done) or not 0 <= done <= MAX_EPOCHS:
            _fail("state.epochs_done", done, f"an int 0..{MAX_EPOCHS}")
        rng = state.get("rng")
        if rng is not None:
            if not isinstance(rng, dict) or not rng:
                _fail("state.rng", rng, "a bit generator state object")
            if rng.get("bit_generator") not in BIT_GENERATORS:
                _fail("state.rng.bit_generator", rng.get("bit_generator"), f"one of {', '.join(BIT_GENERATORS)}")
            for key, value in rng.items():
                if key not in (
                    "bit_generator",
                    "state",
                    "has_uint32",
                    "uinteger",
                    "buffer",
                    "buffer_pos",
                    "has_gauss",
                    "gauss",
                ):
                    _fail(f"state.rng.{key}", value, "a field of a NumPy bit generator state")
            header["state"]["rng"] = _without_limits(rng)
    return header


def _without_limits(rng: dict) -> dict:
    """A bit generator state holds 128-bit ints and MT19937's 624-word key: JSON, bounded in size only."""
    budget = [MAX_JSON_ITEMS]

    def walk(where, v, depth):
        budget[0] -= 1
        if budget[0] < 0 or depth > 4:
            raise SchemaError(f"{where}: too large for a bit generator state")
        if isinstance(v, dict):
            return {k: walk(f"{where}.{k}", x, depth + 1) for k, x in v.items()}
        if isinstance(v, list):
            return [walk(f"{where}[{i}]", x, depth + 1) for i, x in enumerate(v)]
        if v is None or isinstance(v, (bool, int, str)) or (isinstance(v, float) and math.isfinite(v)):
            return v
        _fail(where, v, "ints, strings or finite numbers")

    return walk("state.rng", rng, 0)


def check_architecture(arch) -> list:
    """Validate ``Sequential.get_config()`` from a file, sizes included; returns the layer objects built
    from it (constructors only: no parameters are allocated)."""
    _object(
        "architecture",
        arch,
        required=("layers", "input_shape"),
        optional=("name", "input_shape", "dtype", "seed", "layers"),
    )
    name = arch.get("name", "model")
    if not isinstance(name, str) or len(name) > 200:
        _fail("architecture.name", name, "a string of at most 200 characters")
    if arch.get("dtype", "float32") not in ("float32", "float64"):
        _fail("architecture.dtype", arch.get("dtype"), "'float32' or 'float64'")
    seed = arch.get("seed", 0)
    if seed is not None and (not _is_int(seed) or not 0 <= seed < 2**63):
        _fail("architecture.seed", seed, "null or an int 0..2**63-1")
    shape = arch["input_shape"]
    if (
        not isinstance(shape, list)
        or not 1 <= len(shape) <= 4
        or not all(_is_int(d) and 1 <= d <= MAX_SIDE for d in shape)
    ):
        _fail("architecture.input_shape", shape, f"a list of 1 to 4 ints in 1..{MAX_SIDE}")
    _check_activation("architecture.input_shape", tuple(shape))
    layers = arch["layers"]
    if not isinstance(layers, list) or len(layers) > MAX_LAYERS:
        _fail("architecture.layers", layers, f"a list of at most {MAX_LAYERS} layers")
    built, shape, total = [], tuple(shape), 0
    for i, spec in enumerate(layers):
        where = f"architecture.layers[{i}]"
        spec = _object(where, spec, required=("class",), optional=("class", "config"))
        cls = _named(where, spec, LAYERS, "class", lower=False)
        layer = _construct(where, cls, _arguments(f"{where}.config", cls, spec.get("config")))
        try:
            arrays = layer.param_shapes(shape)
            out = tuple(int(d) for d in layer.compute_output_shape(shape))
        except (ValueError, TypeError, IndexError, OverflowError) as exc:
            raise SchemaError(
                f"{where} ({cls.__name__}) on input {shape}: {' '.join(str(exc).split())[:200]}"
            ) from None
        total += sum(math.prod(s) for s in arrays.values())
        if total > MAX_PARAMETERS:
            raise SchemaError(
                f"{where} ({cls.__name__}): the model would hold {total:,} parameter values "
                f"by this layer; the limit is {MAX_PARAMETERS:,}"
            )
        _check_activation(where, out)
        built.append(layer)
        shape = out
    return built


def _check_activation(where, shape):
    if not all(_is_int(d) and d >= 1 for d in shape):
        _fail(where, shape, "an output shape of positive sizes")
    if math.prod(shape) > MAX_ACTIVATION:
        raise SchemaError(
            f"{where}: output shape {shape} holds {math.prod(shape):,} values per sample; "
            f"the limit is {MAX_ACTIVATION:,}"
        )

"""The engine contract, run against every engine: the same tiny models through each engine's
bindings (the caller's buffers, no copies), compared with ``onnxruntime.InferenceSession.run``.

Tolerances: the onnxruntime engine must equal the reference exactly; another engine at
``"f32"`` within ``rtol=1e-5, atol=1e-6`` on floating-point outputs (different kernels sum
in other orders) and exactly on integer and boolean outputs.
"""

from __future__ import annotations

import importlib.util
import threading
import time

import numpy as np
import onnxruntime as ort
import pytest
from onnx import TensorProto as T
from onnx import helper, numpy_helper

from openacl.engines import get_engine

ENGINES = [pytest.param("onnxruntime", id="onnxruntime"),
           pytest.param("openvino", id="openvino", marks=pytest.mark.skipif(
               importlib.util.find_spec("openvino") is None, reason="openvino not installed"))]

BF16 = int(T.BFLOAT16)


# ---------------------------------------------------------------------- models
def _model(nodes, inputs, outputs, initializers=()):
    graph = helper.make_graph(nodes, "contract", inputs, outputs, list(initializers))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model.SerializeToString()


def _io(name, elem, shape):
    return helper.make_tensor_value_info(name, elem, shape)


def multi_io_model() -> bytes:
    """a, b [2,3] -> s = a + b, p = relu(a * b) [2,3], m = a @ b^T [2,2]."""
    return _model([helper.make_node("Add", ["a", "b"], ["s"]),
                   helper.make_node("Mul", ["a", "b"], ["ab"]),
                   helper.make_node("Relu", ["ab"], ["p"]),
                   helper.make_node("Transpose", ["b"], ["bt"], perm=[1, 0]),
                   helper.make_node("MatMul", ["a", "bt"], ["m"])],
                  [_io("a", T.FLOAT, [2, 3]), _io("b", T.FLOAT, [2, 3])],
                  [_io("s", T.FLOAT, [2, 3]), _io("p", T.FLOAT, [2, 3]), _io("m", T.FLOAT, [2, 2])])


def dynamic_model() -> bytes:
    """x [n,3] -> y = relu(x) * 2 + 1 [n,3], r = sum over axis 1 [n]."""
    two = numpy_helper.from_array(np.array(2, np.float32), "two")
    one = numpy_helper.from_array(np.array(1, np.float32), "one")
    axes = numpy_helper.from_array(np.array([1], np.int64), "axes")
    return _model([helper.make_node("Relu", ["x"], ["rx"]),
                   helper.make_node("Mul", ["rx", "two"], ["m"]),
                   helper.make_node("Add", ["m", "one"], ["y"]),
                   helper.make_node("ReduceSum", ["x", "axes"], ["r"], keepdims=0)],
                  [_io("x", T.FLOAT, ["n", 3])],
                  [_io("y", T.FLOAT, ["n", 3]), _io("r", T.FLOAT, ["n"])], [two, one, axes])


def data_dependent_model() -> bytes:
    """x [n] -> nz = NonZero(x) [1, ?] int64, h = bfloat16(x) [n]: outputs the engine sizes."""
    return _model([helper.make_node("NonZero", ["x"], ["nz"]),
                   helper.make_node("Cast", ["x"], ["h"], to=T.BFLOAT16)],
                  [_io("x", T.FLOAT, ["n"])],
                  [_io("nz", T.INT64, [1, None]), _io("h", T.BFLOAT16, ["n"])])


def slow_model(size=384, depth=24) -> bytes:
    """x [size,size] -> a chain of ``depth`` MatMuls with tanh: tens of milliseconds."""
    rng = np.random.default_rng(1)
    nodes, weights, value = [], [], "x"
    for i in range(depth):
        weights.append(numpy_helper.from_array(
            (rng.standard_normal((size, size)) / size ** 0.5).astype(np.float32), f"w{i}"))
        nodes += [helper.make_node("MatMul", [value, f"w{i}"], [f"m{i}"]),
                  helper.make_node("Tanh", [f"m{i}"], [f"t{i}"])]
        value = f"t{i}"
    nodes.append(helper.make_node("Identity", [value], ["y"]))
    return _model(nodes, [_io("x", T.FLOAT, [size, size])], [_io("y", T.FLOAT, [size, size])],
                  weights)


def _bf16_bits(values: np.ndarray) -> np.ndarray:
    """float32 -> bfloat16 bit patterns, rounding to nearest even (as Cast does)."""
    bits = values.astype(np.float32).view(np.uint32).astype(np.uint64)
    return ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16).astype(np.uint16)


def _bf16_values(bits: np.ndarray) -> np.ndarray:
    return (bits.astype(np.uint32) << 16).view(np.float32)


# Per dtype: (model, feeds, numpy reference of the outputs). Every model moves or computes
# in its own type; float16 is moved and widened (an engine may refuse float16 arithmetic:
# see test_half_precision_arithmetic_runs_or_is_refused).
def _dtype_cases():
    cases = {}
    x = np.array([[1.5, -2.25, 3.0], [0.5, 8.0, -1.0]], np.float32)
    two = numpy_helper.from_array(np.array(2, np.float32), "k")
    cases["float32"] = (_model([helper.make_node("Mul", ["x", "k"], ["y"])],
                               [_io("x", T.FLOAT, [2, 3])], [_io("y", T.FLOAT, [2, 3])], [two]),
                        {"x": x}, [x * 2])
    h = x.astype(np.float16)
    cases["float16"] = (_model([helper.make_node("Concat", ["x", "x"], ["y"], axis=0),
                                helper.make_node("Cast", ["x"], ["z"], to=T.FLOAT)],
                               [_io("x", T.FLOAT16, [2, 3])],
                               [_io("y", T.FLOAT16, [4, 3]), _io("z", T.FLOAT, [2, 3])]),
                        {"x": h}, [np.concatenate([h, h]), h.astype(np.float32)])
    for name, elem, dtype in (("int32", T.INT32, np.int32), ("int64", T.INT64, np.int64)):
        k = numpy_helper.from_array(np.array(3, dtype), "k")
        one = numpy_helper.from_array(np.array(1, dtype), "one")
        v = np.array([[7, -4, 0], [100000, -9, 12]], dtype)
        cases[name] = (_model([helper.make_node("Mul", ["x", "k"], ["m"]),
                               helper.make_node("Add", ["m", "one"], ["y"])],
                              [_io("x", elem, [2, 3])], [_io("y", elem, [2, 3])], [k, one]),
                       {"x": v}, [v * 3 + 1])
    u = np.array([[0, 1, 2], [100, 127, 200]], np.uint8)
    k = numpy_helper.from_array(np.array(5, np.uint8), "k")
    cases["uint8"] = (_model([helper.make_node("Add", ["x", "k"], ["y"])],
                             [_io("x", T.UINT8, [2, 3])], [_io("y", T.UINT8, [2, 3])], [k]),
                      {"x": u}, [u + np.uint8(5)])
    b = np.array([[True, False, True], [False, False, True]])
    c = np.array([[True, True, False], [False, True, True]])
    cases["bool"] = (_model([helper.make_node("Not", ["x"], ["n"]),
                             helper.make_node("And", ["n", "c"], ["y"])],
                            [_io("x", T.BOOL, [2, 3]), _io("c", T.BOOL, [2, 3])],
                            [_io("y", T.BOOL, [2, 3])]),
                     {"x": b, "c": c}, [~b & c])
    bits = _bf16_bits(x)
    cases["bfloat16"] = (_model([helper.make_node("Cast", ["x"], ["w"], to=T.FLOAT),
                                 helper.make_node("Mul", ["w", "k"], ["m"]),
                                 helper.make_node("Cast", ["m"], ["y"], to=T.BFLOAT16)],
                                [_io("x", T.BFLOAT16, [2, 3])], [_io("y", T.BFLOAT16, [2, 3])],
                                [two]),
                         {"x": bits}, [_bf16_bits(_bf16_values(bits) * 2)])
    return cases


DTYPE_CASES = _dtype_cases()
ONNX_TYPE = {"tensor(bfloat16)": BF16}


# ---------------------------------------------------------------------- helpers
def _reference(model: bytes, feeds: dict) -> list[np.ndarray]:
    session = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
    return session.run(None, feeds)


def _engine_type(array: np.ndarray, bf16: bool = False):
    return BF16 if bf16 else array.dtype


def _bind(session, binding, feeds: dict, outputs: dict, bf16=()):
    for name, array in feeds.items():
        binding.bind_input(name, _engine_type(array, name in bf16), array.shape,
                           array.ctypes.data)
    for name, array in outputs.items():
        binding.bind_output(name, _engine_type(array, name in bf16), array.shape,
                            array.ctypes.data)


def _assert_matches(engine: str, got, expected):
    for g, e in zip(got, expected, strict=True):
        assert g.shape == e.shape and g.dtype == e.dtype, (g.shape, g.dtype, e.shape, e.dtype)
        if engine == "onnxruntime" or not np.issubdtype(g.dtype, np.floating):
            np.testing.assert_array_equal(g, e)
        else:
            np.testing.assert_allclose(g, e, rtol=1e-5, atol=1e-6)


def _feeds_multi(seed=0):
    rng = np.random.default_rng(seed)
    return {"a": rng.standard_normal((2, 3)).astype(np.float32),
            "b": rng.standard_normal((2, 3)).astype(np.float32)}


def _outputs_multi():
    return {"s": np.full((2, 3), np.nan, np.float32), "p": np.full((2, 3), np.nan, np.float32),
            "m": np.full((2, 2), np.nan, np.float32)}


# ---------------------------------------------------------------------- the contract
@pytest.mark.parametrize("engine", ENGINES)
def test_describes_inputs_and_outputs(engine):
    session = get_engine(engine).load(dynamic_model())
    assert [(s.name, s.dtype, s.shape) for s in session.inputs] == [("x", np.float32, (None, 3))]
    assert [(s.name, s.dtype, s.shape) for s in session.outputs] == [
        ("y", np.float32, (None, 3)), ("r", np.float32, (None,))]
    assert session.precision == "f32"
    session.close()
    session.close()                                   # idempotent


@pytest.mark.parametrize("engine", ENGINES)
def test_static_model_with_several_inputs_and_outputs_runs_in_place(engine):
    model = multi_io_model()
    session = get_engine(engine).load(model)
    feeds, outputs = _feeds_multi(), _outputs_multi()
    binding = session.new_binding()
    _bind(session, binding, feeds, outputs)
    session.run(binding)
    # The results are in the caller's buffers: nothing else was read back.
    _assert_matches(engine, list(outputs.values()), _reference(model, feeds))
    session.close()


@pytest.mark.parametrize("engine", ENGINES)
def test_inputs_are_read_in_place_at_every_run(engine):
    """Mutating the bound input buffers between two runs changes the results: the engine
    reads the caller's memory at each run, it kept no copy at bind time."""
    model = multi_io_model()
    session = get_engine(engine).load(model)
    feeds, outputs = _feeds_multi(), _outputs_multi()
    binding = session.new_binding()
    _bind(session, binding, feeds, outputs)
    run = session.runner(binding)
    run()
    first = {name: array.copy() for name, array in outputs.items()}
    new = _feeds_multi(seed=7)
    for name in feeds:
        feeds[name][...] = new[name]                  # the same memory, other values
    run()
    assert not np.array_equal(first["s"], outputs["s"])
    _assert_matches(engine, list(outputs.values()), _reference(model, new))
    session.close()


@pytest.mark.parametrize("engine", ENGINES)
def test_rebinding_a_binding_follows_the_new_buffers(engine):
    model = multi_io_model()
    session = get_engine(engine).load(model)
    binding = session.new_binding()
    feeds, outputs = _feeds_multi(), _outputs_multi()
    _bind(session, binding, feeds, outputs)
    session.run(binding)
    other_feeds, other_outputs = _feeds_multi(seed=3), _outputs_multi()
    _bind(session, binding, other_feeds, other_outputs)
    session.run(binding)
    _assert_matches(engine, list(other_outputs.values()), _reference(model, other_feeds))
    # The first outputs were not written again.
    _assert_matches(engine, list(outputs.values()), _reference(model, feeds))
    session.close()


@pytest.mark.parametrize("engine", ENGINES)
def test_dynamic_shapes_bind_concrete_shapes(engine):
    model = dynamic_model()
    session = get_engine(engine).load(model)
    binding = session.new_binding()
    for n in (2, 5, 1):                               # one binding, rebound per shape
        x = np.linspace(-3, 3, n * 3, dtype=np.float32).reshape(n, 3)
        outputs = {"y": np.full((n, 3), np.nan, np.float32),
                   "r": np.full((n,), np.nan, np.float32)}
        _bind(session, binding, {"x": x}, outputs)
        session.run(binding)
        _assert_matches(engine, list(outputs.values()), _reference(model, {"x": x}))
        # A binding made for this shape alone gives the same.
        fresh = session.new_binding()
        again = {name: np.full_like(array, np.nan) for name, array in outputs.items()}
        _bind(session, fresh, {"x": x}, again)
        session.run(fresh)
        _assert_matches(engine, list(again.values()), list(outputs.values()))
    session.close()


@pytest.mark.parametrize("dtype", list(DTYPE_CASES))
@pytest.mark.parametrize("engine", ENGINES)
def test_every_element_type_binds_and_runs(engine, dtype):
    model, feeds, expected = DTYPE_CASES[dtype]
    session = get_engine(engine).load(model)
    bf16 = {"x", "y"} if dtype == "bfloat16" else set()
    outputs = {spec.name: np.zeros(e.shape, e.dtype) for spec, e in zip(session.outputs,
                                                                        expected)}
    binding = session.new_binding()
    _bind(session, binding, feeds, outputs, bf16)
    session.run(binding)
    _assert_matches(engine, list(outputs.values()), expected)
    if dtype != "bfloat16":                          # onnxruntime's run() has no bfloat16
        _assert_matches(engine, list(outputs.values()), _reference(model, feeds))
    session.close()


@pytest.mark.parametrize("engine", ENGINES)
def test_engine_allocated_outputs_of_data_dependent_shape(engine):
    model = data_dependent_model()
    session = get_engine(engine).load(model)
    binding = session.new_binding()
    binding.bind_output_to_engine("nz")
    binding.bind_output_to_engine("h")
    # One binding, its input rebound with another shape: the outputs follow.
    for x in (np.array([0, 1.5, 0, -2, 3.25], np.float32), np.array([7, 0], np.float32)):
        binding.bind_input("x", np.float32, x.shape, x.ctypes.data)
        session.run(binding)
        nz, h = binding.engine_outputs()
        np.testing.assert_array_equal(nz, np.array([np.nonzero(x)[0]], np.int64))
        assert h.dtype == np.uint16                   # bfloat16: raw 2-byte values
        np.testing.assert_array_equal(h, _bf16_bits(x))
    session.close()


@pytest.mark.parametrize("engine", ENGINES)
def test_two_bindings_run_concurrently_on_two_threads(engine):
    model = multi_io_model()
    session = get_engine(engine).load(model)
    start = threading.Barrier(2)
    failures = []

    def worker(seed):
        try:
            feeds, outputs = _feeds_multi(seed), _outputs_multi()
            binding = session.new_binding()
            _bind(session, binding, feeds, outputs)
            expected = _reference(model, feeds)
            run = session.runner(binding)
            start.wait(timeout=30)
            for _ in range(300):
                run()
                _assert_matches(engine, list(outputs.values()), expected)
        except BaseException as error:  # noqa: BLE001 - reported on the test's thread
            failures.append(error)

    threads = [threading.Thread(target=worker, args=(seed,)) for seed in (11, 12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not failures, failures
    session.close()


@pytest.mark.parametrize("engine", ENGINES)
def test_a_run_releases_the_gil(engine):
    """Python code on another thread keeps running while the engine computes."""
    session = get_engine(engine).load(slow_model())
    x = np.random.default_rng(0).standard_normal((384, 384)).astype(np.float32)
    y = np.empty_like(x)
    binding = session.new_binding()
    _bind(session, binding, {"x": x}, {"y": y})
    run = session.runner(binding)
    run()                                              # warm up
    ticks, stop = [], threading.Event()

    def ticker():
        while not stop.is_set():
            ticks.append(time.perf_counter())

    thread = threading.Thread(target=ticker)
    thread.start()
    try:
        time.sleep(0.01)
        begin = time.perf_counter()
        run()
        end = time.perf_counter()
    finally:
        stop.set()
        thread.join()
    inside = [t for t in ticks if begin + 0.2 * (end - begin) < t < end - 0.2 * (end - begin)]
    assert end - begin > 0.005, "the model ran too fast to tell"
    assert len(inside) > 10, (f"no Python ran during the middle of a {end - begin:.3f} s run: "
                              f"the engine holds the GIL")
    session.close()


@pytest.mark.parametrize("engine", ENGINES)
def test_errors_are_raised_not_crashes(engine):
    model = multi_io_model()
    session = get_engine(engine).load(model)
    feeds, outputs = _feeds_multi(), _outputs_multi()
    with pytest.raises(Exception):                    # an input the model does not have
        binding = session.new_binding()
        binding.bind_input("nope", np.float32, (2, 3), feeds["a"].ctypes.data)
        session.run(binding)
    with pytest.raises(Exception):                    # an input left unbound
        binding = session.new_binding()
        binding.bind_input("a", np.float32, (2, 3), feeds["a"].ctypes.data)
        binding.bind_output("s", np.float32, (2, 3), outputs["s"].ctypes.data)
        session.run(binding)
    with pytest.raises(Exception):                    # a shape the static model refuses
        binding = session.new_binding()
        big = np.zeros((4, 3), np.float32)
        _bind(session, binding, {"a": big, "b": big}, outputs)
        session.run(binding)
    with pytest.raises(Exception):
        get_engine(engine).load(b"not an onnx model")
    session.close()


@pytest.mark.parametrize("engine", ENGINES)
def test_half_precision_arithmetic_runs_or_is_refused(engine):
    """float16 arithmetic inside the graph runs as onnxruntime runs it, or the engine
    refuses the model at load with EngineUnsupported (the caller falls back)."""
    from openacl.engines import EngineUnsupported

    model = _model([helper.make_node("Add", ["x", "x"], ["s"]),
                    helper.make_node("Mul", ["s", "x"], ["y"])],
                   [_io("x", T.FLOAT16, [4])], [_io("y", T.FLOAT16, [4])])
    x = np.array([1.001, 2.5, -3.3, 300], np.float16)
    try:
        session = get_engine(engine).load(model)
    except EngineUnsupported as error:
        assert engine != "onnxruntime"
        assert "half precision" in str(error)
        return
    y = np.zeros(4, np.float16)
    binding = session.new_binding()
    _bind(session, binding, {"x": x}, {"y": y})
    session.run(binding)
    np.testing.assert_array_equal(y, _reference(model, {"x": x})[0])
    session.close()

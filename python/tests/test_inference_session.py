"""The onnx_mini Python package: ONNX Runtime's API shape, results equal to
onnx-run's on the shipped models, errors by category, threads, zero-copy.
Run by scripts/test.sh (PYTHONPATH=build/python)."""
import os
import subprocess
import tempfile
import threading

import numpy as np
import onnx
import onnx.numpy_helper
import pytest

import onnx_mini

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODELS = os.path.join(ROOT, "models")
MLP = os.path.join(MODELS, "mlp_classifier", "model.onnx")
BUILD = os.environ.get("ONNX_MINI_BUILD_DIR", os.path.join(ROOT, "build"))


def onnx_run_binary():
    for candidate in ("bin/onnx-run", "tools/onnx_run/onnx-run"):
        path = os.path.join(BUILD, candidate)
        if os.path.exists(path):
            return path
    pytest.fail("onnx-run not found under %s (set ONNX_MINI_BUILD_DIR)" % BUILD)


def shipped_models():
    return sorted(d for d in os.listdir(MODELS) if os.path.exists(os.path.join(MODELS, d, "model.onnx")))


def read_pb(path):
    t = onnx.TensorProto()
    with open(path, "rb") as f:
        t.ParseFromString(f.read())
    return onnx.numpy_helper.to_array(t)


def test_version_and_metadata_look_like_onnx_runtime():
    assert onnx_mini.__version__.count(".") == 2
    sess = onnx_mini.InferenceSession(MLP)
    (x,) = sess.get_inputs()
    assert (x.name, x.type, x.shape) == ("input", "tensor(float)", ["batch", 784])
    (y,) = sess.get_outputs()
    assert (y.name, y.shape) == ("probs", ["batch", 10])
    assert sess.get_providers() == ["CPUExecutionProvider"]


@pytest.mark.parametrize("model", shipped_models())
def test_results_equal_onnx_runs_on_the_shipped_models(model, tmp_path):
    """Bit for bit: the same library, the same kernels, the same inputs."""
    model_dir = os.path.join(MODELS, model)
    data_dir = os.path.join(model_dir, "test_data_set_0")
    model_path = os.path.join(model_dir, "model.onnx")
    sess = onnx_mini.InferenceSession(model_path, threads=1)
    inputs = sorted(f for f in os.listdir(data_dir) if f.startswith("input_"))
    feeds = {arg.name: read_pb(os.path.join(data_dir, f)) for arg, f in zip(sess.get_inputs(), inputs)}
    ours = sess.run(None, feeds)
    cmd = [onnx_run_binary(), model_path, "--threads", "1", "--output-dir", str(tmp_path)]
    for arg, f in zip(sess.get_inputs(), inputs):
        cmd += ["--input", "%s=%s" % (arg.name, os.path.join(data_dir, f))]
    subprocess.run(cmd, check=True, capture_output=True)
    for arg, got in zip(sess.get_outputs(), ours):
        written = [f for f in os.listdir(tmp_path) if f.startswith(arg.name + ".")]
        assert written, "onnx-run wrote no file for %s: %s" % (arg.name, os.listdir(tmp_path))
        path = os.path.join(tmp_path, written[0])
        want = np.load(path) if path.endswith(".npy") else read_pb(path)
        assert got.dtype == want.dtype and got.shape == want.shape
        assert np.array_equal(got, want, equal_nan=True)


def test_bytes_and_paths_load_the_same_model():
    x = np.random.default_rng(1).standard_normal((2, 784), dtype=np.float32)
    with open(MLP, "rb") as f:
        from_bytes = onnx_mini.InferenceSession(f.read())
    import pathlib
    from_path = onnx_mini.InferenceSession(pathlib.Path(MLP))
    assert np.array_equal(from_bytes.run(["probs"], {"input": x})[0], from_path.run(None, {"input": x})[0])


def test_errors_raise_one_class_per_category_with_the_librarys_message():
    sess = onnx_mini.InferenceSession(MLP)
    with pytest.raises(onnx_mini.BadInput, match="784"):
        sess.run(None, {"input": np.zeros((1, 783), np.float32)})
    with pytest.raises(onnx_mini.BadInput, match="expected float"):
        sess.run(None, {"input": np.zeros((1, 784), np.float64)})
    with pytest.raises(onnx_mini.UsageError, match="'logits'"):
        sess.run(["logits"], {"input": np.zeros((1, 784), np.float32)})
    with pytest.raises(onnx_mini.InvalidModel, match="protobuf"):
        onnx_mini.InferenceSession(b"not a model")
    with pytest.raises(onnx_mini.UsageError, match="CUDAExecutionProvider"):
        onnx_mini.InferenceSession(MLP, providers=["CUDAExecutionProvider"])
    assert issubclass(onnx_mini.BadInput, onnx_mini.OnnxMiniError)
    with tempfile.NamedTemporaryFile(suffix=".onnx") as f:
        with pytest.raises(onnx_mini.InvalidModel, match=f.name):
            onnx_mini.InferenceSession(f.name)  # an empty file


def test_outputs_survive_later_runs_and_strided_inputs_give_the_same_results():
    sess = onnx_mini.InferenceSession(MLP, threads=1)
    a = np.full((1, 784), 0.5, np.float32)
    first = sess.run(None, {"input": a})[0]
    kept = first.copy()
    sess.run(None, {"input": -a})
    assert np.array_equal(first, kept)
    # A strided view is copied to contiguous memory first.
    wide = np.zeros((1, 784 * 2), np.float32)
    wide[:, ::2] = a
    assert np.array_equal(sess.run(None, {"input": wide[:, ::2]})[0], kept)


def test_one_session_from_many_python_threads():
    sess = onnx_mini.InferenceSession(MLP, threads=1)
    rng = np.random.default_rng(7)
    feeds = [rng.standard_normal((b, 784), dtype=np.float32) for b in (1, 3, 8, 2)]
    expected = [sess.run(None, {"input": x})[0] for x in feeds]
    bad = []

    def worker(i):
        for _ in range(50):
            if not np.array_equal(sess.run(None, {"input": feeds[i]})[0], expected[i]):
                bad.append(i)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(feeds))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert bad == []


def test_c_contiguous_inputs_of_the_right_dtype_are_read_in_place():
    from onnx_mini import _onnx_mini

    x = np.zeros((2, 784), np.float32)
    assert _onnx_mini._feed_addresses({"input": x}) == [x.ctypes.data]
    row = np.zeros((4, 784), np.float32)[1:3]  # a C-contiguous slice: still in place
    assert _onnx_mini._feed_addresses({"input": row}) == [row.ctypes.data]
    strided = np.zeros((2, 784 * 2), np.float32)[:, ::2]
    assert _onnx_mini._feed_addresses({"input": strided}) != [strided.ctypes.data]
    big_endian = np.zeros((2, 784), ">f4")
    with pytest.raises(onnx_mini.BadInput, match=">f4"):
        _onnx_mini._feed_addresses({"input": big_endian})


def test_run_limits_stop_an_endless_loop_and_bad_limits_are_usage_errors():
    # scripted_control_flow halves x until its absolute sum is below 4, at most
    # `steps` times: x = inf never gets there, so `steps` alone ends the Loop.
    model = os.path.join(MODELS, "scripted_control_flow", "model.onnx")
    feeds = {"x": np.full((1, 3), np.inf, np.float32), "steps": np.array(1000, np.int64)}
    limited = onnx_mini.InferenceSession(model, threads=1, max_loop_iterations=10)
    with pytest.raises(onnx_mini.ResourceLimit, match="more than 10 subgraph runs"):
        limited.run(None, feeds)
    onnx_mini.InferenceSession(model, threads=1, max_loop_iterations=2000).run(None, feeds)
    small = onnx_mini.InferenceSession(MLP, threads=1, max_memory_bytes=1024)
    with pytest.raises(onnx_mini.ResourceLimit):
        small.run(None, {"input": np.zeros((64, 784), np.float32)})
    with pytest.raises(onnx_mini.UsageError, match="max_loop_iterations"):
        onnx_mini.InferenceSession(model, max_loop_iterations=-1)
    with pytest.raises(onnx_mini.UsageError, match="threads"):
        onnx_mini.InferenceSession(model, threads=-2)

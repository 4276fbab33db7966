"""Batch inference over a partitioned dask.array, on whatever Dask runs on
(threads, a LocalCluster, a real cluster through dask.distributed).

    import dask.array as da, onnx_mini.dask
    x = da.from_zarr(...)                      # [N, 784], chunked along N
    probs = onnx_mini.dask.map_model("model.onnx", x).compute()

Each worker process loads the model once, on its first chunk, and reuses the
session for every later chunk (sessions are cached per process by the model's
path or bytes). On a real cluster, pass a path every worker can read (a shared
filesystem) or the model's bytes (shipped inside the task graph).
"""
import hashlib
import os
import threading

import numpy as np

import onnx_mini

_sessions = {}
_lock = threading.Lock()
loads = 0  # sessions this process has loaded (the test checks one per process)


def _session(model, threads, opt_level):
    global loads
    key = (hashlib.sha256(model).hexdigest() if isinstance(model, bytes) else os.path.abspath(model),
           threads, opt_level)
    with _lock:
        sess = _sessions.get(key)
        if sess is None:
            sess = onnx_mini.InferenceSession(model, threads=threads, opt_level=opt_level)
            _sessions[key] = sess
            loads += 1
        return sess


def _run_block(block, model, input_name, output_name, threads, opt_level):
    sess = _session(model, threads, opt_level)
    return sess.run([output_name], {input_name: np.ascontiguousarray(block)})[0]


def map_model(model, array, input_name=None, output_name=None, threads=1, opt_level=1):
    """The model's output for every row block of `array` (chunks along axis 0;
    other axes are merged into one chunk). `model` is a path or the model's
    bytes; the model's input and output default to its first ones; the output's
    dims after the batch axis must be declared as numbers."""
    import dask.array as da

    if not isinstance(model, bytes):
        model = os.fspath(model)
    probe = onnx_mini.InferenceSession(model, threads=1, opt_level=0)
    input_name = input_name or probe.get_inputs()[0].name
    outputs = {o.name: o for o in probe.get_outputs()}
    output_name = output_name or probe.get_outputs()[0].name
    if output_name not in outputs:
        raise onnx_mini.UsageError("unknown output name %r (the model's outputs: %s)" % (output_name, ", ".join(outputs)))
    out = outputs[output_name]
    tail = out.shape[1:] if out.shape else None
    if tail is None or not all(isinstance(d, int) for d in tail):
        raise onnx_mini.UsageError("output %r: dims after the batch axis must be numbers, declared %r" % (output_name, out.shape))
    array = array.rechunk({i: -1 for i in range(1, array.ndim)})
    dtype = {"tensor(float)": np.float32, "tensor(double)": np.float64, "tensor(int64)": np.int64}.get(out.type)
    if dtype is None:
        raise onnx_mini.Unsupported("output %r: type %s is not mapped to numpy here" % (output_name, out.type))
    rank = len(out.shape)
    axes = {}
    if rank < array.ndim:
        axes["drop_axis"] = list(range(rank, array.ndim))
    elif rank > array.ndim:
        axes["new_axis"] = list(range(array.ndim, rank))
    return da.map_blocks(_run_block, array, model, input_name, output_name, threads, opt_level, dtype=dtype,
                         chunks=(array.chunks[0],) + tuple((d,) for d in tail), meta=np.empty((0,) * rank, dtype),
                         **axes)

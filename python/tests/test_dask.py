"""onnx_mini.dask on a LocalCluster of 2 worker processes (loopback): results
equal a single-process run, and each worker process loads the model once."""
import os

import numpy as np
import pytest

import onnx_mini
import onnx_mini.dask

da = pytest.importorskip("dask.array", reason="python3-dask is not installed (scripts/install_deps.sh)")
distributed = pytest.importorskip("distributed", reason="python3-distributed is not installed")

MLP = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                   "models", "mlp_classifier", "model.onnx")


def test_map_model_on_two_worker_processes_equals_one_process():
    x = np.random.default_rng(3).standard_normal((200, 784), dtype=np.float32)
    want = onnx_mini.InferenceSession(MLP, threads=1).run(None, {"input": x})[0]
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        got = onnx_mini.dask.map_model(MLP, da.from_array(x, chunks=(25, 784))).compute()
        loads = client.run(lambda: __import__("onnx_mini.dask").dask.loads)
    # Chunk boundaries change nothing: each row's result depends on that row only,
    # and batch 25 vs 200 takes the same kernels (bit-equal is checked, not assumed:
    # the packed GEMM computes each row the same whatever the batch).
    np.testing.assert_array_equal(got, want)
    assert len(loads) == 2
    assert all(n <= 1 for n in loads.values()), loads
    assert sum(loads.values()) >= 1


def test_map_model_refuses_an_unknown_output():
    x = da.zeros((4, 784), chunks=(2, 784), dtype=np.float32)
    with pytest.raises(onnx_mini.UsageError, match="'nope'"):
        onnx_mini.dask.map_model(MLP, x, output_name="nope")

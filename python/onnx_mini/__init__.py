"""onnx-mini for Python, shaped like ONNX Runtime's InferenceSession.

    import onnx_mini
    sess = onnx_mini.InferenceSession("model.onnx", threads=2)
    (probs,) = sess.run(None, {sess.get_inputs()[0].name: x})

Errors raise a subclass of OnnxMiniError per category (UsageError, InvalidModel,
Unsupported, BadInput, ResourceLimit, InternalError) with the library's message.
Session.run releases the GIL: one session may be run from many Python threads.
"""
import os

from ._onnx_mini import (  # noqa: F401  (re-exported)
    BadInput,
    InternalError,
    InvalidModel,
    OnnxMiniError,
    ResourceLimit,
    Unsupported,
    UsageError,
    __version__,
    _Session,
)

CPU_PROVIDER = "CPUExecutionProvider"


class NodeArg:
    """An input or output as the model declares it: name, shape (ints, symbol
    strings, None), type ("tensor(float)")."""

    def __init__(self, name, type, shape):
        self.name = name
        self.type = type
        self.shape = shape

    def __repr__(self):
        return "NodeArg(name=%r, type=%r, shape=%r)" % (self.name, self.type, self.shape)


def _check_providers(providers):
    for p in providers or []:
        name = p[0] if isinstance(p, (tuple, list)) else p
        if name != CPU_PROVIDER:
            raise UsageError("provider %r is not available: onnx-mini runs on %s only" % (name, CPU_PROVIDER))


class InferenceSession:
    """A loaded model. `model` is a path (str or os.PathLike) or the model's bytes."""

    def __init__(self, model, sess_options=None, providers=None, threads=0, opt_level=1, max_memory_bytes=None,
                 max_loop_iterations=None):
        """max_memory_bytes: the buffers of one run (default 16 GiB); max_loop_iterations: subgraph runs
        (Loop iterations, If branches) of one run (default 2**24). Past either, run() raises ResourceLimit."""
        if sess_options is not None:
            raise UsageError("sess_options is not supported: pass threads= and opt_level= instead")
        _check_providers(providers)
        if not isinstance(model, (bytes, str, os.PathLike)):
            raise UsageError("model must be a path or bytes, got %s" % type(model).__name__)
        limits = {}
        if max_memory_bytes is not None:
            limits["max_memory_bytes"] = int(max_memory_bytes)
        if max_loop_iterations is not None:
            limits["max_loop_iterations"] = int(max_loop_iterations)
        self._session = _Session(model, int(threads), int(opt_level), **limits)
        self._inputs = [NodeArg(n, t, s) for n, t, s in self._session.inputs()]
        self._outputs = [NodeArg(n, t, s) for n, t, s in self._session.outputs()]

    def get_inputs(self):
        return list(self._inputs)

    def get_outputs(self):
        return list(self._outputs)

    def get_providers(self):
        return [CPU_PROVIDER]

    def run(self, output_names, input_feed, run_options=None):
        """Runs the model on `input_feed` ({name: array}); returns the outputs
        named in `output_names` (all when None or empty) as numpy arrays."""
        if run_options is not None:
            raise UsageError("run_options is not supported")
        return self._session.run(list(output_names or []), dict(input_feed))

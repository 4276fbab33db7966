"""Session.run releases the GIL: a background Python thread makes progress while
a run is in flight.

A thread runs Python only while it holds the GIL. The background thread records
the time every millisecond it gets to run. If run() held the GIL, the thread
could run only at the edges of the call (before the main thread enters the C++
code, after it returns: each at most a GIL switch interval, 5 ms), never in the
middle half of a call that lasts ~100 ms or more. So one record in the middle
half proves the GIL was released there; a call known to hold the GIL (sorting a
list of Python ints) shows the check tells the two apart. No speed is compared:
a loaded 2-core machine slows the threads down but cannot let the background
thread run inside a call that holds the GIL, nor keep a runnable thread off the
CPU for the whole middle half of three such calls.
"""
import os
import random
import threading
import time

import numpy as np

import onnx_mini

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MLP = os.path.join(ROOT, "models", "mlp_classifier", "model.onnx")
CALLS = 3


def calls_with_progress_in_their_middle(call):
    """Of CALLS calls of `call`, how many a background Python thread ran during
    (a record inside the middle half of the call's wall time)."""
    records, stop = [], threading.Event()

    def record_every_millisecond():
        last = 0.0
        while not stop.is_set():
            now = time.monotonic()
            if now - last >= 0.001:
                records.append(now)
                last = now

    background = threading.Thread(target=record_every_millisecond)
    background.start()
    windows = []
    try:
        for _ in range(CALLS):
            start = time.monotonic()
            call()
            windows.append((start, time.monotonic()))
    finally:
        stop.set()
        background.join()
    middles = [(a + (b - a) / 4, b - (b - a) / 4) for a, b in windows]
    return sum(any(lo < t < hi for t in records) for lo, hi in middles)


def test_a_background_thread_runs_while_a_session_runs():
    sess = onnx_mini.InferenceSession(MLP, threads=1)
    # Batch 16384: 1.8 G multiply-adds, 0.1-2 s per run on one thread (the
    # middle half then starts 25 ms or more in, far beyond a 5 ms edge).
    x = np.random.default_rng(3).standard_normal((16384, 784), dtype=np.float32)
    sess.run(None, {"input": x})  # warm-up: the frame's buffers are allocated
    assert calls_with_progress_in_their_middle(lambda: sess.run(None, {"input": x})) >= 1


def test_the_check_sees_a_call_that_holds_the_gil():
    # list.sort on Python ints never releases the GIL and runs no bytecode in
    # between; ~0.1-1 s for 400 k shuffled ints.
    values = list(range(400_000))
    random.Random(5).shuffle(values)
    assert calls_with_progress_in_their_middle(lambda: sorted(values)) == 0

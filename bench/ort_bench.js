// Median latency of ONNX Runtime (npm onnxruntime-node) on one model, for
// bench/compare_ort.sh and bench/compare_ort_cnn.sh. Prints one JSON line:
// {"median_ms": ..., "runs": ...}.
//
//   NODE_PATH=build/ort/node_modules node bench/ort_bench.js MODEL BATCH DIMS THREADS RUNS
//
// The input is [BATCH, DIMS...]: DIMS is the width of an MLP's input (784) or
// the rest of the input's shape, separated by ',' or 'x' (3,224,224 for an
// image, 128x256 for a transformer block's sequence and width). Inputs
// are built once, so what remains per call is ORT's run plus the node binding's
// overhead (the caller subtracts the latter, measured on an Identity model).
'use strict';
const ort = require('onnxruntime-node');

async function main() {
  const [model, batchArg, dimsArg, threadsArg, runsArg] = process.argv.slice(2);
  if (!runsArg) {
    console.error('usage: ort_bench.js MODEL BATCH DIMS THREADS RUNS');
    process.exit(2);
  }
  const batch = Number(batchArg), threads = Number(threadsArg), runs = Number(runsArg);
  const shape = [batch, ...dimsArg.split(/[x,]/).map(Number)];
  const session = await ort.InferenceSession.create(model, {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
  const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < data.length; ++i) data[i] = (i % 29) * 0.05 - 0.7;
  const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', data, shape) };
  // The same warm-up rule as onnx-run --repeat: at least 3 runs and 0.25 s.
  const warmUntil = process.hrtime.bigint() + 250000000n;
  for (let i = 0; i < 3 || process.hrtime.bigint() < warmUntil; ++i) await session.run(feeds);
  const ms = [];
  for (let i = 0; i < runs; ++i) {
    const t0 = process.hrtime.bigint();
    await session.run(feeds);
    ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  ms.sort((a, b) => a - b);
  console.log(JSON.stringify({ median_ms: ms[Math.floor(ms.length / 2)], runs }));
}

main().catch((e) => {
  console.error(String(e));
  process.exit(1);
});

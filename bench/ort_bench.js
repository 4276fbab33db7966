// Median latency of ONNX Runtime (npm onnxruntime-node) on one model, for
// bench/compare_ort.sh. Prints one JSON line: {"median_ms": ..., "runs": ...}.
//
//   NODE_PATH=build/ort/node_modules node bench/ort_bench.js MODEL BATCH WIDTH THREADS RUNS
//
// The input is X [BATCH, WIDTH]; WIDTH may name several dims, e.g. 128x256 for
// X [BATCH, 128, 256] (the transformer blocks); inputs
// are built once, so what remains per call is ORT's run plus the node binding's
// overhead (the caller subtracts the latter, measured on an Identity model).
'use strict';
const ort = require('onnxruntime-node');

async function main() {
  const [model, batchArg, widthArg, threadsArg, runsArg] = process.argv.slice(2);
  if (!runsArg) {
    console.error('usage: ort_bench.js MODEL BATCH WIDTH THREADS RUNS');
    process.exit(2);
  }
  const batch = Number(batchArg), threads = Number(threadsArg), runs = Number(runsArg);
  const inner = widthArg.split('x').map(Number);
  const width = inner.reduce((a, b) => a * b, 1);
  const session = await ort.InferenceSession.create(model, {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
  const data = new Float32Array(batch * width);
  for (let i = 0; i < data.length; ++i) data[i] = (i % 29) * 0.05 - 0.7;
  const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', data, [batch, ...inner]) };
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

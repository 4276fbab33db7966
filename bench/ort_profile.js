// Where ONNX Runtime (npm onnxruntime-node) spends its time, per node: the
// peer's side of `onnx-run MODEL --repeat N --profile`, to find which layers
// onnx-mini loses on. Prints each node's median kernel time over RUNS runs
// (after a warm-up), slowest first, then the totals per op type.
//
//   NODE_PATH=build/ort/node_modules node bench/ort_profile.js MODEL BATCH DIMS THREADS RUNS [TOP]
//
// MODEL, BATCH, DIMS, THREADS, RUNS as for bench/ort_bench.js; TOP rows of the
// per-node table (default 40). ORT names a node after its fused form (a Conv
// with its ReLU reads "<relu output>_nchwc"), so match rows by layer path.
// ORT writes its trace as a JSON file in the working directory (which must be
// writable); this script reads it and removes it.
'use strict';
const fs = require('fs');
const ort = require('onnxruntime-node');

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function kernelTimes(trace) {
  const perNode = new Map();  // name -> {op, durations}
  for (const event of trace) {
    if (event.cat !== 'Node' || !event.name.endsWith('_kernel_time')) continue;
    const name = event.name.slice(0, -'_kernel_time'.length);
    if (!perNode.has(name)) perNode.set(name, { op: event.args.op_name, durations: [] });
    perNode.get(name).durations.push(event.dur);
  }
  return perNode;
}

async function main() {
  const [model, batchArg, dimsArg, threadsArg, runsArg, topArg] = process.argv.slice(2);
  if (!runsArg) {
    console.error('usage: ort_profile.js MODEL BATCH DIMS THREADS RUNS [TOP]');
    process.exit(2);
  }
  const shape = [Number(batchArg), ...dimsArg.split(/[x,]/).map(Number)];
  const runs = Number(runsArg), top = Number(topArg || 40);
  const prefix = `ort_profile_${process.pid}`;
  const session = await ort.InferenceSession.create(model, {
    intraOpNumThreads: Number(threadsArg),
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    enableProfiling: true,
    profileFilePrefix: prefix,
  });
  const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < data.length; ++i) data[i] = (i % 29) * 0.05 - 0.7;
  const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', data, shape) };
  const warmUp = 3;
  for (let i = 0; i < warmUp + runs; ++i) await session.run(feeds);
  session.endProfiling();  // the node binding returns no file name: find it by prefix
  const traceFile = fs.readdirSync('.').find((f) => f.startsWith(prefix) && f.endsWith('.json'));
  if (!traceFile) throw new Error(`ORT wrote no ${prefix}*.json in ${process.cwd()}`);
  const trace = JSON.parse(fs.readFileSync(traceFile, 'utf8'));
  fs.unlinkSync(traceFile);

  const rows = [];
  const perOp = new Map();
  for (const [name, { op, durations }] of kernelTimes(trace)) {
    const us = median(durations.slice(warmUp));
    rows.push({ name, op, us });
    perOp.set(op, (perOp.get(op) || 0) + us);
  }
  rows.sort((a, b) => b.us - a.us);
  const total = rows.reduce((sum, r) => sum + r.us, 0);
  console.log(`median kernel time per node over ${runs} runs (us), onnxruntime-node ${require('onnxruntime-node/package.json').version}`);
  for (const r of rows.slice(0, top)) {
    console.log(`${r.op.padEnd(20)} ${r.name.padEnd(64)} ${r.us.toFixed(0).padStart(8)}`);
  }
  console.log('\nper op type:');
  for (const [op, us] of [...perOp].sort((a, b) => b[1] - a[1])) {
    console.log(`${op.padEnd(20)} ${us.toFixed(0).padStart(8)} ${((100 * us) / total).toFixed(1).padStart(6)}%`);
  }
  console.log(`${'sum of node medians'.padEnd(20)} ${total.toFixed(0).padStart(8)}`);
}

main().catch((e) => {
  console.error(String(e));
  process.exit(1);
});

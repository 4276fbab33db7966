// Runs one model in ONNX Runtime (npm onnxruntime-node) for check_portable.py.
//
//   NODE_PATH=.../node_modules node ort_run.js MODEL FEEDS.json
//
// FEEDS.json: {"NAME": {"dtype": "float32", "dims": [2, 3], "data": [...]}, ...}
// (float data as numbers, "NaN"/"Infinity"/"-Infinity" as strings; int64 as
// decimal strings; float16 as its uint16 bits). Prints the outputs in the same form, one JSON line.
'use strict';
const fs = require('fs');
const ort = require('onnxruntime-node');

const kArrays = {
  float32: Float32Array, float64: Float64Array, int32: Int32Array, int8: Int8Array, uint8: Uint8Array,
  int16: Int16Array, uint16: Uint16Array, bool: Uint8Array,
  float16: Uint16Array,  // float16 travels as its bits, as onnxruntime-node holds it
};

function toTensor(f) {
  if (f.dtype === 'int64') return new ort.Tensor('int64', BigInt64Array.from(f.data.map((v) => BigInt(v))), f.dims);
  if (f.dtype === 'uint64') return new ort.Tensor('uint64', BigUint64Array.from(f.data.map((v) => BigInt(v))), f.dims);
  const data = kArrays[f.dtype].from(f.data.map((v) => (typeof v === 'string' ? Number(v) : v)));
  return new ort.Tensor(f.dtype, data, f.dims);
}

function fromTensor(t) {
  if (t.type === 'float16') return { dtype: t.type, dims: t.dims, data: Array.from(new Uint16Array(t.data.buffer, t.data.byteOffset, t.data.length)) };
  const data = Array.from(t.data, (v) => {
    if (typeof v === 'bigint') return v.toString();
    if (typeof v === 'boolean') return v ? 1 : 0;
    return Number.isFinite(v) ? v : String(v);
  });
  return { dtype: t.type, dims: t.dims, data };
}

async function main() {
  const [model, feedsFile] = process.argv.slice(2);
  const feedsJson = JSON.parse(fs.readFileSync(feedsFile, 'utf8'));
  const feeds = {};
  for (const [name, f] of Object.entries(feedsJson)) feeds[name] = toTensor(f);
  const session = await ort.InferenceSession.create(model, { intraOpNumThreads: 1, graphOptimizationLevel: 'disabled' });
  const results = await session.run(feeds);
  const out = {};
  for (const name of session.outputNames) out[name] = fromTensor(results[name]);
  console.log(JSON.stringify(out));
}

main().catch((e) => {
  console.error(String(e));
  process.exit(1);
});

'use strict';
// The cross-language golden corpus (tests/golden/corpus.json, docs/golden.md) through the JS API: every case's
// inputs and parameters go to the generated op function, and every output must match in dtype, shape and
// value within the case's tolerances.
const { describe, it } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const pmx = require('polymix');

const corpusPath = process.env.POLYMIX_GOLDEN_CORPUS;
const corpus = corpusPath ? JSON.parse(fs.readFileSync(corpusPath, 'utf8')) : null;

// A corpus array {dtype, shape, data} as an NDArray (values exact: see golden_format.py).
function decode(entry) {
  const data = entry.dtype === 'int64' ? BigInt64Array.from(entry.data, (v) => BigInt(v)) : entry.data;
  if (entry.dtype === 'int64') return pmx.array(data, { shape: entry.shape });
  if (entry.dtype === 'float32') return pmx.array(Float32Array.from(data), { shape: entry.shape });
  if (entry.dtype === 'float64') return pmx.array(Float64Array.from(data), { shape: entry.shape });
  return pmx.array(entry.shape.length === 0 ? data[0] : data, { dtype: entry.dtype, shape: entry.shape });
}

// The values of an NDArray as numbers (16-bit floats converted by the core), or BigInts for int64.
function values(array) {
  if (array.dtype === 'float16' || array.dtype === 'bfloat16') return pmx.tidy(() => array.astype('float32').dataSync());
  return array.dataSync();
}

function checkCase(testCase) {
  pmx.tidy(() => {
    const inputs = testCase.inputs.map(decode);
    const result = pmx.ops[testCase.op](...inputs, { ...testCase.params });
    const outputs = Array.isArray(result) ? result : [result];
    assert.equal(outputs.length, testCase.outputs.length, `${testCase.id}: number of outputs`);
    testCase.outputs.forEach((want, index) => {
      const got = outputs[index];
      const where = `${testCase.id} output ${index}`;
      assert.equal(got.dtype, want.dtype, `${where}: dtype`);
      assert.deepEqual(got.shape, want.shape, `${where}: shape`);
      const data = values(got);
      if (want.dtype.startsWith('float') || want.dtype === 'bfloat16') {
        let worst = 0;
        let worstIndex = -1;
        want.data.forEach((w, i) => {
          const excess = Math.abs(data[i] - w) - (testCase.atol + testCase.rtol * Math.abs(w));
          if (!(excess <= worst)) { worst = Number.isNaN(excess) ? Infinity : excess; worstIndex = i; }
        });
        assert.equal(worstIndex, -1, `${where}: element ${worstIndex} is ${data[worstIndex]}, the corpus has ` +
                     `${want.data[worstIndex]} (rtol ${testCase.rtol}, atol ${testCase.atol})`);
      } else {
        const expected = want.dtype === 'int64' ? want.data.map((v) => BigInt(v)) : want.data;
        assert.deepEqual(Array.from(data), expected, `${where}: values`);
      }
    });
  });
}

describe('golden corpus', () => {
  it('is present and in the known format', () => {
    assert.ok(corpus, 'POLYMIX_GOLDEN_CORPUS must name tests/golden/corpus.json');
    assert.equal(corpus.format, 'polymix-golden-1');
    assert.ok(new Set(corpus.cases.map((c) => c.op)).size >= 150);
  });
  for (const testCase of corpus ? corpus.cases : []) {
    it(testCase.id, () => checkCase(testCase));
  }
});

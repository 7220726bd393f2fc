'use strict';
// NDArray: creation from TypedArrays, nested arrays and numbers; every dtype's TypedArray; views; copies; reads.
const { describe, it } = require('node:test');
const assert = require('node:assert/strict');
const { Worker } = require('node:worker_threads');
const pmx = require('polymix');

describe('NDArray creation and data', () => {
  it('reads back a Float32Array with its shape, dtype and device', async () => {
    const x = pmx.array(new Float32Array([1, 2, 3, 4, 5, 6]), { shape: [2, 3] });
    assert.equal(x.dtype, 'float32');
    assert.deepEqual(x.shape, [2, 3]);
    assert.equal(x.ndim, 2);
    assert.equal(x.size, 6);
    assert.equal(String(x.device), 'cpu(0)');
    const data = await x.data();
    assert.ok(data instanceof Float32Array);
    assert.deepEqual(Array.from(data), [1, 2, 3, 4, 5, 6]);
    assert.deepEqual(Array.from(x.dataSync()), [1, 2, 3, 4, 5, 6]);
    x.dispose();
  });

  it('infers the shape of nested arrays and defaults to float32', () => {
    const x = pmx.array([[1.5, 2], [3, 4], [5, 6]]);
    assert.deepEqual(x.shape, [3, 2]);
    assert.equal(x.dtype, 'float32');
    assert.deepEqual(x.arraySync(), [[1.5, 2], [3, 4], [5, 6]]);
    x.dispose();
  });

  it('makes a scalar from a number', () => {
    const x = pmx.array(2.5);
    assert.deepEqual(x.shape, []);
    assert.equal(x.arraySync(), 2.5);
    x.dispose();
  });

  it('reads every dtype into its own TypedArray', async () => {
    const expected = {
      float32: Float32Array, float64: Float64Array, float16: Uint16Array, bfloat16: Uint16Array,
      uint8: Uint8Array, int8: Int8Array, int32: Int32Array, int64: BigInt64Array, bool: Uint8Array,
    };
    assert.deepEqual([...pmx.dtypes].sort(), Object.keys(expected).sort());
    for (const [dtype, Typed] of Object.entries(expected)) {
      const x = pmx.array([[0, 1], [1, 0]], { dtype });
      assert.equal(x.dtype, dtype);
      const data = await x.data();
      assert.ok(data instanceof Typed, `${dtype} reads into ${data.constructor.name}`);
      assert.deepEqual(x.arraySync().flat().map(Number), [0, 1, 1, 0], dtype);
      x.dispose();
    }
  });

  it('keeps TypedArray values exact: int64 beyond 2^53, int8, float64', () => {
    const big = pmx.array(new BigInt64Array([9007199254740993n, -9223372036854775808n, 42n]));
    assert.equal(big.dtype, 'int64');
    assert.deepEqual(Array.from(big.dataSync()), [9007199254740993n, -9223372036854775808n, 42n]);
    const small = pmx.array(new Int8Array([-128, 127, 0]));
    assert.deepEqual(Array.from(small.dataSync()), [-128, 127, 0]);
    const wide = pmx.array(new Float64Array([0.1, 1e300, -2.5e-310]));
    assert.deepEqual(Array.from(wide.dataSync()), [0.1, 1e300, -2.5e-310]);
    pmx.dispose(big, small, wide);
  });

  it('stores float16 and bfloat16 as their bit patterns', () => {
    const half = pmx.array([0.5, 1, -2], { dtype: 'float16' });
    assert.deepEqual(Array.from(half.dataSync()), [0x3800, 0x3c00, 0xc000]);
    const brain = pmx.array([1, -2], { dtype: 'bfloat16' });
    assert.deepEqual(Array.from(brain.dataSync()), [0x3f80, 0xc000]);
    const fromBits = pmx.array(new Uint16Array([0x3800, 0x4200]), { dtype: 'float16' });
    assert.deepEqual(fromBits.arraySync(), [0.5, 3]);
    pmx.dispose(half, brain, fromBits);
  });

  it('converts on creation when a dtype is given, and with astype', () => {
    const x = pmx.array(new Float32Array([1.7, -2.2, 3]), { dtype: 'int32' });
    assert.equal(x.dtype, 'int32');
    assert.deepEqual(Array.from(x.dataSync()), [1, -2, 3]);
    const y = x.astype('float64');
    assert.ok(y.dataSync() instanceof Float64Array);
    const b = pmx.array([true, false, true]);
    assert.equal(b.dtype, 'bool');
    assert.deepEqual(b.arraySync(), [true, false, true]);
    pmx.dispose(x, y, b);
  });

  it('fills arrays: zeros, ones, full, arange', () => {
    assert.deepEqual(Array.from(pmx.zeros([2, 2]).dataSync()), [0, 0, 0, 0]);
    assert.deepEqual(Array.from(pmx.ones(3, { dtype: 'int32' }).dataSync()), [1, 1, 1]);
    assert.deepEqual(Array.from(pmx.full([2], 7.5, { dtype: 'float64' }).dataSync()), [7.5, 7.5]);
    assert.deepEqual(Array.from(pmx.arange(1, 7, 2).dataSync()), [1, 3, 5]);
    assert.deepEqual(pmx.empty([4, 5]).shape, [4, 5]);
  });

  it('rejects bad input with clear errors', () => {
    assert.throws(() => pmx.array([[1, 2], [3]]), (e) => e instanceof pmx.ValueError && /ragged/.test(e.message));
    assert.throws(() => pmx.array([1, 2], { dtype: 'float8' }), (e) => e instanceof TypeError && /float8/.test(e.message));
    assert.throws(() => pmx.array(new Float32Array(6), { shape: [4, 2] }), pmx.ValueError);
    assert.throws(() => pmx.array(new Uint16Array(2)), TypeError);
    assert.throws(() => new pmx.NDArray(), TypeError);
    assert.throws(() => pmx.array(['a']), TypeError);
  });
});

describe('NDArray views, copies and lifetime', () => {
  it('reshape, slice and at are views sharing memory', () => {
    const x = pmx.array(new Float32Array([0, 1, 2, 3, 4, 5]));
    const matrix = x.reshape(2, -1);
    assert.deepEqual(matrix.shape, [2, 3]);
    const row = matrix.at(1);
    assert.deepEqual(Array.from(row.dataSync()), [3, 4, 5]);
    const rows = matrix.slice(0, 1);
    assert.deepEqual(rows.shape, [1, 3]);
    row.set(new Float32Array([30, 40, 50]));
    assert.deepEqual(Array.from(x.dataSync()), [0, 1, 2, 30, 40, 50]);
    pmx.dispose(x, matrix, row, rows);
  });

  it('copy and copyTo make independent arrays', () => {
    const x = pmx.array([1, 2, 3]);
    const y = x.copy();
    const z = x.copyTo('cpu(0)');
    x.set(new Float32Array([9, 9, 9]));
    assert.deepEqual(Array.from(y.dataSync()), [1, 2, 3]);
    assert.deepEqual(Array.from(z.dataSync()), [1, 2, 3]);
    const target = pmx.zeros([3], { dtype: 'float64' });
    x.copyTo(target);
    assert.deepEqual(Array.from(target.dataSync()), [9, 9, 9]);
    pmx.dispose(x, y, z, target);
  });

  it('computes elementwise methods with scalars and arrays', () => {
    const x = pmx.array([[1, 2], [3, 4]]);
    const y = pmx.array([10, 20]);
    assert.deepEqual(x.add(y).arraySync(), [[11, 22], [13, 24]]);
    assert.deepEqual(x.mul(2).sub(1).arraySync(), [[1, 3], [5, 7]]);
    assert.deepEqual(x.div(x).arraySync(), [[1, 1], [1, 1]]);
    assert.deepEqual(x.sum().arraySync(), [10]);
    assert.deepEqual(x.sum(1).arraySync(), [3, 7]);
    assert.deepEqual(x.transpose().arraySync(), [[1, 3], [2, 4]]);
    assert.deepEqual(x.dot(x).arraySync(), [[7, 10], [15, 22]]);
    assert.deepEqual(x.greater(2).arraySync(), [[0, 0], [1, 1]]);
  });

  it('data() returns a Promise and resolves after the array is disposed', async () => {
    const x = pmx.ones([100, 100]);
    const y = x.mul(3);
    const pending = y.data();
    assert.ok(pending instanceof Promise);
    y.dispose();
    x.dispose();
    const values = await pending;
    assert.equal(values.length, 10000);
    assert.ok(values.every((v) => v === 3));
  });

  it('using a disposed array is a ValueError; dispose is idempotent', async () => {
    const x = pmx.array([1]);
    x.dispose();
    x.dispose();
    assert.equal(x.isDisposed, true);
    assert.throws(() => x.dataSync(), (e) => e instanceof pmx.ValueError && /disposed/.test(e.message));
    await assert.rejects(x.data(), pmx.ValueError);
    assert.throws(() => x.add(1), pmx.ValueError);
    assert.match(String(x), /disposed/);
  });

  it('prints dtype, shape, device and values', () => {
    const x = pmx.array([[1, 2]]);
    assert.match(x.toString(), /^NDArray float32 \[1,2\] @cpu\(0\)\n\[ \[ 1, 2 \] \]$/);
    x.dispose();
  });

  it('waits for results without blocking: waitToRead, waitAll', async () => {
    const x = pmx.ones([64, 64]);
    const y = x.dot(x);
    await y.waitToRead();
    await pmx.waitAll();
    pmx.waitAllSync();
    assert.equal(y.dataSync()[0], 64);
    pmx.dispose(x, y);
  });

  it('loads and computes in a worker thread too', async () => {
    const worker = new Worker(`
      const { parentPort } = require('node:worker_threads');
      const pmx = require(${JSON.stringify(require.resolve('polymix'))});
      const x = pmx.array([1, 2, 3]);
      x.attachGrad();
      const y = pmx.autograd.record(() => x.square().sum());
      y.backward();
      x.data().then((data) => parentPort.postMessage([Array.from(data), Array.from(x.grad.dataSync())]));
    `, { eval: true });
    const [data, grad] = await new Promise((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    await worker.terminate();
    assert.deepEqual(data, [1, 2, 3]);
    assert.deepEqual(grad, [2, 4, 6]);
  });
});

'use strict';
// Autograd through the JS API: gradients of small functions against finite differences of a plain-JS
// reference, autograd.grad, grad_req 'add', head gradients, recording flags.
const { describe, it } = require('node:test');
const assert = require('node:assert/strict');
const pmx = require('polymix');
const { assertClose, numericGradient } = require('./helpers');

// f(x, w) = sum(tanh(x . w)^2) for x [2, 3], w [3, 2], in plain JS (the independent reference).
function referenceF(x, w) {
  let total = 0;
  for (let i = 0; i < 2; i += 1) {
    for (let j = 0; j < 2; j += 1) {
      let dot = 0;
      for (let k = 0; k < 3; k += 1) dot += x[i * 3 + k] * w[k * 2 + j];
      total += Math.tanh(dot) ** 2;
    }
  }
  return total;
}

// g(a, b) = mean(sigmoid(a * b + a)) for a [2, 3], b [1, 3] broadcast over rows.
function referenceG(a, b) {
  let total = 0;
  for (let i = 0; i < 6; i += 1) total += 1 / (1 + Math.exp(-(a[i] * b[i % 3] + a[i])));
  return total / 6;
}

const X = Float64Array.from([0.3, -0.7, 0.5, 1.1, -0.2, 0.4]);
const W = Float64Array.from([0.6, -0.4, 0.2, 0.9, -0.5, 0.1]);

describe('autograd', () => {
  it('backward matches finite differences (dot, tanh, square, sum)', () => {
    const x = pmx.array(X, { shape: [2, 3] }).attachGrad();
    const w = pmx.array(W, { shape: [3, 2] }).attachGrad();
    const y = pmx.autograd.record(() => pmx.ops.sum(pmx.ops.square(pmx.ops.tanh(pmx.ops.dot(x, w)))));
    assertClose(y.dataSync(), [referenceF(X, W)], { rtol: 1e-12, atol: 1e-12, message: 'forward' });
    y.backward();
    assertClose(x.grad.dataSync(), numericGradient((v) => referenceF(v, W), X), { rtol: 1e-6, atol: 1e-8, message: 'dx' });
    assertClose(w.grad.dataSync(), numericGradient((v) => referenceF(X, v), W), { rtol: 1e-6, atol: 1e-8, message: 'dw' });
    pmx.dispose(x, w, y);
  });

  it('backward matches finite differences with broadcasting and methods', () => {
    const A = X;
    const B = Float64Array.from([0.5, -1.5, 2]);
    const a = pmx.array(A, { shape: [2, 3] }).attachGrad();
    const b = pmx.array(B, { shape: [1, 3] }).attachGrad();
    const loss = pmx.autograd.record(() => a.mul(b).add(a).sigmoid().mean());
    loss.backward();
    assertClose(a.grad.dataSync(), numericGradient((v) => referenceG(v, B), A), { rtol: 1e-6, atol: 1e-9, message: 'da' });
    assertClose(b.grad.dataSync(), numericGradient((v) => referenceG(A, v), B), { rtol: 1e-6, atol: 1e-9, message: 'db' });
    pmx.dispose(a, b, loss);
  });

  it('grad() returns gradients without touching the buffers', () => {
    const x = pmx.array(X, { shape: [2, 3] }).attachGrad();
    const w = pmx.array(W, { shape: [3, 2] });
    const y = pmx.autograd.record(() => pmx.ops.sum(pmx.ops.square(pmx.ops.tanh(pmx.ops.dot(x, w)))));
    const dx = pmx.autograd.grad(y, x);
    assertClose(dx.dataSync(), numericGradient((v) => referenceF(v, W), X), { rtol: 1e-6, atol: 1e-8, message: 'dx' });
    assert.deepEqual(Array.from(x.grad.dataSync()), [0, 0, 0, 0, 0, 0]);
    pmx.dispose(x, w, y, dx);
  });

  it("grad_req 'add' accumulates; head gradients scale", () => {
    const x = pmx.array([1, 2, 3], { dtype: 'float64' }).attachGrad('add');
    for (let i = 0; i < 2; i += 1) {
      const y = pmx.autograd.record(() => x.square());
      y.backward(pmx.array([1, 10, 100], { dtype: 'float64' }));
    }
    assert.deepEqual(Array.from(x.grad.dataSync()), [4, 80, 1200]);
    x.dispose();
  });

  it('higher-order gradients with createGraph', () => {
    const x = pmx.array([1, 2, 3], { dtype: 'float64' }).attachGrad();
    const dx = pmx.autograd.record(() => {
      const y = x.mul(x).mul(x);  // x^3
      return pmx.autograd.grad(y, x, { createGraph: true });  // 3x^2
    });
    assert.deepEqual(Array.from(dx.dataSync()), [3, 12, 27]);
    dx.backward();  // d(sum 3x^2)/dx = 6x
    assert.deepEqual(Array.from(x.grad.dataSync()), [6, 12, 18]);
    pmx.dispose(x, dx);
  });

  it('records only inside record(), restoring the flags', () => {
    assert.equal(pmx.autograd.isRecording(), false);
    assert.equal(pmx.autograd.isTraining(), false);
    pmx.autograd.record(() => {
      assert.equal(pmx.autograd.isRecording(), true);
      assert.equal(pmx.autograd.isTraining(), true);
      pmx.autograd.pause(() => assert.equal(pmx.autograd.isRecording(), false));
      pmx.autograd.predictMode(() => assert.equal(pmx.autograd.isTraining(), false));
    });
    assert.equal(pmx.autograd.isRecording(), false);
    assert.throws(() => pmx.autograd.record(() => { throw new Error('inside'); }), /inside/);
    assert.equal(pmx.autograd.isRecording(), false);
    assert.throws(() => pmx.autograd.record(async () => 1), (e) => e instanceof TypeError && /Promise/.test(e.message));
    assert.equal(pmx.autograd.isRecording(), false);
  });

  it('backward of an unrecorded array is a ValueError', () => {
    const x = pmx.array([1, 2]).attachGrad();
    const y = x.square();  // not recorded
    assert.throws(() => y.backward(), pmx.ValueError);
    pmx.dispose(x, y);
  });

  it('Dropout drops in training mode only', () => {
    const x = pmx.ones([1000]);
    const kept = pmx.autograd.predictMode(() => pmx.ops.Dropout(x, { p: 0.5 }));
    assert.ok(kept.dataSync().every((v) => v === 1));
    const dropped = pmx.autograd.trainMode(() => pmx.ops.Dropout(x, { p: 0.5 }));
    const zeros = dropped.dataSync().filter((v) => v === 0).length;
    assert.ok(zeros > 350 && zeros < 650, `${zeros} zeros`);
  });
});

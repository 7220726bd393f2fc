'use strict';
// Shared test helpers (not a test file): tolerant comparisons and finite differences.
const assert = require('node:assert/strict');

/** Asserts |got - want| <= atol + rtol * |want| elementwise (the golden corpus's rule). */
function assertClose(got, want, { rtol = 1e-5, atol = 1e-6, message = '' } = {}) {
  assert.equal(got.length, want.length, `${message}: ${got.length} values, expected ${want.length}`);
  for (let i = 0; i < want.length; i += 1) {
    const g = Number(got[i]);
    const w = Number(want[i]);
    if (!(Math.abs(g - w) <= atol + rtol * Math.abs(w))) {
      assert.fail(`${message}: element ${i} is ${g}, expected ${w} (rtol ${rtol}, atol ${atol})`);
    }
  }
}

/** Central finite differences of a scalar function f(values: Float64Array) -> number at x. */
function numericGradient(f, x, eps = 1e-6) {
  const grad = new Float64Array(x.length);
  for (let i = 0; i < x.length; i += 1) {
    const plus = Float64Array.from(x);
    const minus = Float64Array.from(x);
    plus[i] += eps;
    minus[i] -= eps;
    grad[i] = (f(plus) - f(minus)) / (2 * eps);
  }
  return grad;
}

module.exports = { assertClose, numericGradient };

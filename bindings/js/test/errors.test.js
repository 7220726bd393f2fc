'use strict';
// The error mapping (through the C ABI's testing group and real failures) and marshalling of values.
const { describe, it } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const pmx = require('polymix');

describe('error kinds map to JS error classes', () => {
  const cases = [
    ['RuntimeError', pmx.RuntimeError, Error],
    ['ValueError', pmx.ValueError, Error],
    ['TypeError', pmx.errors.TypeError, TypeError],
    ['IndexError', pmx.IndexError, RangeError],
    ['NotImplementedError', pmx.NotImplementedError, Error],
    ['OutOfMemory', pmx.OutOfMemoryError, Error],
  ];
  for (const [kind, Class, Base] of cases) {
    it(`${kind} raised by the core`, () => {
      const message = `[testing] a ${kind} with 'quotes' and üñíçødé`;
      assert.throws(() => pmx.testing.raise(kind === 'OutOfMemory' ? 6 : kind, message), (error) => {
        assert.ok(error instanceof Class, `${error.name} is a ${Class.name}`);
        assert.ok(error instanceof Base, `${error.name} is a ${Base.name}`);
        assert.ok(error instanceof pmx.PolymixError);
        assert.equal(error.message, message);
        assert.equal(error.name, Class.name);
        assert.equal(typeof error.stack, 'string');
        return true;
      });
    });
  }

  it('an unknown kind is a RuntimeError', () => {
    assert.throws(() => pmx.testing.raise(99, 'odd'), (e) => e instanceof pmx.RuntimeError && e.message === 'odd');
  });

  it('JS errors are not PolymixErrors', () => {
    assert.equal(new Error('x') instanceof pmx.PolymixError, false);
    assert.equal(new TypeError('x') instanceof pmx.PolymixError, false);
    assert.equal(new pmx.ValueError('x') instanceof pmx.IndexError, false);
  });
});

describe('real failures carry the core message', () => {
  it('a shape mismatch is a ValueError naming the op', () => {
    const a = pmx.ones([2, 3]);
    const b = pmx.ones([4, 5]);
    assert.throws(() => pmx.ops.broadcast_add(a, b), (e) => e instanceof pmx.ValueError && /broadcast_add/.test(e.message));
    assert.throws(() => pmx.ops.dot(a, a), pmx.ValueError);
  });

  it('an unknown parameter or a bad value is a ValueError', () => {
    const a = pmx.ones([2]);
    assert.throws(() => pmx.ops.sum(a, { no_such_param: 1 }), (e) => e instanceof pmx.ValueError && /no_such_param/.test(e.message));
    assert.throws(() => pmx.ops.Activation(a, { act_type: 'bogus' }), pmx.ValueError);
  });

  it('a missing input is reported before reaching the core', () => {
    assert.throws(() => pmx.ops.exp(42), (e) => e instanceof TypeError && /\[exp\] input 0 \(data\)/.test(e.message));
  });

  it('load() of a missing or corrupt file rejects with the core error', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pmx-err-'));
    await assert.rejects(pmx.load(path.join(dir, 'missing.params')), (e) => e instanceof pmx.PolymixError && /missing\.params/.test(e.message));
    const corrupt = path.join(dir, 'corrupt.params');
    fs.writeFileSync(corrupt, Buffer.from('not a params file at all'));
    await assert.rejects(pmx.load(corrupt), pmx.ValueError);
    assert.throws(() => pmx.loadSync(corrupt), pmx.ValueError);
  });
});

describe('marshalling through the C ABI', () => {
  it('int64 round-trips every bit as a BigInt', () => {
    for (const value of [0n, 1n, -1n, 9007199254740993n, 9223372036854775807n, -9223372036854775808n]) {
      assert.equal(pmx.testing.echoInt64(value), value);
    }
    assert.throws(() => pmx.testing.echoInt64(2n ** 64n), pmx.ValueError);
    assert.throws(() => pmx.testing.echoInt64(5), TypeError);
  });

  it('doubles round-trip exactly, NaN and -0 included', () => {
    for (const value of [0.1, -0, 1e308, 5e-324, Infinity, -Infinity]) {
      assert.ok(Object.is(pmx.testing.echoDouble(value), value), String(value));
    }
    assert.ok(Number.isNaN(pmx.testing.echoDouble(NaN)));
  });

  it('strings round-trip as UTF-8', () => {
    assert.deepEqual(pmx.testing.echoString(''), { text: '', length: 0 });
    const text = 'héllo 数据 🚀';
    assert.deepEqual(pmx.testing.echoString(text), { text, length: Buffer.byteLength(text, 'utf8') });
  });

  it('reports the ABI version and build', () => {
    assert.equal(pmx.abiVersion(), 1);
    assert.equal(typeof pmx.builtWithCuda(), 'boolean');
    assert.ok(pmx.gpuCount() >= 0);
  });
});

'use strict';
// Lifetimes: tidy() disposes intermediates, keeps results; dispose(); the FinalizationRegistry backstop.
const { describe, it } = require('node:test');
const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
const pmx = require('polymix');

describe('tidy and dispose', () => {
  it('disposes intermediates and keeps the result', () => {
    const before = pmx.memory().numArrays;
    const x = pmx.ones([10, 10]);
    let inner;
    const y = pmx.tidy(() => {
      inner = x.mul(2);
      return inner.add(1).sum();
    });
    assert.equal(inner.isDisposed, true);
    assert.equal(x.isDisposed, false);
    assert.equal(y.isDisposed, false);
    assert.equal(y.dataSync()[0], 300);
    assert.equal(pmx.memory().numArrays, before + 2);
    pmx.dispose(x, y);
    assert.equal(pmx.memory().numArrays, before);
  });

  it('keeps arrays inside returned arrays and objects, and keep()', () => {
    let dropped;
    let kept;
    const result = pmx.tidy(() => {
      dropped = pmx.ones([2]);
      kept = pmx.keep(pmx.zeros([2]));
      return { list: [pmx.ones([1])], nested: { value: pmx.ones([3]) } };
    });
    assert.equal(dropped.isDisposed, true);
    assert.equal(kept.isDisposed, false);
    assert.equal(result.list[0].isDisposed, false);
    assert.equal(result.nested.value.isDisposed, false);
    pmx.dispose(result, kept);
  });

  it('nests: the inner result belongs to the outer tidy', () => {
    let innerResult;
    pmx.tidy(() => {
      innerResult = pmx.tidy(() => pmx.ones([1]).add(1));
      assert.equal(innerResult.isDisposed, false);
    });
    assert.equal(innerResult.isDisposed, true);
  });

  it('disposes on exceptions and refuses Promises', () => {
    let made;
    assert.throws(() => pmx.tidy(() => { made = pmx.ones([1]); throw new Error('boom'); }), /boom/);
    assert.equal(made.isDisposed, true);
    assert.throws(() => pmx.tidy(async () => { made = pmx.ones([1]); }), TypeError);
    assert.equal(made.isDisposed, true);
  });

  it('returns native memory once arrays are disposed', () => {
    pmx.waitAllSync();
    const before = pmx.memory().bytesInUse;
    const big = pmx.ones([256, 1024]);  // 1 MiB
    big.dataSync();
    assert.ok(pmx.memory().bytesInUse >= before + 1024 * 1024);
    big.dispose();
    pmx.waitAllSync();
    assert.ok(pmx.memory().bytesInUse <= before, `${pmx.memory().bytesInUse} > ${before}`);
  });

  it('frees the handles of garbage-collected arrays (FinalizationRegistry)', () => {
    const script = `
      const pmx = require(${JSON.stringify(require.resolve('polymix'))});
      (function make() { for (let i = 0; i < 200; i += 1) pmx.ones([1000]); })();
      const made = pmx.memory().numArrays;
      (async () => {
        for (let round = 0; round < 20 && pmx.memory().numArrays > 0; round += 1) {
          global.gc();
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
        pmx.waitAllSync();
        console.log(JSON.stringify({ made, left: pmx.memory().numArrays, bytes: pmx.memory().bytesInUse }));
      })();`;
    const run = spawnSync(process.execPath, ['--expose-gc', '-e', script], { encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    const { made, left, bytes } = JSON.parse(run.stdout);
    assert.equal(made, 200);
    assert.ok(left < 20, `${left} of 200 arrays still alive after gc`);
    assert.ok(bytes < 200 * 4000 / 2, `${bytes} bytes still in use`);
  });
});

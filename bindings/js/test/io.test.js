'use strict';
// MXNet .params files: round trips of named and unnamed lists, every dtype, async and blocking.
const { describe, it } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const pmx = require('polymix');

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pmx-io-'));

describe('save and load', () => {
  it('round-trips named arrays of every dtype', async () => {
    const arrays = {};
    for (const dtype of pmx.dtypes) arrays[`arg:${dtype}`] = pmx.array([[0, 1, 1], [1, 0, 1]], { dtype });
    arrays['aux:big'] = pmx.array(new BigInt64Array([-(2n ** 62n), 2n ** 62n + 1n]));
    arrays['arg:scalar'] = pmx.array(3.25);
    const file = path.join(dir, 'named.params');
    await pmx.save(file, arrays);
    const loaded = await pmx.load(file);
    assert.deepEqual(Object.keys(loaded).sort(), Object.keys(arrays).sort());
    for (const [name, array] of Object.entries(arrays)) {
      assert.equal(loaded[name].dtype, array.dtype, name);
      assert.deepEqual(loaded[name].shape, array.shape, name);
      assert.deepEqual(Array.from(loaded[name].dataSync()), Array.from(array.dataSync()), name);
    }
    pmx.dispose(arrays, loaded);
  });

  it('round-trips an unnamed list (sync) and a Map', () => {
    const list = [pmx.array([1.5, -2]), pmx.ones([2, 2], { dtype: 'int32' })];
    const file = path.join(dir, 'list.params');
    pmx.saveSync(file, list);
    const loaded = pmx.loadSync(file);
    assert.ok(Array.isArray(loaded));
    assert.deepEqual(loaded.map((a) => a.arraySync()), [[1.5, -2], [[1, 1], [1, 1]]]);
    const mapFile = path.join(dir, 'map.params');
    pmx.saveSync(mapFile, new Map([['w', list[0]]]));
    assert.deepEqual(pmx.loadSync(mapFile).w.arraySync(), [1.5, -2]);
  });

  it('writes the MXNet list magic and reads it back after dispose', async () => {
    const x = pmx.array([1, 2, 3]);
    const file = path.join(dir, 'magic.params');
    const pending = pmx.save(file, [x]);
    x.dispose();  // The save holds its own reference.
    await pending;
    const bytes = fs.readFileSync(file);
    assert.equal(bytes.readBigUInt64LE(0), 0x112n);  // MXNet's NDArray list magic.
    assert.deepEqual((await pmx.load(file))[0].arraySync(), [1, 2, 3]);
  });

  it('rejects what it cannot save', async () => {
    await assert.rejects(pmx.save(path.join(dir, 'bad.params'), 42), TypeError);
    await assert.rejects(pmx.save(path.join(dir, 'no-such-dir', 'x.params'), [pmx.ones([1])]), pmx.PolymixError);
  });
});

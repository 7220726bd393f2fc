'use strict';
// Exported models: a network built with the JS Symbol API, initialized, saved the MXNet way
// (<prefix>-symbol.json + <prefix>-0000.params with arg:/aux: names), loaded back with loadModel and compared
// with an Executor on the same values; the errors of loadModel; and a model exported by the C++ main job
// (examples/cpp/train_fashion_mnist) whose printed predictions Node must reproduce.
const { describe, it } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const zlib = require('node:zlib');
const { spawnSync } = require('node:child_process');
const pmx = require('polymix');
const { assertClose } = require('./helpers');

// conv(4, 3x3) - BatchNorm - relu - max pool - flatten - fc(5) - SoftmaxOutput.
function network() {
  let x = pmx.sym.Variable('data');
  x = pmx.sym.Convolution(x, { kernel: [3, 3], num_filter: 4, name: 'conv1' });
  x = pmx.sym.BatchNorm(x, { fix_gamma: false, name: 'bn1' });
  x = pmx.sym.Activation(x, { act_type: 'relu', name: 'relu1' });
  x = pmx.sym.Pooling(x, { kernel: [2, 2], stride: [2, 2], pool_type: 'max', name: 'pool1' });
  x = pmx.sym.FullyConnected(pmx.sym.Flatten(x, { name: 'flat' }), { num_hidden: 5, name: 'fc1' });
  return pmx.sym.SoftmaxOutput(x, { name: 'softmax' });
}

// An initialized executor for network() with non-trivial BatchNorm statistics, and its parameters by name.
function trainedLike(net, batch) {
  pmx.randomSeed(7);
  const exe = net.simpleBind({ shapes: { data: [batch, 1, 6, 6] }, gradReq: 'null' });
  const init = pmx.optim.createInitializer('xavier', { rnd_type: 'gaussian', magnitude: 2 });
  init.initialize({ ...exe.argDict, ...exe.auxDict }, { symbol: net, exclude: ['data', 'softmax_label'] });
  exe.auxDict.bn1_moving_mean.set(Float32Array.from([0.1, -0.2, 0.3, 0.05]));
  exe.auxDict.bn1_moving_var.set(Float32Array.from([0.5, 2, 1.5, 0.8]));
  exe.argDict.bn1_beta.set(Float32Array.from([0.01, 0.02, -0.03, 0.04]));
  const argParams = Object.fromEntries(Object.entries(exe.argDict)
    .filter(([name]) => name !== 'data' && name !== 'softmax_label'));
  return { exe, argParams, auxParams: exe.auxDict };
}

function tempPrefix(name) {
  return path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'pmx-model-')), name);
}

describe('loadModel', () => {
  it('loads a model saved the MXNet way and predicts as the Executor does', async () => {
    const net = network();
    const { exe, argParams, auxParams } = trainedLike(net, 3);
    const prefix = tempPrefix('net');
    await pmx.saveCheckpoint(prefix, 0, net, argParams, auxParams);
    assert.ok(fs.existsSync(`${prefix}-symbol.json`));
    const raw = pmx.loadSync(`${prefix}-0000.params`);
    assert.deepEqual(Object.keys(raw).sort(), ['arg:bn1_beta', 'arg:bn1_gamma', 'arg:conv1_bias', 'arg:conv1_weight',
      'arg:fc1_bias', 'arg:fc1_weight', 'aux:bn1_moving_mean', 'aux:bn1_moving_var']);

    const x = pmx.array(Float32Array.from({ length: 3 * 36 }, (_, i) => Math.sin(i)), { shape: [3, 1, 6, 6] });
    const [expected] = exe.forward({ data: x });
    const model = await pmx.loadModel(prefix, 0, { inputNames: ['data'] });
    assert.deepEqual(model.inputNames, ['data']);
    const out = model.forward(x);
    assert.deepEqual(out.shape, [3, 5]);
    assertClose(out.dataSync(), expected.dataSync(), { rtol: 0, atol: 1e-6, message: 'loadModel vs Executor' });
    assertClose(model.forward({ data: x.slice(0, 2) }).dataSync(), expected.dataSync().slice(0, 10),
                { rtol: 0, atol: 1e-6, message: 'another batch size' });
    const again = pmx.loadModelSync(prefix);
    assertClose(again.forward(x).dataSync(), expected.dataSync(), { rtol: 0, atol: 1e-6, message: 'loadModelSync' });

    // Predict mode: a second call gives the same values (BatchNorm's statistics are read, not updated).
    assertClose(model.forward(x).dataSync(), expected.dataSync(), { rtol: 0, atol: 1e-6, message: 'repeatable' });
    const stats = model.params.bn1_moving_mean.dataSync();
    assertClose(stats, [0.1, -0.2, 0.3, 0.05], { message: 'statistics untouched' });
    model.dispose();
    again.dispose();
    assert.throws(() => model.forward(x), pmx.ValueError);
    assert.equal(x.isDisposed, false);
    exe.dispose();
  });

  it('reads Gluon-style parameter names and refuses incomplete or mismatched parameters', async () => {
    const net = network();
    const { exe, argParams, auxParams } = trainedLike(net, 2);
    const prefix = tempPrefix('gluon');
    net.save(`${prefix}-symbol.json`);
    pmx.saveSync(`${prefix}-0003.params`, { ...argParams, ...auxParams });  // save_parameters: no prefixes
    const x = pmx.ones([2, 1, 6, 6]);
    const model = pmx.loadModelSync(prefix, 3);
    assertClose(model.forward(x).dataSync(), exe.forward({ data: x })[0].dataSync(), { rtol: 0, atol: 1e-6,
                                                                                       message: 'unprefixed' });
    model.dispose();

    const { fc1_bias: dropped, ...partial } = argParams;
    pmx.saveCheckpointSync(`${prefix}-partial`, 0, net, partial, auxParams);
    assert.throws(() => pmx.loadModelSync(`${prefix}-partial`), /fc1_bias/);
    const zeroBias = pmx.loadModelSync(`${prefix}-partial`, 0, { allowMissing: true });
    assert.deepEqual(zeroBias.forward(x).shape, [2, 5]);
    zeroBias.dispose();
    pmx.saveCheckpointSync(`${prefix}-extra`, 0, net, { ...argParams, stray_weight: dropped }, auxParams);
    assert.throws(() => pmx.loadModelSync(`${prefix}-extra`), /stray_weight/);
    pmx.loadModelSync(`${prefix}-extra`, 0, { ignoreExtra: true }).dispose();
    assert.throws(() => pmx.loadModelSync(prefix, 3, { inputNames: ['pixels'] }), pmx.ValueError);
    assert.throws(() => pmx.loadModelSync(`${prefix}-nothing`), pmx.ValueError);
    await assert.rejects(pmx.loadModel(`${prefix}-nothing`), pmx.ValueError);
    exe.dispose();
  });

  it('runs under autograd, so gradients with respect to the inputs can be taken', () => {
    const net = pmx.sym.FullyConnected(pmx.sym.Variable('data'), { num_hidden: 1, no_bias: true, name: 'fc' });
    const prefix = tempPrefix('linear');
    pmx.saveCheckpointSync(prefix, 0, net, { fc_weight: pmx.array([[1, -2, 3]]) });
    const model = pmx.loadModelSync(prefix);
    const x = pmx.array([[1, 1, 1]]).attachGrad();
    const y = pmx.autograd.record(() => model.forward(x));
    y.backward();
    assert.deepEqual(Array.from(x.grad.dataSync()), [1, -2, 3]);
    model.dispose();
  });
});

// The IDX files of Debian's dataset-fashion-mnist (the C++ example's default folder).
const FASHION_MNIST = '/usr/share/datasets/fashion-mnist';
const CLASSES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag',
  'Ankle boot'];

// The first `count` test images as float32 in [0, 1], shape [count, 1, 28, 28].
function firstTestImages(count) {
  const bytes = zlib.gunzipSync(fs.readFileSync(path.join(FASHION_MNIST, 't10k-images-idx3-ubyte.gz')));
  assert.equal(bytes.readUInt32BE(0), 0x803, 'IDX magic of unsigned-byte images');
  const pixels = Float32Array.from(bytes.subarray(16, 16 + count * 784), (v) => v / 255);
  return pmx.array(pixels, { shape: [count, 1, 28, 28] });
}

describe('a model exported by the C++ main job', () => {
  it('predicts in Node what examples/cpp/train_fashion_mnist printed', (t) => {
    const trainer = process.env.POLYMIX_CPP_TRAINER;
    if (!trainer || !fs.existsSync(trainer)) {
      t.skip('POLYMIX_CPP_TRAINER is not set (bazel test //bindings/js:installed_package_test sets it)');
      return;
    }
    if (!fs.existsSync(path.join(FASHION_MNIST, 't10k-images-idx3-ubyte.gz'))) {
      t.skip(`no Fashion-MNIST in ${FASHION_MNIST} (Debian's dataset-fashion-mnist; tools/setup installs it)`);
      return;
    }
    const prefix = tempPrefix('cnn');
    const run = spawnSync(trainer, ['--epochs', '1', '--limit', '512', '--out', prefix],
                          { encoding: 'utf8', timeout: 240000 });
    assert.equal(run.status, 0, `${trainer} failed:\n${run.stdout}\n${run.stderr}`);
    const printed = [...run.stdout.matchAll(/image (\d+): predicted (.+?)\s+\(p = ([\d.]+)\)/g)]
      .map((m) => ({ index: Number(m[1]), label: m[2], p: Number(m[3]) }));
    assert.equal(printed.length, 8, `expected 8 predictions in:\n${run.stdout}`);

    const model = pmx.loadModelSync(prefix, 0, { inputNames: ['data'] });
    const probabilities = model.forward(firstTestImages(printed.length)).arraySync();
    for (const { index, label, p } of printed) {
      const row = probabilities[index];
      const best = row.indexOf(Math.max(...row));
      assert.equal(CLASSES[best], label, `image ${index}`);
      assert.ok(Math.abs(row[best] - p) <= 1e-4, `image ${index}: p = ${row[best]} in Node, ${p} printed by C++`);
    }
    model.dispose();
  });
});

#!/usr/bin/env node
'use strict';
/**
 * Trains a small MLP (784-256-128-10) on Fashion-MNIST from Node.js with the polymix package: the network is a
 * Symbol bound by an Executor (memory-planned, fused), initialized with Xavier, trained with the core's Adam,
 * measured with the core's metrics; one progress line per epoch (loss, accuracy, throughput), the test
 * accuracy at the end, then an MXNet-format export (<out>-symbol.json + <out>-0000.params) reloaded with
 * loadModel to check that it predicts what the trained network does.
 *
 *   node examples/js/train_fashion_mnist.js [--epochs 5] [--batch-size 128] [--lr 0.001] [--data DIR]
 *                                           [--limit N] [--test-limit N] [--out PREFIX] [--smoke]
 *
 * Data: the gzip-compressed IDX files of Debian's dataset-fashion-mnist (/usr/share/datasets/fashion-mnist;
 * tools/setup installs it). `require('polymix')` must resolve to the installed package: see docs/javascript.md
 * ("Examples") or run `bazel run //examples/js:train_fashion_mnist -- --epochs 5`.
 */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const zlib = require('node:zlib');
const pmx = require('polymix');

const CLASSES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag',
  'Ankle boot'];

/** The command line as settings; --smoke is a few batches of one epoch (what the Bazel test runs). */
function parseSettings(argv) {
  const settings = {
    epochs: 5, batchSize: 128, lr: 0.001, data: '/usr/share/datasets/fashion-mnist', limit: 0, testLimit: 0,
    out: path.join(process.env.TEST_TMPDIR || os.tmpdir(), 'polymix-fashion-mnist-mlp'),
  };
  const numbers = { '--epochs': 'epochs', '--batch-size': 'batchSize', '--lr': 'lr', '--limit': 'limit',
                    '--test-limit': 'testLimit' };
  for (let i = 0; i < argv.length; i += 1) {
    const flag = argv[i];
    if (flag === '--smoke') {
      Object.assign(settings, { epochs: 1, limit: 2048, testLimit: 1000 });
    } else if (flag in numbers || flag === '--data' || flag === '--out') {
      if (i + 1 >= argv.length) throw new Error(`${flag} needs a value`);
      const value = argv[++i];
      if (flag in numbers) {
        settings[numbers[flag]] = Number(value);
        if (!(Number(value) >= 0)) throw new Error(`${flag} must be a number >= 0, given ${value}`);
      } else {
        settings[flag.slice(2)] = value;
      }
    } else {
      throw new Error(`unknown flag ${flag}: expected --epochs, --batch-size, --lr, --data, --limit, ` +
                      '--test-limit, --out or --smoke');
    }
  }
  if (!(settings.epochs >= 1 && settings.batchSize >= 1)) throw new Error('--epochs and --batch-size must be >= 1');
  return settings;
}

/** Reads one IDX file (gzip-compressed or not): {dims, bytes}. */
function readIdx(file) {
  const candidates = [`${file}.gz`, file];
  const found = candidates.find((name) => fs.existsSync(name));
  if (!found) throw new Error(`no ${candidates.join(' or ')}: install Debian's dataset-fashion-mnist (tools/setup)`);
  let bytes = fs.readFileSync(found);
  if (found.endsWith('.gz')) bytes = zlib.gunzipSync(bytes);
  const magic = bytes.readUInt32BE(0);
  if (magic >>> 8 !== 0x08) throw new Error(`${found}: not an IDX file of unsigned bytes (magic ${magic})`);
  const dims = Array.from({ length: magic & 0xff }, (_, i) => bytes.readUInt32BE(4 + 4 * i));
  const offset = 4 + 4 * dims.length;
  const count = dims.reduce((a, b) => a * b, 1);
  if (bytes.length !== offset + count) throw new Error(`${found}: ${bytes.length} bytes, expected ${offset + count}`);
  return { dims, bytes: bytes.subarray(offset) };
}

/** One split ('train' or 't10k'): pixels as float32 in [0, 1] (count x 784) and labels as float32. */
function loadSplit(folder, prefix, limit) {
  const images = readIdx(path.join(folder, `${prefix}-images-idx3-ubyte`));
  const labels = readIdx(path.join(folder, `${prefix}-labels-idx1-ubyte`));
  const count = limit > 0 ? Math.min(limit, images.dims[0]) : images.dims[0];
  const pixels = images.dims[1] * images.dims[2];
  const scaled = new Float32Array(count * pixels);  // a plain loop: Float32Array.from with a map is ~50x slower
  for (let i = 0; i < scaled.length; i += 1) scaled[i] = images.bytes[i] / 255;
  return { count, pixels, images: scaled, labels: Float32Array.from(labels.bytes.subarray(0, count)) };
}

/** A deterministic shuffle (a small LCG, so runs are repeatable). */
function shuffle(order, seed) {
  let state = seed >>> 0;
  for (let i = order.length - 1; i > 0; i -= 1) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    const j = state % (i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }
}

/** Copies examples order[first .. first + batch) (wrapping around) into the batch buffers. */
function fillBatch(split, order, first, data, label) {
  const batch = label.length;
  for (let i = 0; i < batch; i += 1) {
    const index = order[(first + i) % order.length];
    data.set(split.images.subarray(index * split.pixels, (index + 1) * split.pixels), i * split.pixels);
    label[i] = split.labels[index];
  }
}

/** data -> fc1(256) -> relu -> fc2(128) -> relu -> fc3(10) -> SoftmaxOutput. */
function buildNetwork() {
  let x = pmx.sym.Variable('data');
  x = pmx.sym.FullyConnected(x, { num_hidden: 256, name: 'fc1' });
  x = pmx.sym.Activation(x, { act_type: 'relu', name: 'relu1' });
  x = pmx.sym.FullyConnected(x, { num_hidden: 128, name: 'fc2' });
  x = pmx.sym.Activation(x, { act_type: 'relu', name: 'relu2' });
  x = pmx.sym.FullyConnected(x, { num_hidden: 10, name: 'fc3' });
  return pmx.sym.SoftmaxOutput(x, { name: 'softmax' });
}

/** Accuracy of the executor (predict mode) over a split, batch by batch (the last batch padded). */
function evaluate(exe, split, metric) {
  const batch = exe.argDict.softmax_label.size;
  const order = Array.from({ length: split.count }, (_, i) => i);
  const data = new Float32Array(batch * split.pixels);
  const label = new Float32Array(batch);
  let correct = 0;
  for (let first = 0; first < split.count; first += batch) {
    fillBatch(split, order, first, data, label);
    const [probabilities] = exe.forward({ data, softmax_label: label });
    const values = probabilities.dataSync();
    for (let i = 0; i < batch && first + i < split.count; i += 1) {
      const row = values.subarray(i * 10, i * 10 + 10);
      correct += row.indexOf(Math.max(...row)) === label[i] ? 1 : 0;
    }
  }
  metric.reset();
  return correct / split.count;
}

async function main() {
  const settings = parseSettings(process.argv.slice(2));
  console.log(`Loading Fashion-MNIST from ${settings.data}`);
  const train = loadSplit(settings.data, 'train', settings.limit);
  const test = loadSplit(settings.data, 't10k', settings.testLimit);
  console.log(`  ${train.count} training and ${test.count} test images of ${train.pixels} pixels`);

  pmx.randomSeed(42);
  const network = buildNetwork();
  const batch = settings.batchSize;
  const exe = network.simpleBind({
    shapes: { data: [batch, train.pixels], softmax_label: [batch] },
    gradReq: { fc1_weight: 'write', fc1_bias: 'write', fc2_weight: 'write', fc2_bias: 'write', fc3_weight: 'write',
               fc3_bias: 'write' },  // the others (data, softmax_label) get none
  });
  const paramNames = Object.keys(exe.gradDict);
  const init = pmx.optim.createInitializer('xavier', { rnd_type: 'gaussian', factor_type: 'in', magnitude: 2 });
  init.initialize(exe.argDict, { symbol: network, exclude: ['data', 'softmax_label'] });
  const adam = pmx.optim.createOptimizer('adam', {
    learning_rate: settings.lr, rescale_grad: 1 / batch, param_idx2name: paramNames,
  });
  const { plannedBytes, unplannedBytes } = exe.memory();
  console.log(`Network: ${paramNames.length} parameter arrays, planned internal memory ` +
              `${(plannedBytes / 2 ** 20).toFixed(2)} MiB (unplanned ${(unplannedBytes / 2 ** 20).toFixed(2)} MiB)`);

  const metric = pmx.optim.createMetric('composite')
    .add(pmx.optim.createMetric('ce'))
    .add(pmx.optim.createMetric('acc'));
  const order = Array.from({ length: train.count }, (_, i) => i);
  const data = new Float32Array(batch * train.pixels);
  const label = new Float32Array(batch);
  const batches = Math.max(1, Math.floor(train.count / batch));
  const start = process.hrtime.bigint();
  let testAccuracy = 0;
  for (let epoch = 1; epoch <= settings.epochs; epoch += 1) {
    shuffle(order, 7 + epoch);
    metric.reset();
    const epochStart = process.hrtime.bigint();
    for (let b = 0; b < batches; b += 1) {
      fillBatch(train, order, b * batch, data, label);
      const [probabilities] = exe.forward({ isTrain: true, data, softmax_label: label });
      exe.backward();
      paramNames.forEach((name, index) => adam.update(index, exe.argDict[name], exe.gradDict[name]));
      metric.update(exe.argDict.softmax_label, probabilities);
    }
    const seconds = Number(process.hrtime.bigint() - epochStart) / 1e9;
    const { 'cross-entropy': loss, accuracy } = metric.get();
    testAccuracy = evaluate(exe, test, metric);
    console.log(`epoch ${epoch}/${settings.epochs}: train loss ${loss.toFixed(4)}, train acc ${accuracy.toFixed(4)}, ` +
                `test acc ${testAccuracy.toFixed(4)}, ${Math.round((batches * batch) / seconds)} img/s, ` +
                `${seconds.toFixed(1)} s`);
  }
  const total = Number(process.hrtime.bigint() - start) / 1e9;
  console.log(`Trained in ${total.toFixed(1)} s; test accuracy ${(100 * testAccuracy).toFixed(2)}%`);

  // Export as MXNet's save_checkpoint does, reload with loadModel and compare with the trained network.
  const { data: ignoredData, softmax_label: ignoredLabel, ...argParams } = exe.argDict;
  await pmx.saveCheckpoint(settings.out, 0, network, argParams, exe.auxDict);
  console.log(`Exported ${settings.out}-symbol.json and ${settings.out}-0000.params`);
  const model = await pmx.loadModel(settings.out, 0, { inputNames: ['data'] });
  const shown = 8;
  const images = pmx.array(test.images.slice(0, shown * test.pixels), { shape: [shown, test.pixels] });
  const predicted = await model.forward(images).array();
  fillBatch(test, Array.from({ length: test.count }, (_, i) => i), 0, data, label);
  const reference = exe.forward({ data })[0].dataSync();  // the trained network on the same images
  console.log(`Predictions of the reloaded model on the first ${shown} test images:`);
  predicted.forEach((row, i) => {
    const guess = row.indexOf(Math.max(...row));
    const same = Math.abs(row[guess] - reference[i * 10 + guess]) <= 1e-5;
    if (!same) process.exitCode = 1;
    console.log(`  image ${i}: predicted ${CLASSES[guess].padEnd(12)} (p = ${row[guess].toFixed(4)}), true ` +
                `${CLASSES[test.labels[i]].padEnd(12)}${guess === test.labels[i] ? '' : ' <- wrong'}` +
                `${same ? '' : ' (differs from the trained network!)'}`);
  });
  model.dispose();
  exe.dispose();
}

main().catch((error) => {
  console.error(`${error.name}: ${error.message}`);
  process.exit(1);
});

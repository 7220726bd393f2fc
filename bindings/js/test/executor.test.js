'use strict';
// Executors and cached ops through the JS API: forward and backward against imperative autograd on the same
// values, bind to given arrays, grad_req add, copyParamsFrom, forward inputs, reshape, loss layers against a
// hand-computed gradient, BatchNorm statistics, and CachedOp against imperative calls (also under record()).
const { describe, it } = require('node:test');
const assert = require('node:assert/strict');
const pmx = require('polymix');
const { assertClose } = require('./helpers');

// Deterministic values in [-1, 1) from a seed (a small LCG: the test's own data, independent of the core).
function values(count, seed) {
  const out = new Float32Array(count);
  let state = seed >>> 0;
  for (let i = 0; i < count; i += 1) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    out[i] = state / 2 ** 31 - 1;
  }
  return out;
}

// out = FC2(tanh(FC1(data))) with 3 hidden units and 2 outputs.
function mlp() {
  const data = pmx.sym.Variable('data');
  const h = pmx.sym.tanh(pmx.sym.FullyConnected(data, { num_hidden: 3, name: 'fc1' }), { name: 'act' });
  return pmx.sym.FullyConnected(h, { num_hidden: 2, name: 'fc2' });
}

// The same network imperatively on NDArrays.
function mlpImperative({ data, fc1_weight, fc1_bias, fc2_weight, fc2_bias }) {
  const h = pmx.ops.tanh(pmx.ops.FullyConnected(data, fc1_weight, fc1_bias, { num_hidden: 3 }));
  return pmx.ops.FullyConnected(h, fc2_weight, fc2_bias, { num_hidden: 2 });
}

const SHAPES = { data: [4, 5], fc1_weight: [3, 5], fc1_bias: [3], fc2_weight: [2, 3], fc2_bias: [2] };

// Arrays for every argument of mlp(), seeded by name order.
function mlpArrays() {
  return Object.fromEntries(Object.entries(SHAPES).map(([name, shape], i) => [
    name, pmx.array(values(shape.reduce((a, b) => a * b, 1), 11 + i), { shape })]));
}

describe('Executor', () => {
  it('forward and backward match imperative autograd', () => {
    const net = mlp();
    const exe = net.simpleBind({ shapes: { data: SHAPES.data } });
    assert.deepEqual(Object.keys(exe.argDict), net.listArguments());
    const arrays = mlpArrays();
    for (const [name, array] of Object.entries(arrays)) array.copyTo(exe.argDict[name]);
    const headGrad = pmx.array(values(8, 99), { shape: [4, 2] });
    const [out] = exe.forward(true);
    exe.backward(headGrad);

    for (const array of Object.values(arrays)) array.attachGrad();
    const expected = pmx.autograd.record(() => mlpImperative(arrays));
    expected.backward(headGrad);
    assertClose(out.dataSync(), expected.dataSync(), { message: 'output' });
    for (const name of Object.keys(SHAPES)) {
      assertClose(exe.gradDict[name].dataSync(), arrays[name].grad.dataSync(), { message: `d${name}` });
    }
    assert.deepEqual(exe.outputs[0].shape, [4, 2]);
    assert.equal(exe.outputs[0], out, 'outputs are the same arrays after each forward');
    exe.dispose();
    assert.equal(out.isDisposed, true, 'the executor owns its arrays');
    assert.throws(() => exe.forward(), pmx.ValueError);
  });

  it('binds given arrays, accumulates with grad_req add and leaves null gradients out', () => {
    const net = mlp();
    const arrays = mlpArrays();
    const grads = Object.fromEntries(Object.entries(SHAPES).filter(([name]) => name !== 'data')
      .map(([name, shape]) => [name, pmx.zeros(shape)]));
    const exe = net.bind({ args: arrays, argsGrad: grads, gradReq: 'add' });
    assert.equal(exe.argDict.fc1_weight.dataSync()[0], arrays.fc1_weight.dataSync()[0]);
    arrays.fc1_bias.set(Float32Array.from([1, 2, 3]));  // bound, not copied: the executor sees the change
    assert.deepEqual(Array.from(exe.argDict.fc1_bias.dataSync()), [1, 2, 3]);
    assert.deepEqual(Object.keys(exe.gradDict), ['fc1_weight', 'fc1_bias', 'fc2_weight', 'fc2_bias']);
    assert.equal(exe.gradArrays[0], null);
    const ones = pmx.ones([4, 2]);
    exe.forward(true);
    exe.backward(ones);
    const once = Array.from(grads.fc2_bias.dataSync());
    assertClose(once, [4, 4], { message: 'd fc2_bias = sum of head gradients' });
    exe.forward(true);
    exe.backward(ones);
    assertClose(grads.fc2_bias.dataSync(), once.map((v) => 2 * v), { message: 'add accumulates' });
    exe.dispose();
    assert.equal(grads.fc2_bias.isDisposed, false, "the caller's arrays stay the caller's");
  });

  it('copies parameters and inputs in, and reshapes for another batch size', () => {
    const net = mlp();
    const exe = net.simpleBind({ shapes: { data: [4, 5] }, gradReq: 'null' });
    const arrays = mlpArrays();
    const { data, ...params } = arrays;
    exe.copyParamsFrom(params);
    assert.throws(() => exe.copyParamsFrom({ nonsense: data }), pmx.ValueError);
    exe.copyParamsFrom({ nonsense: data }, {}, true);
    const [out] = exe.forward({ data });
    const expected = mlpImperative(arrays);
    assertClose(out.dataSync(), expected.dataSync(), { message: 'forward({data})' });
    exe.forward({ data: data.dataSync() });  // a TypedArray works too
    assertClose(out.dataSync(), expected.dataSync(), { message: 'forward({data: TypedArray})' });
    assert.throws(() => exe.forward({ nope: data }), pmx.ValueError);

    const small = exe.reshape({ data: [2, 5] });
    const [half] = small.forward({ data: data.slice(0, 2) });
    assertClose(half.dataSync(), expected.dataSync().slice(0, 4), { message: 'reshaped' });
    assert.throws(() => exe.reshape({ data: [8, 5] }), pmx.ValueError);
    const big = exe.reshape({ data: [8, 5] }, { allowUpSizing: true });
    assert.deepEqual(big.outputs[0].shape, [8, 2]);
    const { plannedBytes, unplannedBytes } = exe.memory();
    assert.ok(plannedBytes >= 0 && unplannedBytes >= plannedBytes);
    [exe, small, big].forEach((e) => e.dispose());
  });

  it('backpropagates SoftmaxOutput without head gradients (softmax - one_hot)', () => {
    const net = pmx.sym.SoftmaxOutput(pmx.sym.Variable('x'), { name: 'softmax' });
    const exe = net.simpleBind({ shapes: { x: [2, 3] }, gradReq: { x: 'write' } });
    assert.deepEqual(Object.keys(exe.gradDict), ['x']);
    const x = [[1, 2, 3], [0.5, -1, 0]];
    exe.forward({ isTrain: true, x: pmx.array(x), softmax_label: pmx.array([2, 0]) });
    exe.backward();
    const expected = [];
    x.forEach((row, i) => {
      const exps = row.map(Math.exp);
      const total = exps.reduce((a, b) => a + b, 0);
      exps.forEach((e, j) => expected.push(e / total - (j === [2, 0][i] ? 1 : 0)));
    });
    assertClose(exe.gradDict.x.dataSync(), expected, { message: 'softmax - one_hot' });
    exe.dispose();
  });

  it('updates BatchNorm statistics in training mode only', () => {
    const net = pmx.sym.BatchNorm(pmx.sym.Variable('x'), { name: 'bn', momentum: 0.5, fix_gamma: false });
    const exe = net.simpleBind({ shapes: { x: [4, 2] }, gradReq: 'null' });
    exe.argDict.bn_gamma.set(Float32Array.from([1, 1]));
    exe.auxDict.bn_moving_var.set(Float32Array.from([1, 1]));
    const x = pmx.array([[1, 10], [2, 20], [3, 30], [4, 40]]);
    exe.forward({ x });
    assert.deepEqual(Array.from(exe.auxDict.bn_moving_mean.dataSync()), [0, 0]);
    exe.forward({ isTrain: true, x });
    assertClose(exe.auxDict.bn_moving_mean.dataSync(), [0.5 * 2.5, 0.5 * 25], { message: 'moving mean' });
    exe.dispose();
  });

  it('names bad arguments in its errors', () => {
    const net = mlp();
    assert.throws(() => net.simpleBind({}), pmx.ValueError);
    assert.throws(() => net.simpleBind({ shapes: { data: [4, 5] }, gradReq: 'sometimes' }), pmx.ValueError);
    assert.throws(() => net.bind({ args: { data: pmx.zeros([4, 5]) } }), /fc1_weight/);
    const arrays = mlpArrays();
    arrays.fc1_weight = pmx.zeros([7, 7]);
    assert.throws(() => net.bind({ args: arrays }), pmx.ValueError);
  });
});

describe('CachedOp', () => {
  it('matches imperative calls, by position and by name', () => {
    const net = mlp();
    const op = new pmx.CachedOp(net, { static_alloc: true });
    assert.ok(op instanceof pmx.CachedOp);
    assert.equal(typeof op, 'function');
    assert.deepEqual(op.inputNames, ['data', 'fc1_weight', 'fc1_bias', 'fc2_weight', 'fc2_bias']);
    const arrays = mlpArrays();
    const expected = mlpImperative(arrays).dataSync();
    assertClose(op(...op.inputNames.map((name) => arrays[name])).dataSync(), expected, { message: 'positional' });
    assertClose(op(arrays).dataSync(), expected, { message: 'by name' });
    assertClose(op.invoke(op.inputNames.map((name) => arrays[name])).dataSync(), expected, { message: 'invoke' });
    assert.throws(() => op(arrays.data), pmx.ValueError);
    assert.throws(() => new pmx.CachedOp(net, { no_such_flag: 1 }), pmx.ValueError);
    op.dispose();
    assert.throws(() => op(arrays), pmx.ValueError);
  });

  it('is recorded by autograd as one node with the imperative gradients', () => {
    const op = new pmx.CachedOp(pmx.sym.sum(mlp()));
    const arrays = mlpArrays();
    const twins = Object.fromEntries(Object.entries(arrays).map(([name, array]) => [name, array.copy()]));
    for (const array of [...Object.values(arrays), ...Object.values(twins)]) array.attachGrad();
    const loss = pmx.autograd.record(() => op(arrays));
    loss.backward();
    const reference = pmx.autograd.record(() => pmx.ops.sum(mlpImperative(twins)));
    reference.backward();
    assertClose(loss.dataSync(), reference.dataSync(), { message: 'loss' });
    for (const name of Object.keys(SHAPES)) {
      assertClose(arrays[name].grad.dataSync(), twins[name].grad.dataSync(), { message: `d${name}` });
    }
    const unrecorded = op(arrays);
    assert.throws(() => unrecorded.backward(), pmx.ValueError);
  });

  it('runs Dropout in the thread training mode', () => {
    const op = new pmx.CachedOp(pmx.sym.Dropout(pmx.sym.Variable('x'), { p: 0.5 }));
    const x = pmx.ones([1000]);
    assert.ok(pmx.autograd.predictMode(() => op(x)).dataSync().every((v) => v === 1));
    const zeros = pmx.autograd.trainMode(() => op(x)).dataSync().filter((v) => v === 0).length;
    assert.ok(zeros > 350 && zeros < 650, `${zeros} zeros`);
  });
});

'use strict';
// The optim group through the JS API: every optimizer's first two steps against a plain-JS reference of MXNet
// 1.9.1's update rule (float64), multipliers and parameter names, schedules, initializers by parameter name,
// and metrics against hand-computed values.
const { describe, it } = require('node:test');
const assert = require('node:assert/strict');
const pmx = require('polymix');
const { assertClose } = require('./helpers');

const W0 = [0.5, -1.2, 0.3, 2.0, -0.7, 0.05];
const GRADS = [[0.4, -0.2, 1.5, -0.8, 0.05, 0.3], [-0.3, 0.6, 0.2, 0.9, -1.1, 0.7]];
const LR = 0.1;
const WD = 0.01;
const RESCALE = 0.5;

const sign = (v) => (v > 0 ? 1 : v < 0 ? -1 : 0);
const norm = (v) => Math.sqrt(v.reduce((a, b) => a + b * b, 0));
const zeros = () => W0.map(() => 0);

// Each case: MXNet's name, its kwargs beyond lr/wd/rescale_grad, and a reference step: step(w, g, s, t) updates
// the weight list `w` and state object `s` in place for update count t, with g already rescaled.
const CASES = [
  ['sgd', {}, (w, g) => w.forEach((v, i) => { w[i] = v - LR * (g[i] + WD * v); })],
  ['sgd', { momentum: 0.9 }, (w, g, s) => {
    s.mom = s.mom || zeros();
    w.forEach((v, i) => { s.mom[i] = 0.9 * s.mom[i] - LR * (g[i] + WD * v); w[i] = v + s.mom[i]; });
  }],
  ['sgd', { clip_gradient: 0.3 }, (w, g) => w.forEach((v, i) => {
    w[i] = v - LR * (Math.max(-0.3, Math.min(0.3, g[i])) + WD * v);
  })],
  ['nag', { momentum: 0.9 }, (w, g, s) => {
    s.mom = s.mom || zeros();
    w.forEach((v, i) => {
      const gg = g[i] + WD * v;
      s.mom[i] = 0.9 * s.mom[i] + gg;
      w[i] = v - LR * (gg + 0.9 * s.mom[i]);
    });
  }],
  ['signum', { momentum: 0.9 }, (w, g, s) => {
    s.mom = s.mom || zeros();
    w.forEach((v, i) => { s.mom[i] = 0.9 * s.mom[i] - 0.1 * (g[i] + WD * v); w[i] = v + LR * sign(s.mom[i]); });
  }],
  ['signum', { momentum: 0 }, (w, g) => w.forEach((v, i) => { w[i] = (1 - LR * WD) * v - LR * sign(g[i]); })],
  ['adam', {}, (w, g, s, t) => {
    s.m = s.m || zeros();
    s.v = s.v || zeros();
    const lr = LR * Math.sqrt(1 - 0.999 ** t) / (1 - 0.9 ** t);
    w.forEach((x, i) => {
      const gg = g[i] + WD * x;
      s.m[i] = 0.9 * s.m[i] + 0.1 * gg;
      s.v[i] = 0.999 * s.v[i] + 0.001 * gg * gg;
      w[i] = x - lr * s.m[i] / (Math.sqrt(s.v[i]) + 1e-8);
    });
  }],
  ['adamw', {}, (w, g, s, t) => {
    s.m = s.m || zeros();
    s.v = s.v || zeros();
    const lr = LR * Math.sqrt(1 - 0.999 ** t) / (1 - 0.9 ** t);
    w.forEach((x, i) => {
      s.m[i] = 0.9 * s.m[i] + 0.1 * g[i];
      s.v[i] = 0.999 * s.v[i] + 0.001 * g[i] * g[i];
      w[i] = x - lr * (s.m[i] / (Math.sqrt(s.v[i]) + 1e-6) + WD * x);
    });
  }],
  ['rmsprop', {}, (w, g, s) => {
    s.n = s.n || zeros();
    w.forEach((x, i) => {
      const gg = g[i] + WD * x;
      s.n[i] = 0.1 * gg * gg + 0.9 * s.n[i];
      w[i] = x - LR * gg / Math.sqrt(s.n[i] + 1e-8);
    });
  }],
  ['rmsprop', { centered: true, gamma2: 0.8 }, (w, g, s) => {
    s.n = s.n || zeros();
    s.g = s.g || zeros();
    s.delta = s.delta || zeros();
    w.forEach((x, i) => {
      const gg = g[i] + WD * x;
      s.n[i] = 0.1 * gg * gg + 0.9 * s.n[i];
      s.g[i] = 0.1 * gg + 0.9 * s.g[i];
      s.delta[i] = 0.8 * s.delta[i] - LR * gg / Math.sqrt(s.n[i] - s.g[i] * s.g[i] + 1e-8);
      w[i] = x + s.delta[i];
    });
  }],
  ['adagrad', {}, (w, g, s) => {
    s.h = s.h || zeros();
    w.forEach((x, i) => {
      s.h[i] += g[i] * g[i];
      w[i] = x - LR * (g[i] / Math.sqrt(s.h[i] + 1e-7) + WD * x);
    });
  }],
  ['adadelta', {}, (w, g, s) => {
    s.accG = s.accG || zeros();
    s.accD = s.accD || zeros();
    w.forEach((x, i) => {
      s.accG[i] = 0.9 * s.accG[i] + 0.1 * g[i] * g[i];
      const delta = Math.sqrt(s.accD[i] + 1e-5) / Math.sqrt(s.accG[i] + 1e-5) * g[i];
      s.accD[i] = 0.9 * s.accD[i] + 0.1 * delta * delta;
      w[i] = x - (delta + WD * x);
    });
  }],
  ['ftrl', {}, (w, g, s) => {
    s.z = s.z || zeros();
    s.n = s.n || zeros();
    w.forEach((x, i) => {
      s.z[i] += g[i] - (Math.sqrt(s.n[i] + g[i] * g[i]) - Math.sqrt(s.n[i])) * x / LR;
      s.n[i] += g[i] * g[i];
      w[i] = Math.abs(s.z[i]) > 0.01
        ? (sign(s.z[i]) * 0.01 - s.z[i]) / ((1 + Math.sqrt(s.n[i])) / LR + WD) : 0;
    });
  }],
  ['lamb', {}, (w, g, s, t) => {
    s.m = s.m || zeros();
    s.v = s.v || zeros();
    const direction = w.map((x, i) => {
      s.m[i] = 0.9 * s.m[i] + 0.1 * g[i];
      s.v[i] = 0.999 * s.v[i] + 0.001 * g[i] * g[i];
      const mHat = s.m[i] / (1 - 0.9 ** t);
      const vHat = s.v[i] / (1 - 0.999 ** t);
      return mHat / (Math.sqrt(vHat) + 1e-6) + WD * x;
    });
    const r1 = norm(w);
    const r2 = norm(direction);
    const ratio = r1 > 0 && r2 > 0 ? r1 / r2 : 1;
    w.forEach((x, i) => { w[i] = x - LR * ratio * direction[i]; });
  }],
];

describe('optimizers', () => {
  for (const [name, extra, step] of CASES) {
    it(`${name} ${JSON.stringify(extra)}: two steps match the reference`, () => {
      const optimizer = pmx.optim.createOptimizer(name, { learning_rate: LR, wd: WD, rescale_grad: RESCALE, ...extra });
      const weight = pmx.array(W0);
      const expected = W0.slice();
      const state = {};
      GRADS.forEach((grad, t) => {
        optimizer.update(0, weight, pmx.array(grad));
        step(expected, grad.map((v) => v * RESCALE), state, t + 1);
        assertClose(weight.dataSync(), expected, { rtol: 2e-5, atol: 2e-6, message: `${name} step ${t + 1}` });
      });
      assert.equal(optimizer.numUpdate, 2);
      optimizer.dispose();
    });
  }

  it('keeps states per index, or uses the state given', () => {
    const adam = pmx.optim.createOptimizer('adam', { learning_rate: 0.01 });
    const weight = pmx.array([1, 2]);
    const state = adam.createState(3, weight);
    assert.equal(state.arrays.length, 2);
    assert.equal(state.weight32, null);
    adam.update(3, weight, pmx.array([1, -1]), state);
    assertClose(state.arrays[0].dataSync(), [0.1, -0.1], { message: 'Adam mean' });
    assert.equal(adam.states.size, 0);
    adam.update(1, pmx.array([0]), pmx.array([1]));
    assert.deepEqual(Array.from(adam.states.keys()), [1]);
    adam.dispose();
    assert.equal(state.isDisposed, false, 'states made by createState are the caller\'s');
    assert.throws(() => adam.update(3, weight, weight, state), pmx.ValueError);
  });

  it('applies parameter names, lr and wd multipliers', () => {
    const sgd = pmx.optim.createOptimizer('sgd', { learning_rate: 1, wd: 0.5,
                                                   param_idx2name: ['fc_weight', 'fc_bias'] });
    const weight = pmx.array([2]);
    const bias = pmx.array([2]);
    const grad = pmx.array([0]);
    sgd.update(0, weight, grad);
    sgd.update(1, bias, grad);
    assert.deepEqual(Array.from(weight.dataSync()), [1], 'weight decays: 2 - 1 * 0.5 * 2');
    assert.deepEqual(Array.from(bias.dataSync()), [2], 'no wd for a bias (MXNet default)');
    sgd.setLrMult({ fc_weight: 0.5 }).setWdMult({ 1: 1 });
    sgd.update(0, weight, grad);
    sgd.update(1, bias, grad);
    assert.deepEqual(Array.from(weight.dataSync()), [0.75]);
    assert.deepEqual(Array.from(bias.dataSync()), [1]);
    assert.equal(sgd.getParam('wd'), '0.5');
    sgd.setParam('rescale_grad', 0.25);
    assert.equal(Number(sgd.getParam('rescale_grad')), 0.25);
    assert.throws(() => sgd.setParam('warp_speed', 9), pmx.ValueError);
    assert.throws(() => pmx.optim.createOptimizer('nosuch'), pmx.ValueError);
    assert.throws(() => pmx.optim.createOptimizer('sgd', { momentum: 'fast' }), pmx.ValueError);
  });

  it('follows an attached learning-rate schedule', () => {
    const schedule = pmx.optim.createLRScheduler('factor', { step: 1, factor: 0.5 });
    const sgd = pmx.optim.createOptimizer('sgd', { learning_rate: 1, lr_scheduler: schedule });
    assert.equal(sgd.lrScheduler, schedule);
    const weight = pmx.array([0]);
    const grad = pmx.array([1]);
    sgd.update(0, weight, grad);  // lr 1 at update 1
    sgd.update(0, weight, grad);  // lr 0.5 at update 2
    assert.deepEqual(Array.from(weight.dataSync()), [-1.5]);
    assert.equal(sgd.learningRate, 0.5);
    assert.throws(() => { sgd.learningRate = 0.3; }, pmx.ValueError);
  });
});

describe('learning-rate schedules', () => {
  it('give MXNet 1.9.1 values', () => {
    const at = (name, params, counts) => {
      const schedule = pmx.optim.createLRScheduler(name, { base_lr: 1, ...params });
      return counts.map((t) => schedule.lr(t));
    };
    assertClose(at('factor', { step: 2, factor: 0.5 }, [1, 2, 3, 5]), [1, 1, 0.5, 0.25], { message: 'factor' });
    assertClose(at('multifactor', { step: [2, 4], factor: 0.1 }, [2, 3, 5]), [1, 0.1, 0.01], { message: 'multi' });
    assertClose(at('poly', { max_update: 10, pwr: 2 }, [0, 5, 10]), [1, 0.25, 0], { message: 'poly' });
    assertClose(at('cosine', { max_update: 10, final_lr: 0.1 }, [5]), [0.1 + 0.9 * 0.5], { message: 'cosine' });
    assertClose(at('factor', { step: 100, warmup_steps: 4, warmup_begin_lr: 0 }, [2]), [0.5], { message: 'warmup' });
    assert.throws(() => pmx.optim.createLRScheduler('zigzag'), pmx.ValueError);
  });
});

describe('initializers', () => {
  it('initialize arrays by parameter name with MXNet rules', () => {
    const init = pmx.optim.createInitializer('constant', { value: 0.7 });
    assert.deepEqual(Array.from(init.apply('fc_weight', pmx.zeros([3])).dataSync()), [0.7, 0.7, 0.7].map(Math.fround));
    assert.deepEqual(Array.from(init.apply('fc_bias', pmx.ones([2])).dataSync()), [0, 0]);
    assert.deepEqual(Array.from(init.apply('bn_gamma', pmx.zeros([2])).dataSync()), [1, 1]);
    assert.deepEqual(Array.from(init.apply('bn_moving_var', pmx.zeros([2])).dataSync()), [1, 1]);
    assert.deepEqual(Array.from(init.apply('bn_moving_mean', pmx.ones([2])).dataSync()), [0, 0]);
    assert.throws(() => init.apply('mystery', pmx.zeros([2])), pmx.ValueError);
    const fromAttr = init.apply('fc_bias', pmx.zeros([2]), '["constant", {"value": 3.0}]');
    assert.deepEqual(Array.from(fromAttr.dataSync()), [3, 3], 'a variable\'s __init__ decides');
  });

  it('draws xavier values within the MXNet bound and dumps MXNet JSON', () => {
    pmx.randomSeed(3);
    const xavier = pmx.optim.createInitializer('xavier');
    const values = xavier.apply('w_weight', pmx.zeros([20, 30])).dataSync();
    const bound = Math.sqrt(3 / ((30 + 20) / 2));  // uniform, factor_type avg, magnitude 3
    assert.ok(values.every((v) => Math.abs(v) <= bound + 1e-6));
    assert.ok(Math.max(...values.map(Math.abs)) > 0.9 * bound);
    assert.deepEqual(JSON.parse(xavier.dumps())[0], 'xavier');
    const fromJson = pmx.optim.createInitializer('["constant", {"value": 2}]');
    assert.deepEqual(Array.from(fromJson.apply('k_weight', pmx.zeros([1])).dataSync()), [2]);
  });

  it('mixes initializers by pattern and initializes a whole executor', () => {
    const mixed = pmx.optim.mixedInitializer([['fc1', pmx.optim.createInitializer('constant', { value: 5 })],
                                              ['.*', pmx.optim.createInitializer('one')]]);
    assert.deepEqual(Array.from(mixed.apply('fc1_weight', pmx.zeros([1])).dataSync()), [5]);
    assert.deepEqual(Array.from(mixed.apply('fc2_weight', pmx.zeros([1])).dataSync()), [1]);
    // The chosen initializer still dispatches by name, as MXNet's: a bias is zero even under Constant.
    assert.deepEqual(Array.from(mixed.apply('fc1_bias', pmx.ones([1])).dataSync()), [0]);
    assert.throws(() => pmx.optim.mixedInitializer([['fc1', mixed]]).apply('conv_weight', pmx.zeros([1])),
                  pmx.ValueError);
    const data = pmx.sym.Variable('data');
    const w = pmx.sym.Variable('fc_weight', { init: pmx.optim.createInitializer('constant', { value: 0.25 }) });
    const net = pmx.sym.FullyConnected(data, w, { num_hidden: 2, name: 'fc' });
    const exe = net.simpleBind({ shapes: { data: [1, 3] } });
    pmx.optim.createInitializer('one').initialize(exe.argDict, { symbol: net, exclude: ['data'] });
    assert.deepEqual(Array.from(exe.argDict.fc_weight.dataSync()), [0.25, 0.25, 0.25, 0.25, 0.25, 0.25]);
    assert.deepEqual(Array.from(exe.argDict.fc_bias.dataSync()), [0, 0]);
    exe.dispose();
  });
});

describe('metrics', () => {
  const preds = () => pmx.array([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]]);
  const labels = () => pmx.array([1, 1, 1]);

  it('accumulate accuracy, cross-entropy, mse over batches', () => {
    const acc = pmx.optim.createMetric('acc');
    assert.ok(Number.isNaN(acc.get().accuracy));
    acc.update(labels(), preds());
    assert.deepEqual(acc.get(), { accuracy: 2 / 3 });
    acc.update([pmx.array([0])], [pmx.array([[0.6, 0.4]])]);
    assert.deepEqual(acc.getNameValue(), [['accuracy', 3 / 4]]);
    acc.reset();
    assert.ok(Number.isNaN(acc.get().accuracy));
    const ce = pmx.optim.createMetric('ce').update(labels(), preds());
    assertClose([ce.get()['cross-entropy']], [-(Math.log(0.9) + Math.log(0.2) + Math.log(0.7)) / 3],
                { message: 'cross-entropy' });
    const mse = pmx.optim.createMetric('mse').update(pmx.array([1, 2]), pmx.array([1.5, 2]));
    assertClose([mse.get().mse], [0.125], { message: 'mse' });
  });

  it('combine in a composite and reject unknown names', () => {
    const composite = pmx.optim.createMetric('composite');
    const acc = pmx.optim.createMetric('acc');
    composite.add(acc).add(pmx.optim.createMetric('top_k_accuracy', { top_k: 2 }));
    composite.update(labels(), preds());
    const result = composite.get();
    assert.equal(result.accuracy, 2 / 3);
    assert.equal(result.top_k_accuracy_2, 1);
    assert.equal(acc.get().accuracy, 2 / 3, 'the child is shared');
    assert.throws(() => pmx.optim.createMetric('vibes'), pmx.ValueError);
    assert.throws(() => acc.add(composite), pmx.errors.TypeError);
  });
});

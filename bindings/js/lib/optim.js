'use strict';
/**
 * Training pieces written once in the core and shared by every language: optimizers (mx.optimizer),
 * learning-rate schedules (mx.lr_scheduler), initializers (mx.init) and metrics (mx.metric), with MXNet 1.9.1's
 * names, parameters (MXNet's keyword names: learning_rate, wd, rescale_grad, momentum, ...) and formulas.
 */
const util = require('util');
const native = require('./native');
const errors = require('./errors');
const scope = require('./scope');
const { NDArray, handleOf, wrapHandle } = require('./ndarray');
const { NativeObject, handleOfType, describe } = require('./resource');

/**
 * A keyword argument as MXNet's str() prints it: numbers, "True"/"False", "None", "[10, 20]"; strings as given.
 */
function formatKwarg(value, where) {
  if (value === null) return 'None';
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (typeof value === 'number') {
    if (Number.isNaN(value)) return 'nan';
    if (!Number.isFinite(value)) return value > 0 ? 'inf' : '-inf';
    return String(value);
  }
  if (typeof value === 'string' || typeof value === 'bigint') return String(value);
  if (Array.isArray(value)) return `[${value.map((item) => formatKwarg(item, where)).join(', ')}]`;
  throw new errors.TypeError(`${where}: expected a number, boolean, string, array or null, given ${describe(value)}`);
}

// [keys, values] of a kwargs object (undefined values left out), skipping `skip` keys.
function kwargs(params, where, skip = []) {
  if (params === null || typeof params !== 'object' || Array.isArray(params)) {
    throw new errors.TypeError(`[${where}] expected an object of parameters, given ${describe(params)}`);
  }
  const entries = Object.entries(params).filter(([key, value]) => value !== undefined && !skip.includes(key));
  return [entries.map(([key]) => key), entries.map(([key, value]) => formatKwarg(value, `[${where}] ${key}`))];
}

// [keys, values] of multipliers by name (strings) and by index (integers) from an object or a Map.
function multipliers(value, where) {
  const entries = value instanceof Map ? Array.from(value) : Object.entries(value || {});
  const names = [];
  const nameMults = [];
  const indices = [];
  const indexMults = [];
  for (const [key, mult] of entries) {
    if (typeof key === 'number' || /^\d+$/.test(key)) {
      indices.push(Number(key));
      indexMults.push(Number(mult));
    } else {
      names.push(String(key));
      nameMults.push(Number(mult));
    }
  }
  if ([...nameMults, ...indexMults].some((mult) => !Number.isFinite(mult))) {
    throw new errors.TypeError(`[${where}] multipliers must be numbers`);
  }
  return [names, nameMults, indices, indexMults];
}

// ---- Learning-rate schedules -----------------------------------------------------------------------------------

/** A learning-rate schedule (mx.lr_scheduler): stateful as MXNet's, asking for a count may advance it. */
class LRScheduler extends NativeObject {
  constructor(handle, name) {
    super(handle, native.lrSchedulerFree, 'LRScheduler');
    this.name = name;
  }

  /** The learning rate after `numUpdate` updates (MXNet's scheduler(num_update)). */
  lr(numUpdate) {
    return native.lrSchedulerGetLr(this._live('lr'), numUpdate);
  }
}

/**
 * Creates a schedule: 'factor' (step, factor, stop_factor_lr), 'multifactor' (step as a list, factor), 'poly'
 * (max_update, pwr, final_lr) or 'cosine' (max_update, final_lr), each with base_lr, warmup_steps,
 * warmup_begin_lr and warmup_mode.
 */
function createLRScheduler(name, params = {}) {
  const [keys, values] = kwargs(params, 'createLRScheduler');
  return new LRScheduler(native.lrSchedulerCreate(String(name), keys, values), String(name));
}

// ---- Optimizers ------------------------------------------------------------------------------------------------

/** The state of one weight under an optimizer: its arrays (momentum, moments, ...) and the float32 master copy. */
class OptimizerState extends NativeObject {
  constructor(handle) {
    super(handle, native.optimizerStateFree, 'OptimizerState');
    const handles = native.optimizerStateArrays(handle);
    const arrays = handles.map((h) => (h === null ? null : scope.keep(wrapHandle(h))));
    this._weight32 = arrays.pop();
    this._arrays = arrays;
  }

  /** The state's arrays in the optimizer's order (SGD's momentum, Adam's mean and var), sharing memory. */
  get arrays() {
    this._live('arrays');
    return this._arrays.slice();
  }

  /** The float32 master copy of a float16 weight (multi_precision), or null. */
  get weight32() {
    this._live('weight32');
    return this._weight32;
  }

  /** Frees the state handle and its arrays' handles. */
  dispose() {
    if (this._handle === null) return;
    for (const array of this._arrays) array.dispose();
    if (this._weight32 !== null) this._weight32.dispose();
    super.dispose();
  }
}

/**
 * An optimizer (mx.optimizer.Optimizer): hyper-parameters, per-parameter multipliers and update counts.
 * update(index, weight, grad) keeps one state per index itself (as MXNet's get_updater does); pass a state from
 * createState(index, weight) to manage states yourself.
 */
class Optimizer extends NativeObject {
  constructor(handle, name) {
    super(handle, native.optimizerFree, 'Optimizer');
    this.name = name;
    this._states = new Map();
    this._scheduler = null;
  }

  /** Sets a hyper-parameter by MXNet's name ("rescale_grad", "learning_rate", "momentum", ...). */
  setParam(key, value) {
    native.optimizerSetParam(this._live('setParam'), String(key), formatKwarg(value, `[setParam] ${key}`));
    return this;
  }

  /** A hyper-parameter as MXNet's str() prints it ("0.1", "None", "True"). */
  getParam(key) {
    return native.optimizerGetParam(this._live('getParam'), String(key));
  }

  /** The current learning rate (the schedule's value at numUpdate when one is attached). */
  get learningRate() {
    return native.optimizerCounters(this._live('learningRate'))[0];
  }

  /** Sets learning_rate (a ValueError while a schedule is attached, as MXNet's set_learning_rate). */
  set learningRate(value) {
    this.setParam('learning_rate', value);
  }

  /** The number of updates so far (the largest update count of any index). */
  get numUpdate() {
    return native.optimizerCounters(this._live('numUpdate'))[1];
  }

  /** Attaches a schedule (null detaches) and sets its base_lr to learning_rate, as MXNet's constructor. */
  setLRScheduler(scheduler) {
    const handle = scheduler === null ? null : handleOfType(scheduler, LRScheduler, 'setLRScheduler');
    native.optimizerSetLrScheduler(this._live('setLRScheduler'), handle);
    this._scheduler = scheduler;
    return this;
  }

  /** The attached schedule, or null. */
  get lrScheduler() {
    return this._scheduler;
  }

  /**
   * Names parameters by index (MXNet's param_idx2name): an array (index i is names[i]), an object or a Map of
   * index -> name. Sets wd_mult 0 for names not ending in _weight or _gamma, as MXNet does.
   */
  setParamNames(names) {
    const entries = Array.isArray(names) ? names.map((name, i) => [i, name])
      : (names instanceof Map ? Array.from(names) : Object.entries(names));
    native.optimizerSetParamNames(this._live('setParamNames'), entries.map(([index]) => Number(index)),
                                  entries.map(([, name]) => String(name)));
    return this;
  }

  /** Replaces the lr multipliers (MXNet's set_lr_mult): {name: mult} and/or {index: mult} (object or Map). */
  setLrMult(mults) {
    native.optimizerSetMult(this._live('setLrMult'), 'lr', ...multipliers(mults, 'setLrMult'));
    return this;
  }

  /** Replaces the wd multipliers (MXNet's set_wd_mult) on top of the named-parameter default. */
  setWdMult(mults) {
    native.optimizerSetMult(this._live('setWdMult'), 'wd', ...multipliers(mults, 'setWdMult'));
    return this;
  }

  /** Creates the state of weight `index` (zeros like the weight; a float32 master copy with multi_precision). */
  createState(index, weight) {
    return new OptimizerState(native.optimizerCreateState(this._live('createState'), index,
                                                          handleOf(weight, 'createState')));
  }

  /**
   * Updates `weight` in place from `grad` (MXNet's update_multi_precision): counts the update of `index`,
   * applies its learning rate and weight decay, and mutates the state (the one kept for `index` when `state`
   * is omitted). Asynchronous, as operators are.
   */
  update(index, weight, grad, state = undefined) {
    const handle = this._live('update');
    let own = state;
    if (own === undefined || own === null) {
      own = this._states.get(index);
      if (own === undefined) {
        own = this.createState(index, weight);
        this._states.set(index, own);
      }
    }
    native.optimizerUpdate(handle, index, handleOf(weight, 'update'), handleOf(grad, 'update'),
                           handleOfType(own, OptimizerState, 'update'));
  }

  /** The states update() keeps, by index (for saving them). */
  get states() {
    return new Map(this._states);
  }

  /** Frees the optimizer and the states it keeps. */
  dispose() {
    for (const state of this._states.values()) state.dispose();
    this._states.clear();
    super.dispose();
  }

  toString() {
    return `Optimizer ${this.name}`;
  }

  [util.inspect.custom]() {
    return this.toString();
  }
}

/**
 * Creates an optimizer by MXNet's name ('sgd', 'nag', 'adam', 'adamw', 'rmsprop', 'adagrad', 'adadelta', 'ftrl',
 * 'signum', 'lamb') with MXNet's keyword arguments: {learning_rate: 0.1, momentum: 0.9, wd: 1e-4,
 * rescale_grad: 1 / batch, clip_gradient, multi_precision, lr_scheduler (an LRScheduler), param_idx2name}.
 */
function createOptimizer(name, params = {}) {
  const [keys, values] = kwargs(params, 'createOptimizer', ['lr_scheduler', 'param_idx2name']);
  const optimizer = new Optimizer(native.optimizerCreate(String(name), keys, values), String(name).toLowerCase());
  if (params.lr_scheduler) optimizer.setLRScheduler(params.lr_scheduler);
  if (params.param_idx2name) optimizer.setParamNames(params.param_idx2name);
  return optimizer;
}

// ---- Initializers ----------------------------------------------------------------------------------------------

/** A weight initializer (mx.init), applied to arrays by parameter name with MXNet's rules. */
class Initializer extends NativeObject {
  constructor(handle, name) {
    super(handle, native.initializerFree, 'Initializer');
    this.name = name;
  }

  /** The JSON MXNet stores in a variable's __init__ attribute ('["xavier", {"magnitude": 2.34}]'). */
  dumps() {
    return native.initializerDumps(this._live('dumps'));
  }

  /**
   * Initializes `array` as parameter `name` (MXNet's dispatch): `initAttr` (the variable's __init__ JSON)
   * decides when given; else names ending in weight get this initializer's rule, bias/beta/moving_mean 0,
   * gamma/moving_var 1; other names are a ValueError. Returns the array.
   */
  apply(name, array, initAttr = null) {
    native.initializerApply(this._live('apply'), String(name), initAttr === null ? null : String(initAttr),
                            handleOf(array, 'Initializer.apply'));
    return array;
  }

  /**
   * Initializes every array of `arrays` ({name: NDArray} or a Map; an Executor's argDict and auxDict) by name,
   * reading each variable's __init__ attribute from `symbol` when given, skipping the names in `exclude`
   * (inputs such as 'data' and 'softmax_label'). Returns `arrays`.
   */
  initialize(arrays, { symbol = null, exclude = [] } = {}) {
    const entries = arrays instanceof Map ? Array.from(arrays) : Object.entries(arrays);
    const attrs = symbol === null ? {} : symbol.attrDict();
    for (const [name, array] of entries) {
      if (exclude.includes(name) || array === null) continue;
      const own = attrs[name] || {};
      this.apply(name, array, own.__init__ === undefined ? null : own.__init__);
    }
    return arrays;
  }
}

/**
 * Creates an initializer: 'uniform' (scale), 'normal' (sigma), 'xavier' (rnd_type, factor_type, magnitude),
 * 'msraprelu', 'constant' (value), 'zero', 'one', 'orthogonal'; or MXNet's JSON form
 * ('["xavier", {"magnitude": 2}]', then no params). Random draws follow pmx.randomSeed.
 */
function createInitializer(nameOrJson, params = {}) {
  const [keys, values] = kwargs(params, 'createInitializer');
  return new Initializer(native.initializerCreate(String(nameOrJson), keys, values), String(nameOrJson));
}

/**
 * MXNet's Mixed initializer: `rules` is a list of [pattern, Initializer] (or an object pattern -> Initializer);
 * a parameter gets the initializer of the first regular expression matching the start of its name.
 */
function mixedInitializer(rules) {
  const entries = Array.isArray(rules) ? rules : Object.entries(rules);
  const initializers = entries.map(([, init]) => handleOfType(init, Initializer, 'mixedInitializer'));
  return new Initializer(native.initializerCreateMixed(entries.map(([pattern]) => String(pattern)), initializers),
                         'mixed');
}

// ---- Metrics ---------------------------------------------------------------------------------------------------

/** An evaluation metric (mx.metric) accumulating over update() calls. */
class Metric extends NativeObject {
  constructor(handle, name) {
    super(handle, native.metricFree, 'Metric');
    this.name = name;
  }

  /**
   * Accumulates one batch: labels[i] goes with preds[i] (NDArrays or arrays of them). Reads the arrays back,
   * so it waits for their computation.
   */
  update(labels, preds) {
    const list = (value) => (value instanceof NDArray ? [value] : Array.from(value || []));
    native.metricUpdate(this._live('update'), list(labels).map((a) => handleOf(a, 'Metric.update')),
                        list(preds).map((a) => handleOf(a, 'Metric.update')));
    return this;
  }

  /** The result as {name: value} (one entry, or one per child of a composite); NaN before any instance. */
  get() {
    const [names, values] = native.metricGet(this._live('get'));
    return Object.fromEntries(names.map((name, i) => [name, values[i]]));
  }

  /** The result as [name, value] pairs (MXNet's get_name_value). */
  getNameValue() {
    const [names, values] = native.metricGet(this._live('getNameValue'));
    return names.map((name, i) => [name, values[i]]);
  }

  /** Clears the accumulated values. */
  reset() {
    native.metricReset(this._live('reset'));
    return this;
  }

  /** Adds a child to a 'composite' metric (the child is shared: its own get() sees the updates). */
  add(child) {
    native.metricCompositeAdd(this._live('add'), handleOfType(child, Metric, 'Metric.add'));
    return this;
  }
}

/**
 * Creates a metric by MXNet's name or alias: 'accuracy'/'acc', 'top_k_accuracy' (top_k), 'f1', 'mae', 'mse',
 * 'rmse', 'crossentropy'/'ce', 'perplexity', 'loss', 'composite'; params: name, axis, top_k, average, eps,
 * ignore_label.
 */
function createMetric(name, params = {}) {
  const [keys, values] = kwargs(params, 'createMetric');
  return new Metric(native.metricCreate(String(name), keys, values), String(name));
}

module.exports = {
  createOptimizer,
  Optimizer,
  OptimizerState,
  createLRScheduler,
  LRScheduler,
  createInitializer,
  mixedInitializer,
  Initializer,
  createMetric,
  Metric,
};

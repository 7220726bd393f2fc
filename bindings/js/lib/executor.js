'use strict';
/**
 * Graph execution: an Executor binds a Symbol to arrays for forward and backward passes (MXNet's simple_bind /
 * bind), and a CachedOp calls a Symbol like one operator on NDArrays (what Gluon's hybridize runs), recorded by
 * autograd as one node. Both compile once per input signature (shapes and dtypes inferred, memory planned,
 * elementwise chains fused) and push each pass to the engine: forward() and backward() return at once, and
 * reading an output (`await out.data()`) is where the caller waits, off the event loop.
 */
const util = require('util');
const native = require('./native');
const errors = require('./errors');
const scope = require('./scope');
const { NDArray, handleOf, wrapHandle, GRAD_REQS } = require('./ndarray');
const { toDevice } = require('./device');
const { flagOf } = require('./dtype');
const { NativeObject, adopt, live, release, describe } = require('./resource');
const symbolModule = require('./symbol');

// The array groups of pmx_executor_arrays.
const GROUP = Object.freeze({ args: 0, grads: 1, aux: 2, outputs: 3 });
// Only this module makes Executors.
const CONSTRUCT = Symbol('polymix.Executor');

// The C ABI value of a grad_req name ('inplace' is 'write', as in MXNet).
function gradReqFlag(req, where) {
  const key = req === 'inplace' ? 'write' : req;
  if (!Object.prototype.hasOwnProperty.call(GRAD_REQS, key)) {
    throw new errors.ValueError(`[${where}] grad_req must be 'write', 'add', 'inplace' or 'null', given ${req}`);
  }
  return GRAD_REQS[key];
}

// A list in `names` order from an array (checked for length) or an object/Map by name (missing: `fill`).
function listByName(value, names, where, what, fill) {
  if (Array.isArray(value)) {
    if (value.length !== names.length) {
      throw new errors.ValueError(`[${where}] expected ${names.length} ${what} (${names.join(', ')}), given ` +
                                  `${value.length}`);
    }
    return value;
  }
  const map = value instanceof Map ? value : new Map(Object.entries(value || {}));
  for (const key of map.keys()) {
    if (!names.includes(key)) {
      throw new errors.ValueError(`[${where}] ${what}: '${key}' is not one of ${names.join(', ')}`);
    }
  }
  return names.map((name) => (map.has(name) ? map.get(name) : fill(name)));
}

// NDArrays of a group: wrapped once, kept out of tidy scopes, owned by the executor.
function wrapGroup(handles) {
  return handles.map((handle) => (handle === null ? null : scope.keep(wrapHandle(handle))));
}

// {name: array} for parallel lists (null arrays left out).
function dictOf(names, arrays) {
  const dict = {};
  names.forEach((name, i) => { if (arrays[i] !== null) dict[name] = arrays[i]; });
  return dict;
}

/**
 * A Symbol bound to argument, gradient and auxiliary-state arrays on one device (MXNet's Executor). Its arrays
 * (argArrays, gradArrays, auxArrays, outputs, and the *Dict views) belong to it: dispose() frees them too.
 */
class Executor extends NativeObject {
  /** Internal: use Executor.simpleBind, Executor.bind or Symbol.simpleBind / bind. */
  constructor(token, handle, symbol) {
    if (token !== CONSTRUCT) throw new errors.TypeError('[Executor] use Executor.simpleBind or Executor.bind');
    super(handle, native.executorFree, 'Executor');
    this.symbol = symbol;
    for (const [group, kind] of Object.entries(GROUP)) {
      const { names, handles } = native.executorArrays(handle, kind);
      this[`_${group}`] = wrapGroup(handles);
      this[`_${group}Names`] = names;
    }
  }

  /**
   * Binds `symbol` allocating every array (MXNet's simple_bind). Options: device (default the CPU), shapes
   * ({name: shape} of some inputs; the rest are inferred), dtypes ({name: dtype}; float32 where nothing decides),
   * gradReq ('write' (default), 'add', 'null'; or {name: req} with 'null' for the others; or one per argument).
   * Arrays start as zeros.
   */
  static simpleBind(symbol, { device, shapes = {}, dtypes = {}, gradReq = 'write' } = {}) {
    const where = 'simpleBind';
    const handle = symbolModule.handleOf(symbol, where);
    const place = toDevice(device);
    const shapeEntries = Object.entries(shapes);
    const dtypeEntries = Object.entries(dtypes);
    let reqNames = [];
    let reqs = [];
    let defaultReq = GRAD_REQS.null;
    if (typeof gradReq === 'string') {
      defaultReq = gradReqFlag(gradReq, where);
    } else if (Array.isArray(gradReq)) {
      reqNames = symbol.listArguments();
      reqs = listByName(gradReq, reqNames, where, 'grad_req', null).map((req) => gradReqFlag(req, where));
    } else {
      reqNames = Object.keys(gradReq);
      reqs = reqNames.map((name) => gradReqFlag(gradReq[name], where));
    }
    return new Executor(CONSTRUCT, native.executorSimpleBind(
      handle, place.typeFlag, place.id, shapeEntries.map(([name]) => name),
      shapeEntries.map(([, shape]) => (typeof shape === 'number' ? [shape] : shape)),
      dtypeEntries.map(([name]) => name), dtypeEntries.map(([, dtype]) => flagOf(dtype)), reqNames, reqs, defaultReq),
    symbol);
  }

  /**
   * Binds `symbol` to given arrays, used without copying (MXNet's bind). Options: device, args (one NDArray per
   * argument, as an array in listArguments order or an object by name), argsGrad (likewise, null for no
   * gradient; omit for none), gradReq ('write' by default where a gradient array is given; a string, an object
   * by name or a list), auxStates (one per auxiliary state).
   */
  static bind(symbol, { device, args, argsGrad = null, gradReq = 'write', auxStates = [] } = {}) {
    const where = 'bind';
    const handle = symbolModule.handleOf(symbol, where);
    const place = toDevice(device);
    const argNames = symbol.listArguments();
    const argList = listByName(args, argNames, where, 'args', (name) => {
      throw new errors.ValueError(`[bind] args: no array for argument '${name}'`);
    });
    let gradHandles = null;
    let reqs = null;
    if (argsGrad !== null && argsGrad !== undefined) {
      const grads = listByName(argsGrad, argNames, where, 'argsGrad', () => null);
      gradHandles = grads.map((grad) => (grad === null ? null : handleOf(grad, where)));
      const reqList = typeof gradReq === 'string' ? argNames.map(() => gradReq)
        : listByName(gradReq, argNames, where, 'grad_req', () => 'null');
      reqs = reqList.map((req, i) => (grads[i] === null ? GRAD_REQS.null : gradReqFlag(req, where)));
    }
    const auxList = listByName(auxStates, symbol.listAuxiliaryStates(), where, 'auxStates', (name) => {
      throw new errors.ValueError(`[bind] auxStates: no array for auxiliary state '${name}'`);
    });
    return new Executor(CONSTRUCT, native.executorBind(
      handle, place.typeFlag, place.id, argList.map((array) => handleOf(array, where)), gradHandles, reqs,
      auxList.map((array) => handleOf(array, where))), symbol);
  }

  /**
   * Runs the forward pass and returns the outputs: forward(), forward(true) (training mode: Dropout drops,
   * BatchNorm uses and updates batch statistics), or forward({isTrain, ...inputs}) where inputs (NDArrays or
   * TypedArrays by argument name) are first copied into the argument arrays (MXNet's forward(**kwargs)).
   */
  forward(options = false) {
    const handle = this._live('forward');
    let isTrain = false;
    let inputs = {};
    if (typeof options === 'boolean') {
      isTrain = options;
    } else if (options !== null && typeof options === 'object') {
      ({ isTrain = false, ...inputs } = options);
    }
    for (const [name, value] of Object.entries(inputs)) {
      const target = this.argDict[name];
      if (target === undefined) {
        throw new errors.ValueError(`[forward] '${name}' is not an argument: expected one of ` +
                                    `${this._argsNames.join(', ')}`);
      }
      if (value instanceof NDArray) value.copyTo(target);
      else target.set(value);
    }
    native.executorForward(handle, Boolean(isTrain));
    return this.outputs;
  }

  /**
   * Runs the backward pass of the last forward, writing (or adding, grad_req 'add') the gradient arrays.
   * `outGrads`: one head gradient per output (an NDArray, or a list with nulls), omitted for loss outputs
   * (SoftmaxOutput, MakeLoss). Option isTrain (default true).
   */
  backward(outGrads = null, { isTrain = true } = {}) {
    const handle = this._live('backward');
    const list = outGrads === null || outGrads === undefined ? null : (Array.isArray(outGrads) ? outGrads : [outGrads]);
    native.executorBackward(handle, list && list.map((g) => (g === null ? null : handleOf(g, 'backward'))),
                            Boolean(isTrain));
  }

  /** The output arrays, in listOutputs order (overwritten by each forward). */
  get outputs() { this._live('outputs'); return this._outputs.slice(); }
  /** The argument arrays, in listArguments order. */
  get argArrays() { this._live('argArrays'); return this._args.slice(); }
  /** The gradient arrays, one per argument (null for grad_req 'null'). */
  get gradArrays() { this._live('gradArrays'); return this._grads.slice(); }
  /** The auxiliary state arrays, in listAuxiliaryStates order. */
  get auxArrays() { this._live('auxArrays'); return this._aux.slice(); }
  /** {argument name: array}. */
  get argDict() { this._live('argDict'); return dictOf(this._argsNames, this._args); }
  /** {argument name: gradient array} (arguments without gradient left out). */
  get gradDict() { this._live('gradDict'); return dictOf(this._gradsNames, this._grads); }
  /** {auxiliary state name: array}. */
  get auxDict() { this._live('auxDict'); return dictOf(this._auxNames, this._aux); }
  /** {output name: array}. */
  get outputDict() { this._live('outputDict'); return dictOf(this._outputsNames, this._outputs); }

  /**
   * Copies parameters in by name (MXNet's copy_params_from): argParams and auxParams are objects or Maps of
   * NDArrays. A name that is neither an argument nor an auxiliary state is a ValueError unless allowExtraParams.
   */
  copyParamsFrom(argParams, auxParams = {}, allowExtraParams = false) {
    const handle = this._live('copyParamsFrom');
    const args = argParams instanceof Map ? Array.from(argParams) : Object.entries(argParams || {});
    const aux = auxParams instanceof Map ? Array.from(auxParams) : Object.entries(auxParams || {});
    native.executorCopyParamsFrom(handle, args.map(([name]) => name),
                                  args.map(([, array]) => handleOf(array, 'copyParamsFrom')),
                                  aux.map(([name]) => name), aux.map(([, array]) => handleOf(array, 'copyParamsFrom')),
                                  Boolean(allowExtraParams));
  }

  /**
   * A new executor for new input shapes (MXNet's reshape), sharing arrays whose shape is unchanged. Options:
   * partialShaping, allowUpSizing (both false by default, as in MXNet). This executor stays valid.
   */
  reshape(shapes, { partialShaping = false, allowUpSizing = false } = {}) {
    const entries = Object.entries(shapes);
    return new Executor(CONSTRUCT, native.executorReshape(
      this._live('reshape'), entries.map(([name]) => name),
      entries.map(([, shape]) => (typeof shape === 'number' ? [shape] : shape)), Boolean(partialShaping),
      Boolean(allowUpSizing)), this.symbol);
  }

  /** {plannedBytes, unplannedBytes}: internal buffers with and without memory planning. */
  memory() {
    const [plannedBytes, unplannedBytes] = native.executorMemory(this._live('memory'));
    return { plannedBytes, unplannedBytes };
  }

  /** Frees the executor and its arrays' handles (their memory lives on while other handles use it). */
  dispose() {
    if (this._handle === null) return;
    for (const group of Object.keys(GROUP)) {
      for (const array of this[`_${group}`]) if (array !== null) array.dispose();
    }
    super.dispose();
  }

  toString() {
    return this._handle === null ? 'Executor <disposed>'
      : `Executor (${this._argsNames.length} arguments, outputs ${this._outputsNames.join(', ')})`;
  }

  [util.inspect.custom]() {
    return this.toString();
  }
}

// A CachedOp flag value as the core reads it ("true"/"false", numbers, strings).
function formatFlag(value) {
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (Array.isArray(value)) return `[${value.join(', ')}]`;
  return String(value);
}

/**
 * A Symbol compiled per input signature and called like one operator on NDArrays (MXNet's CachedOp, what
 * Gluon's hybridize runs). The object is a function: `op(x, w, b)` or `op({data: x, ...})` with one NDArray per
 * input (inputNames: every variable, arguments and auxiliary states, in listInputs order). It runs in the
 * thread's training mode (autograd.trainMode / predictMode) and, inside autograd.record, is recorded as one
 * node whose gradient runs the cached backward graph. Returns one NDArray for one output, else an array.
 * Flags: MXNet's static_alloc, static_shape, forward_bulk_size, backward_bulk_size, and Polymix's fuse,
 * inplace, share_memory, cse.
 */
class CachedOp {
  constructor(symbol, flags = {}) {
    const handleOfSymbol = symbolModule.handleOf(symbol, 'CachedOp');
    const keys = Object.keys(flags);
    const handle = native.cachedOpCreate(handleOfSymbol, keys, keys.map((key) => formatFlag(flags[key])));
    const op = function cachedOp(...inputs) {
      return CachedOp.prototype.invoke.apply(op, inputs);
    };
    Object.setPrototypeOf(op, new.target.prototype);
    adopt(op, handle, native.cachedOpFree, 'CachedOp');
    Object.defineProperty(op, 'symbol', { value: symbol, enumerable: true });
    Object.defineProperty(op, 'inputNames', { value: Object.freeze(native.cachedOpInputNames(handle)),
                                              enumerable: true });
    return op;
  }

  /** Calls the op: NDArrays in inputNames order (arrays flattened), or one object of them by input name. */
  invoke(...inputs) {
    const handle = live(this, 'CachedOp');
    let list = inputs.flat();
    if (list.length === 1 && !(list[0] instanceof NDArray) && list[0] !== null && typeof list[0] === 'object') {
      list = listByName(list[0], this.inputNames, 'CachedOp', 'inputs', (name) => {
        throw new errors.ValueError(`[CachedOp] no array for input '${name}'`);
      });
    }
    if (list.length !== this.inputNames.length) {
      throw new errors.ValueError(`[CachedOp] expected ${this.inputNames.length} inputs ` +
                                  `(${this.inputNames.join(', ')}), given ${list.length}`);
    }
    const outputs = native.cachedOpInvoke(handle, list.map((array, i) => {
      if (!(array instanceof NDArray)) {
        throw new errors.TypeError(`[CachedOp] input ${this.inputNames[i]}: expected an NDArray, given ` +
                                   `${describe(array)}`);
      }
      return handleOf(array, 'CachedOp');
    })).map((outputHandle) => wrapHandle(outputHandle));
    return outputs.length === 1 ? outputs[0] : outputs;
  }

  /** Whether dispose() has been called. */
  get isDisposed() {
    return this._handle === null;
  }

  /** Frees the cached op (outputs and recorded graphs that use it stay valid). Idempotent. */
  dispose() {
    release(this);
  }

  toString() {
    return this._handle === null ? 'CachedOp <disposed>' : `CachedOp (${this.inputNames.join(', ')})`;
  }

  [util.inspect.custom]() {
    return this.toString();
  }
}

module.exports = { Executor, CachedOp, listByName };

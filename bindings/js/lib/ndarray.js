'use strict';
/**
 * NDArray: an n-dimensional array in the core (dtype + shape + device), owned through one C ABI handle.
 * Work is asynchronous: operators return at once; `data()` (a Promise) and `dataSync()` (blocking) wait for the
 * result and copy it into a TypedArray. Free arrays with `dispose()` or `tidy()` (lib/scope.js).
 */
const util = require('util');
const native = require('./native');
const errors = require('./errors');
const scope = require('./scope');
const { DTYPES, checkDtype, flagOf, nameOf } = require('./dtype');
const { Device, toDevice } = require('./device');

// Only this module (through wrapHandle) makes NDArrays; users call polymix.array(), zeros(), ops.
const CONSTRUCT = Symbol('polymix.NDArray');
// Gradient requests (MXNet's grad_req) and their C ABI values.
const GRAD_REQS = Object.freeze({ null: 0, write: 1, add: 3 });

// lib/ops.js, loaded on first use (it requires lib/invoke.js, which requires this module).
let opsModule = null;
function ops() {
  if (opsModule === null) opsModule = require('./ops');
  return opsModule;
}

// Runs an op with a scalar or an array as the second operand (x.add(2), x.add(y)).
function binary(array, other, broadcastOp, scalarOp) {
  if (other instanceof NDArray) return ops()[broadcastOp](array, other);
  if (typeof other === 'number' || typeof other === 'boolean') return ops()[scalarOp](array, { scalar: +other });
  throw new errors.TypeError(`[${broadcastOp}] expected an NDArray or a number, given ${typeof other}`);
}

class NDArray {
  /** Internal: use polymix.array(), zeros(), ones(), full() or an operator to make arrays. */
  constructor(token, handle) {
    if (token !== CONSTRUCT) {
      throw new errors.TypeError('[NDArray] use polymix.array(values, {dtype, shape}) (or zeros, ones, full) ' +
                                 'to create an NDArray');
    }
    this._handle = handle;
    this._info = null;  // [dtypeFlag, deviceType, deviceId, ...shape], read once.
    this._grad = null;  // The NDArray of the gradient buffer, once read.
    scope.track(this, handle);
  }

  // ---- Properties --------------------------------------------------------------------------------

  _live(where) {
    if (this._handle === null) throw new errors.ValueError(`[${where}] the NDArray has been disposed`);
    return this._handle;
  }

  _getInfo() {
    if (this._info === null) this._info = native.info(this._live('NDArray'));
    return this._info;
  }

  /** The element type: 'float32', 'float64', 'float16', 'bfloat16', 'uint8', 'int8', 'int32', 'int64', 'bool'. */
  get dtype() {
    return nameOf(this._getInfo()[0]);
  }

  /** The shape (a new array each time; [] for a scalar). */
  get shape() {
    return this._getInfo().slice(3);
  }

  /** The number of dimensions. */
  get ndim() {
    return this._getInfo().length - 3;
  }

  /** The number of elements. */
  get size() {
    return this.shape.reduce((a, b) => a * b, 1);
  }

  /** Where the data lives. */
  get device() {
    const info = this._getInfo();
    return Device.fromFlags(info[1], info[2]);
  }

  /** Whether dispose() has been called. */
  get isDisposed() {
    return this._handle === null;
  }

  // ---- Reading data ------------------------------------------------------------------------------

  _typedArray() {
    return new DTYPES[this.dtype].TypedArray(this.size);
  }

  /**
   * A Promise of the values in a new TypedArray (row-major; Uint16Array bit patterns for float16/bfloat16,
   * BigInt64Array for int64, Uint8Array for bool). Waits on a worker thread, never blocking the event loop;
   * errors of the computation reject it. Disposing the array meanwhile is safe.
   */
  async data() {
    const handle = this._live('data');
    const out = this._typedArray();
    await native.copyToHost(handle, out);
    return out;
  }

  /** The values as data() gives them, blocking until they are computed. */
  dataSync() {
    const out = this._typedArray();
    native.copyToHostSync(this._live('dataSync'), out);
    return out;
  }

  /** A Promise of the values as nested JS arrays (numbers; BigInts for int64; booleans for bool). */
  async array() {
    return this._nest(await this._valuesFor('array', true));
  }

  /** The values as nested JS arrays, blocking. */
  arraySync() {
    return this._nest(this._valuesFor('arraySync', false));
  }

  // The flat values as numbers (16-bit floats converted by the core), as a Promise when asynchronous.
  _valuesFor(where, asynchronous) {
    this._live(where);
    if (this.dtype !== 'float16' && this.dtype !== 'bfloat16') return asynchronous ? this.data() : this.dataSync();
    const wide = this.astype('float32');
    scope.keep(wide);
    if (!asynchronous) {
      try {
        return wide.dataSync();
      } finally {
        wide.dispose();
      }
    }
    return wide.data().finally(() => wide.dispose());
  }

  _nest(flat) {
    const shape = this.shape;
    const values = this.dtype === 'bool' ? Array.from(flat, (v) => v !== 0) : Array.from(flat);
    if (shape.length === 0) return values[0];
    const build = (axis, offset) => {
      const count = shape[axis];
      if (axis === shape.length - 1) return values.slice(offset, offset + count);
      const stride = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
      return Array.from({ length: count }, (_, i) => build(axis + 1, offset + i * stride));
    };
    return build(0, 0);
  }

  /** A Promise that resolves when pending writes to the array have finished (rejects with their error). */
  async waitToRead() {
    await native.waitToRead(this._live('waitToRead'));
  }

  /** Blocks until pending writes to the array have finished. */
  waitToReadSync() {
    native.waitToReadSync(this._live('waitToReadSync'));
  }

  /** "NDArray float32 [2,3] @cpu(0)" with the values (reads them: blocks until computed). */
  toString() {
    if (this._handle === null) return 'NDArray <disposed>';
    const header = `NDArray ${this.dtype} [${this.shape.join(',')}] @${this.device}`;
    if (this.size > 1000) return header;
    return `${header}\n${util.inspect(this.arraySync(), { depth: null, maxArrayLength: 1000 })}`;
  }

  [util.inspect.custom]() {
    return this.toString();
  }

  // ---- Lifetime ----------------------------------------------------------------------------------

  /** Frees the native array now (also its gradient's handle); later use is a ValueError. Idempotent. */
  dispose() {
    if (this._handle === null) return;
    if (this._grad !== null) this._grad.dispose();
    const handle = this._handle;
    this._handle = null;
    scope.release(this, handle);
  }

  // ---- Views and copies --------------------------------------------------------------------------

  /** A view with another shape of the same size (shares memory); one -1 is inferred. Also reshape(2, 3). */
  reshape(...shape) {
    const dims = shape.length === 1 && Array.isArray(shape[0]) ? shape[0] : shape;
    const known = dims.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
    const resolved = dims.map((d) => (d === -1 ? (known === 0 ? 0 : this.size / known) : d));
    return wrapHandle(native.reshape(this._live('reshape'), resolved));
  }

  /** A view of rows [begin, end) along the first axis (shares memory). */
  slice(begin, end) {
    return wrapHandle(native.slice(this._live('slice'), begin, end === undefined ? this.shape[0] : end));
  }

  /** A view of row `index` along the first axis, one dimension fewer (shares memory). */
  at(index) {
    return wrapHandle(native.at(this._live('at'), index));
  }

  /** A converted copy with another dtype. */
  astype(dtype) {
    return wrapHandle(native.astype(this._live('astype'), flagOf(dtype)));
  }

  /** A copy (same device and dtype). */
  copy() {
    return ops()._copy(this);
  }

  /**
   * Copies to a device (a new array; MXNet's copyto(ctx) / as_in_context), or into another NDArray of the same
   * shape (which it returns; dtypes may differ).
   */
  copyTo(target) {
    if (target instanceof NDArray) {
      native.copyInto(this._live('copyTo'), target._live('copyTo'));
      return target;
    }
    const device = toDevice(target);
    return wrapHandle(native.copyToDevice(this._live('copyTo'), device.typeFlag, device.id));
  }

  /** Overwrites the values from a TypedArray of this array's element type and size. */
  set(values) {
    const Typed = DTYPES[this.dtype].TypedArray;
    if (!(values instanceof Typed) || values.length !== this.size) {
      throw new errors.TypeError(`[set] expected a ${Typed.name} of ${this.size} elements`);
    }
    native.copyFromHost(this._live('set'), values);
    return this;
  }

  // ---- Autograd ----------------------------------------------------------------------------------

  /** Makes this array a variable of autograd (MXNet's attach_grad) with a zero gradient buffer. */
  attachGrad(gradReq = 'write') {
    if (!Object.prototype.hasOwnProperty.call(GRAD_REQS, gradReq)) {
      throw new errors.ValueError(`[attachGrad] grad_req must be 'write', 'add' or 'null', given ${gradReq}`);
    }
    if (this._grad !== null) {
      this._grad.dispose();
      this._grad = null;
    }
    native.markVariables([this._live('attachGrad')], null, [GRAD_REQS[gradReq]]);
    return this;
  }

  /** The gradient buffer (shares memory; owned by this array), or null if attachGrad was not called. */
  get grad() {
    // A fresh handle each time (with create_graph the buffer joins a new graph), in the same NDArray object.
    const handle = native.getGrad(this._live('grad'));
    if (handle === null) {
      if (this._grad !== null) this._grad.dispose();
      this._grad = null;
    } else if (this._grad === null || this._grad.isDisposed) {
      this._grad = scope.keep(wrapHandle(handle));
    } else {
      scope.replaceHandle(this._grad, this._grad._handle, handle);
      this._grad._handle = handle;
    }
    return this._grad;
  }

  /** The same data outside any autograd graph (MXNet's detach). */
  detach() {
    return wrapHandle(native.detach(this._live('detach')));
  }

  /**
   * Differentiates this recorded array (see autograd.backward): writes the gradients of the variables it
   * depends on into their `grad` buffers. `outGrad` is the head gradient (default ones).
   */
  backward(outGrad = null, { retainGraph = false, trainMode = true, createGraph = false } = {}) {
    native.backward([this._live('backward')], outGrad === null ? null : [outGrad._live('backward')], retainGraph,
                    createGraph, trainMode);
  }

  // ---- Arithmetic (each a generated op) ---------------------------------------------------------

  /** this + other (broadcasting), other an NDArray or a number. */
  add(other) { return binary(this, other, 'broadcast_add', '_plus_scalar'); }
  /** this - other. */
  sub(other) { return binary(this, other, 'broadcast_sub', '_minus_scalar'); }
  /** this * other. */
  mul(other) { return binary(this, other, 'broadcast_mul', '_mul_scalar'); }
  /** this / other. */
  div(other) { return binary(this, other, 'broadcast_div', '_div_scalar'); }
  /** this ** other. */
  pow(other) { return binary(this, other, 'broadcast_power', '_power_scalar'); }
  /** this % other. */
  mod(other) { return binary(this, other, 'broadcast_mod', '_mod_scalar'); }
  /** Elementwise maximum. */
  maximum(other) { return binary(this, other, 'broadcast_maximum', '_maximum_scalar'); }
  /** Elementwise minimum. */
  minimum(other) { return binary(this, other, 'broadcast_minimum', '_minimum_scalar'); }
  /** this == other, as 0/1 of this dtype. */
  equal(other) { return binary(this, other, 'broadcast_equal', '_equal_scalar'); }
  /** this != other. */
  notEqual(other) { return binary(this, other, 'broadcast_not_equal', '_not_equal_scalar'); }
  /** this > other. */
  greater(other) { return binary(this, other, 'broadcast_greater', '_greater_scalar'); }
  /** this >= other. */
  greaterEqual(other) { return binary(this, other, 'broadcast_greater_equal', '_greater_equal_scalar'); }
  /** this < other. */
  less(other) { return binary(this, other, 'broadcast_lesser', '_lesser_scalar'); }
  /** this <= other. */
  lessEqual(other) { return binary(this, other, 'broadcast_lesser_equal', '_lesser_equal_scalar'); }
  /** -this. */
  neg() { return ops().negative(this); }
  /** |this|. */
  abs() { return ops().abs(this); }
  /** e ** this. */
  exp() { return ops().exp(this); }
  /** Natural logarithm. */
  log() { return ops().log(this); }
  /** Square root. */
  sqrt() { return ops().sqrt(this); }
  /** this * this. */
  square() { return ops().square(this); }
  /** max(this, 0). */
  relu() { return ops().relu(this); }
  /** 1 / (1 + e ** -this). */
  sigmoid() { return ops().sigmoid(this); }
  /** Hyperbolic tangent. */
  tanh() { return ops().tanh(this); }
  /** Clips to [min, max]. */
  clip(min, max) { return ops().clip(this, { a_min: min, a_max: max }); }
  /** Matrix product (MXNet's dot). */
  dot(other, params) { return ops().dot(this, other, params); }
  /** Sum over `axis` (all axes by default). */
  sum(axis = null, keepdims = false) { return ops().sum(this, { axis, keepdims }); }
  /** Mean over `axis` (all axes by default). */
  mean(axis = null, keepdims = false) { return ops().mean(this, { axis, keepdims }); }
  /** Maximum over `axis`. */
  max(axis = null, keepdims = false) { return ops().max(this, { axis, keepdims }); }
  /** Minimum over `axis`. */
  min(axis = null, keepdims = false) { return ops().min(this, { axis, keepdims }); }
  /** Index of the maximum along `axis` (of the flattened array by default), as float32 (MXNet). */
  argmax(axis = null, keepdims = false) { return ops().argmax(this, { axis, keepdims }); }
  /** Index of the minimum along `axis`. */
  argmin(axis = null, keepdims = false) { return ops().argmin(this, { axis, keepdims }); }
  /** Permutes the axes (reverses them by default). */
  transpose(axes = []) { return ops().transpose(this, { axes }); }
  /** Collapses all axes but the first. */
  flatten() { return ops().Flatten(this); }
  /** Inserts an axis of length one at `axis`. */
  expandDims(axis) { return ops().expand_dims(this, { axis }); }
  /** Removes axes of length one (all of them by default). */
  squeeze(axis = null) { return ops().squeeze(this, { axis }); }
  /** Softmax along `axis`. */
  softmax(axis = -1) { return ops().softmax(this, { axis }); }
  /** Broadcasts to `shape`. */
  broadcastTo(shape) { return ops().broadcast_to(this, { shape }); }
}

/** The handle of a live array (a ValueError naming `where` if disposed; a TypeError if not an NDArray). */
function handleOf(array, where) {
  if (!(array instanceof NDArray)) throw new errors.TypeError(`[${where}] expected an NDArray`);
  return array._live(where);
}

/** A new NDArray owning `handle` (tracked by the innermost tidy). */
function wrapHandle(handle) {
  return new NDArray(CONSTRUCT, handle);
}

module.exports = { NDArray, handleOf, wrapHandle, GRAD_REQS, checkDtype };

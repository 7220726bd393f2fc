'use strict';
/** Making arrays: from TypedArrays, nested JS arrays or numbers; filled with a value; ranges. */
const native = require('./native');
const errors = require('./errors');
const { NDArray, wrapHandle } = require('./ndarray');
const { DTYPES, checkDtype, flagOf, dtypeOfTypedArray } = require('./dtype');
const { toDevice } = require('./device');

function product(shape) {
  return shape.reduce((a, b) => a * b, 1);
}

// A shape argument as an array of integers (a number n is [n]).
function toShape(shape, where) {
  const dims = typeof shape === 'number' ? [shape] : shape;
  if (!Array.isArray(dims) || !dims.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new errors.ValueError(`[${where}] shape: expected an array of integers >= 0, given ${JSON.stringify(shape)}`);
  }
  return dims;
}

// The shape of a nested JS array (a ValueError if ragged) and its leaves in row-major order.
function shapeAndLeaves(values) {
  const shape = [];
  for (let level = values; Array.isArray(level); level = level[0]) shape.push(level.length);
  const leaves = [];
  const visit = (value, axis, path) => {
    if (axis === shape.length) {
      if (Array.isArray(value)) {
        throw new errors.ValueError(`[array] ragged nested array: element ${path} is an array, expected a value`);
      }
      leaves.push(value);
      return;
    }
    if (!Array.isArray(value) || value.length !== shape[axis]) {
      throw new errors.ValueError(`[array] ragged nested array: element ${path || 'at the top'} has ` +
                                  `${Array.isArray(value) ? value.length : 'no'} items, expected ${shape[axis]}`);
    }
    value.forEach((item, i) => visit(item, axis + 1, `${path}[${i}]`));
  };
  visit(values, 0, '');
  return { shape, leaves };
}

// The dtype nested values suggest: int64 for BigInts, bool for booleans, else float32 (MXNet's default).
function guessDtype(leaves) {
  if (leaves.length > 0 && leaves.every((v) => typeof v === 'bigint')) return 'int64';
  if (leaves.length > 0 && leaves.every((v) => typeof v === 'boolean')) return 'bool';
  return 'float32';
}

// Leaves as a TypedArray of `dtype` (float16/bfloat16 are never asked for here: they go through float32).
function toTypedArray(leaves, dtype) {
  for (const value of leaves) {
    if (typeof value !== 'number' && typeof value !== 'boolean' && typeof value !== 'bigint') {
      throw new errors.TypeError(`[array] expected numbers, booleans or BigInts, given ${typeof value}`);
    }
  }
  if (dtype === 'int64') {
    return BigInt64Array.from(leaves, (v) => {
      if (typeof v === 'bigint') return v;
      if (!Number.isInteger(+v)) throw new errors.TypeError(`[array] int64 needs integers, given ${v}`);
      return BigInt(+v);
    });
  }
  if (dtype === 'bool') return Uint8Array.from(leaves, (v) => (v ? 1 : 0));
  return DTYPES[dtype].TypedArray.from(leaves, (v) => Number(v));
}

/**
 * A new array from `values`: a TypedArray (dtype from its type unless given; a Uint16Array needs dtype
 * 'float16' or 'bfloat16' and holds their bit patterns), a nested JS array (float32 unless given; BigInts make
 * int64, booleans bool), a number, or an NDArray (copied). Options: dtype (converted by the core when it
 * differs from the values' own), shape (default: the values' shape), device (default cpu).
 */
function array(values, { dtype, shape, device } = {}) {
  const target = dtype === undefined ? undefined : checkDtype(dtype);
  const place = toDevice(device);
  if (values instanceof NDArray) {
    const copy = values.copyTo(place);
    if (target === undefined || target === copy.dtype) return copy;
    const converted = copy.astype(target);
    copy.dispose();
    return converted;
  }
  let data;
  let natural;
  let dims;
  if (ArrayBuffer.isView(values) && !(values instanceof DataView)) {
    natural = dtypeOfTypedArray(values);
    if (values instanceof Uint16Array && (target === 'float16' || target === 'bfloat16')) natural = target;
    if (natural === undefined) {
      throw new errors.TypeError(`[array] a ${values.constructor.name} has no dtype of its own: use Float32Array, ` +
                                 'Float64Array, Int32Array, Int8Array, Uint8Array, BigInt64Array, or a Uint16Array ' +
                                 "with dtype 'float16' or 'bfloat16'");
    }
    data = values;
    dims = shape === undefined ? [values.length] : toShape(shape, 'array');
  } else {
    const nested = shapeAndLeaves(values);
    const wanted = target === undefined ? guessDtype(nested.leaves) : target;
    natural = wanted === 'float16' || wanted === 'bfloat16' ? 'float32' : wanted;
    data = toTypedArray(nested.leaves, natural);
    dims = shape === undefined ? nested.shape : toShape(shape, 'array');
  }
  if (product(dims) !== data.length) {
    throw new errors.ValueError(`[array] shape [${dims}] has ${product(dims)} elements, the values ${data.length}`);
  }
  const result = wrapHandle(native.createFromData(dims, flagOf(natural), place.typeFlag, place.id, data));
  if (target === undefined || target === natural) return result;
  const converted = result.astype(target);
  result.dispose();
  return converted;
}

/** A new array of `shape` filled with `value` (options: dtype, default float32; device). */
function full(shape, value, { dtype = 'float32', device } = {}) {
  const place = toDevice(device);
  return wrapHandle(native.createFull(toShape(shape, 'full'), flagOf(dtype), place.typeFlag, place.id, Number(value)));
}

/** A new array of zeros. */
function zeros(shape, options = {}) {
  return full(shape, 0, options);
}

/** A new array of ones. */
function ones(shape, options = {}) {
  return full(shape, 1, options);
}

/** A new array whose values are not initialised. */
function empty(shape, { dtype = 'float32', device } = {}) {
  const place = toDevice(device);
  return wrapHandle(native.createEmpty(toShape(shape, 'empty'), flagOf(dtype), place.typeFlag, place.id));
}

/** Values from start (inclusive) to stop (exclusive) by step, as MXNet's arange (stop undefined: [0, start)). */
function arange(start, stop, step = 1, { dtype = 'float32', device } = {}) {
  const ops = require('./ops');
  const result = stop === undefined ? ops._arange({ start: 0, stop: start, step, dtype })
    : ops._arange({ start, stop, step, dtype });
  const place = toDevice(device);
  if (place.type === 'cpu' && place.id === 0) return result;
  const moved = result.copyTo(place);
  result.dispose();
  return moved;
}

module.exports = { array, full, zeros, ones, empty, arange };

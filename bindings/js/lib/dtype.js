'use strict';
/**
 * Element types: MXNet's names and type flags, and the TypedArray each one reads into. float16 and bfloat16
 * have no JS TypedArray: their data is the raw 16-bit patterns in a Uint16Array (as onnxruntime-node does);
 * convert with `astype('float32')` to read values. int64 reads into a BigInt64Array, bool into a Uint8Array.
 */
const errors = require('./errors');

/** name -> {flag, TypedArray, bytes} */
const DTYPES = Object.freeze({
  float32: Object.freeze({ flag: 0, TypedArray: Float32Array, bytes: 4 }),
  float64: Object.freeze({ flag: 1, TypedArray: Float64Array, bytes: 8 }),
  float16: Object.freeze({ flag: 2, TypedArray: Uint16Array, bytes: 2 }),
  uint8: Object.freeze({ flag: 3, TypedArray: Uint8Array, bytes: 1 }),
  int32: Object.freeze({ flag: 4, TypedArray: Int32Array, bytes: 4 }),
  int8: Object.freeze({ flag: 5, TypedArray: Int8Array, bytes: 1 }),
  int64: Object.freeze({ flag: 6, TypedArray: BigInt64Array, bytes: 8 }),
  bool: Object.freeze({ flag: 7, TypedArray: Uint8Array, bytes: 1 }),
  bfloat16: Object.freeze({ flag: 12, TypedArray: Uint16Array, bytes: 2 }),
});

const BY_FLAG = new Map(Object.entries(DTYPES).map(([name, info]) => [info.flag, name]));

// The dtype a TypedArray's values have when no dtype is given (Uint16Array is ambiguous: float16 or bfloat16).
const FROM_TYPED_ARRAY = new Map([
  [Float32Array, 'float32'], [Float64Array, 'float64'], [Int32Array, 'int32'], [Int8Array, 'int8'],
  [Uint8Array, 'uint8'], [Uint8ClampedArray, 'uint8'], [BigInt64Array, 'int64'],
]);

/** The canonical dtype name for a name (or NumPy-style alias), or throws a TypeError listing the names. */
function checkDtype(name) {
  if (typeof name === 'string') {
    const key = name === 'boolean' || name === 'bool_' ? 'bool' : name;
    if (Object.prototype.hasOwnProperty.call(DTYPES, key)) return key;
  }
  throw new errors.TypeError(`[polymix] unknown dtype ${JSON.stringify(name)}: expected one of ` +
                             Object.keys(DTYPES).join(', '));
}

/** The MXNet type flag of a dtype name. */
function flagOf(name) {
  return DTYPES[checkDtype(name)].flag;
}

/** The dtype name of a type flag. */
function nameOf(flag) {
  const name = BY_FLAG.get(flag);
  if (name === undefined) throw new errors.TypeError(`[polymix] unknown dtype flag ${flag}`);
  return name;
}

/** The dtype of a TypedArray's own element type, or undefined when it has none (Uint16Array, Int16Array...). */
function dtypeOfTypedArray(array) {
  return FROM_TYPED_ARRAY.get(array.constructor);
}

module.exports = { DTYPES, checkDtype, flagOf, nameOf, dtypeOfTypedArray };

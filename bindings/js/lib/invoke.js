'use strict';
/**
 * What every generated op function (lib/ops.js) calls: reads its arguments (NDArrays, then one object of
 * parameters), turns JS values into MXNet's parameter strings and runs the op through the C ABI, which records
 * it for autograd while recording is on.
 */
const native = require('./native');
const errors = require('./errors');
const { NDArray, handleOf, wrapHandle } = require('./ndarray');
const { Device } = require('./device');

// Marks Symbols (lib/symbol.js), so that op functions called on them build a symbol instead of running.
const SYMBOL_MARK = Symbol.for('polymix.Symbol');

// Whether `value` is a Symbol.
function isSymbol(value) {
  return value !== null && typeof value === 'object' && value[SYMBOL_MARK] === true;
}

// Whether the op arguments hold a Symbol (as an input, in an array of inputs, or as an input by name).
function hasSymbol(values) {
  return values.some((value) => isSymbol(value) || (Array.isArray(value) && value.some(isSymbol)) ||
    (value !== null && typeof value === 'object' && !(value instanceof NDArray) && !Array.isArray(value) &&
     !ArrayBuffer.isView(value) && Object.values(value).some(isSymbol)));
}

/**
 * A parameter value as MXNet's string: true -> "True", [2, 3] -> "(2, 3)", [4] -> "(4,)", null -> "None",
 * Infinity -> "inf"; strings pass through unchanged (MXNet's own spelling always works).
 */
function formatParam(value, where) {
  switch (typeof value) {
    case 'string':
      return value;
    case 'boolean':
      return value ? 'True' : 'False';
    case 'bigint':
      return value.toString();
    case 'number':
      if (Number.isNaN(value)) return 'nan';
      if (!Number.isFinite(value)) return value > 0 ? 'inf' : '-inf';
      return String(value);
    default:
      break;
  }
  if (value === null) return 'None';
  if (value instanceof Device) return value.toString();
  if (Array.isArray(value) || ArrayBuffer.isView(value)) {
    const items = Array.from(value, (item) => formatParam(item, where));
    return items.length === 1 ? `(${items[0]},)` : `(${items.join(', ')})`;
  }
  throw new errors.TypeError(`${where}: expected a number, boolean, string, array or null, given ` +
                             `${value && value.constructor ? value.constructor.name : typeof value}`);
}

// Whether `value` is the parameter object (anything but an NDArray, an array of them, null or undefined).
function isParams(value) {
  return value !== null && typeof value === 'object' && !(value instanceof NDArray) && !Array.isArray(value) &&
    !ArrayBuffer.isView(value) && !isSymbol(value);
}

/**
 * Runs the op described by `spec` ({name, inputs, variadicCount, variadicStride, outputs}) on `args` (the
 * generated function's `arguments`): NDArrays (arrays of them are flattened; null and undefined are left out,
 * as absent optional inputs), then optionally one parameter object whose `out` holds the arrays to write into.
 * Returns one NDArray when the op has one visible output, else an array of them. Called on Symbols, it builds
 * a Symbol instead (lib/symbol.js's callSymbolOp).
 */
function callOp(spec, args) {
  const values = Array.from(args);
  while (values.length > 0 && values[values.length - 1] === undefined) values.pop();
  if (hasSymbol(values)) return require('./symbol').callSymbolOp(spec, values);
  const params = values.length > 0 && isParams(values[values.length - 1]) ? values.pop() : {};
  const inputs = [];
  const addInput = (value) => {
    if (value === null || value === undefined) return;
    if (Array.isArray(value)) {
      value.forEach(addInput);
    } else if (value instanceof NDArray) {
      inputs.push(value);
    } else {
      const index = inputs.length;
      const name = spec.variadicCount ? spec.inputs[index % spec.inputs.length] : spec.inputs[index];
      throw new errors.TypeError(`[${spec.name}] input ${index}${name ? ` (${name})` : ''}: expected an NDArray, ` +
                                 `given ${isParams(value) ? 'an object before the last argument' : typeof value}`);
    }
  };
  values.forEach(addInput);
  // The input count is the core's to check: for some ops it depends on the parameters.
  const keys = [];
  const strings = [];
  let out = null;
  for (const [key, value] of Object.entries(params)) {
    if (key === 'out') {
      out = value;
    } else if (value !== undefined) {
      keys.push(key);
      strings.push(formatParam(value, `[${spec.name}] parameter ${key}`));
    }
  }
  if (spec.variadicCount && !Object.prototype.hasOwnProperty.call(params, spec.variadicCount)) {
    keys.push(spec.variadicCount);
    strings.push(String(Math.floor(inputs.length / spec.variadicStride)));
  }
  const given = out === null || out === undefined ? null : (Array.isArray(out) ? out : [out]);
  if (given && !given.every((item) => item instanceof NDArray)) {
    throw new errors.TypeError(`[${spec.name}] out: expected an NDArray or an array of NDArrays`);
  }
  const handles = native.invoke(spec.name, inputs.map((input) => handleOf(input, spec.name)), keys, strings,
                                given && given.map((item) => handleOf(item, spec.name)));
  let results;
  if (given) {
    // The core wrote into the given arrays; its new handles to them are not needed.
    handles.forEach((handle) => handle && native.free(handle));
    results = given;
  } else {
    results = handles.map((handle) => handle && wrapHandle(handle));
  }
  return results.length === 1 ? results[0] : results;
}

module.exports = { callOp, formatParam, SYMBOL_MARK };

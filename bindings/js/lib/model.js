'use strict';
/**
 * Exported models in MXNet's format: `<prefix>-symbol.json` plus `<prefix>-<epoch, 4 digits>.params` whose
 * arrays are named "arg:<name>" and "aux:<name>", as MXNet's save_checkpoint, Module.save_checkpoint and
 * Gluon's HybridBlock.export write them (names without the prefix, as Gluon's save_parameters writes them, are
 * accepted too). loadModel() gives a Model whose forward() runs the graph as one CachedOp in predict mode.
 */
const fs = require('fs');
const util = require('util');
const errors = require('./errors');
const scope = require('./scope');
const io = require('./io');
const autograd = require('./autograd');
const { NDArray } = require('./ndarray');
const { zeros } = require('./creation');
const { toDevice } = require('./device');
const { Symbol: GraphSymbol } = require('./symbol');
const { CachedOp, listByName } = require('./executor');

/** The two files of checkpoint `prefix` at `epoch`: {symbolFile, paramsFile}. */
function checkpointFiles(prefix, epoch = 0) {
  if (!Number.isInteger(epoch) || epoch < 0) {
    throw new errors.ValueError(`[checkpoint] epoch must be an integer >= 0, given ${epoch}`);
  }
  return { symbolFile: `${prefix}-symbol.json`, paramsFile: `${prefix}-${String(epoch).padStart(4, '0')}.params` };
}

// Splits loaded {name: NDArray} into arg and aux params by their "arg:"/"aux:" prefixes (unprefixed: args).
function splitParams(loaded, paramsFile) {
  if (Array.isArray(loaded)) {
    loaded.forEach((array) => array.dispose());
    throw new errors.ValueError(`[loadCheckpoint] ${paramsFile} holds unnamed arrays: expected arrays named ` +
                                '"arg:<name>" / "aux:<name>" (MXNet checkpoint) or by parameter name');
  }
  const argParams = {};
  const auxParams = {};
  for (const [key, array] of Object.entries(loaded)) {
    if (key.startsWith('aux:')) auxParams[key.slice(4)] = array;
    else argParams[key.startsWith('arg:') ? key.slice(4) : key] = array;
  }
  return { argParams, auxParams };
}

// The {name: NDArray} saved for a checkpoint: "arg:" and "aux:" prefixes.
function checkpointArrays(argParams, auxParams) {
  const entries = (value) => (value instanceof Map ? Array.from(value) : Object.entries(value || {}));
  const arrays = {};
  for (const [name, array] of entries(argParams)) arrays[`arg:${name}`] = array;
  for (const [name, array] of entries(auxParams)) arrays[`aux:${name}`] = array;
  return arrays;
}

/**
 * Reads checkpoint `prefix` at `epoch` (MXNet's load_checkpoint): a Promise of {symbol, argParams, auxParams}.
 * The params file is read on a worker thread.
 */
async function loadCheckpoint(prefix, epoch = 0) {
  const { symbolFile, paramsFile } = checkpointFiles(prefix, epoch);
  const symbol = GraphSymbol.fromJSON(await fs.promises.readFile(symbolFile, 'utf8').catch((cause) => {
    throw missingFile(symbolFile, cause);
  }));
  try {
    return { symbol, ...splitParams(await io.load(paramsFile), paramsFile) };
  } catch (error) {
    symbol.dispose();
    throw error;
  }
}

/** As loadCheckpoint, blocking. */
function loadCheckpointSync(prefix, epoch = 0) {
  const { symbolFile, paramsFile } = checkpointFiles(prefix, epoch);
  if (!fs.existsSync(symbolFile)) throw missingFile(symbolFile);
  const symbol = GraphSymbol.load(symbolFile);
  try {
    return { symbol, ...splitParams(io.loadSync(paramsFile), paramsFile) };
  } catch (error) {
    symbol.dispose();
    throw error;
  }
}

function missingFile(file, cause) {
  const error = new errors.ValueError(`[loadCheckpoint] cannot read ${file}` + (cause ? `: ${cause.message}` : ''));
  if (cause) error.cause = cause;
  return error;
}

/**
 * Writes checkpoint `prefix` at `epoch` as MXNet's save_checkpoint does: `<prefix>-symbol.json` and
 * `<prefix>-%04d.params` with "arg:"/"aux:" names. argParams and auxParams are {name: NDArray} or Maps.
 */
async function saveCheckpoint(prefix, epoch, symbol, argParams, auxParams = {}) {
  const { symbolFile, paramsFile } = checkpointFiles(prefix, epoch);
  symbol.save(symbolFile);
  await io.save(paramsFile, checkpointArrays(argParams, auxParams));
}

/** As saveCheckpoint, blocking. */
function saveCheckpointSync(prefix, epoch, symbol, argParams, auxParams = {}) {
  const { symbolFile, paramsFile } = checkpointFiles(prefix, epoch);
  symbol.save(symbolFile);
  io.saveSync(paramsFile, checkpointArrays(argParams, auxParams));
}

// Arguments that need no array from the caller: loss layers' labels, which predict mode ignores.
const LABEL = /label$/;

/**
 * A symbol with its parameters, called on inputs in predict mode (what MXNet's SymbolBlock.imports or a
 * Module bound for inference gives). The model holds its own handles to the parameter arrays (the caller's
 * arrays stay theirs); dispose() frees them.
 */
class Model {
  /**
   * Options: inputNames (default ['data']), device (parameters are copied there), allowMissing (fill
   * parameters absent from the params with zeros instead of failing), ignoreExtra (ignore params the symbol
   * does not use instead of failing), flags (CachedOp flags). Arguments ending in "label" (SoftmaxOutput's
   * softmax_label) that are neither inputs nor parameters are fed zeros of their inferred shape.
   */
  constructor(symbol, argParams = {}, auxParams = {},
              { inputNames = ['data'], device, allowMissing = false, ignoreExtra = false, flags = {} } = {}) {
    if (!(symbol instanceof GraphSymbol)) throw new errors.TypeError('[Model] expected a Symbol');
    const where = 'Model';
    const args = symbol.listArguments();
    const aux = symbol.listAuxiliaryStates();
    for (const name of inputNames) {
      if (!args.includes(name)) {
        throw new errors.ValueError(`[${where}] input '${name}' is not an argument of the symbol: expected some of ` +
                                    `${args.join(', ')}`);
      }
    }
    const given = new Map([...toEntries(argParams), ...toEntries(auxParams)]);
    const extra = [...given.keys()].filter((name) => !args.includes(name) && !aux.includes(name));
    if (extra.length > 0 && !ignoreExtra) {
      throw new errors.ValueError(`[${where}] the params hold ${extra.join(', ')}, which the symbol does not use ` +
                                  '(pass ignoreExtra: true to ignore them)');
    }
    const needed = [...args.filter((name) => !inputNames.includes(name)), ...aux];
    const missing = needed.filter((name) => !given.has(name));
    const zeroFilled = missing.filter((name) => allowMissing || (LABEL.test(name) && args.includes(name)));
    const absent = missing.filter((name) => !zeroFilled.includes(name));
    if (absent.length > 0) {
      throw new errors.ValueError(`[${where}] no parameter array for ${absent.join(', ')}: load them, name them in ` +
                                  'inputNames, or pass allowMissing: true to use zeros');
    }
    const place = device === undefined ? null : toDevice(device);
    this.symbol = symbol;
    this.inputNames = Object.freeze(inputNames.slice());
    this.params = {};
    for (const name of needed) {
      if (!given.has(name)) continue;
      const array = given.get(name);
      if (!(array instanceof NDArray)) throw new errors.TypeError(`[${where}] parameter ${name}: expected an NDArray`);
      // Own handles (detach: same memory, new handle), or a copy on the requested device.
      this.params[name] = scope.keep(place && !array.device.equals(place) ? array.copyTo(place) : array.detach());
    }
    this._zeroFilled = zeroFilled;
    this._zeros = null;  // {key, arrays: {name: NDArray}} for the latest input shapes.
    this._ownsSymbol = false;
    this.cachedOp = new CachedOp(symbol, flags);
  }

  /**
   * Runs the model in predict mode (Dropout off, BatchNorm's moving statistics) on NDArrays given in
   * inputNames order, or as one object by input name. Returns one NDArray for one output, else an array.
   * Inside autograd.record the call is recorded, so gradients with respect to the inputs can be taken.
   */
  forward(...inputs) {
    if (this.cachedOp.isDisposed) throw new errors.ValueError('[Model.forward] the model has been disposed');
    let list = inputs.flat();
    if (list.length === 1 && !(list[0] instanceof NDArray) && list[0] !== null && typeof list[0] === 'object') {
      list = listByName(list[0], this.inputNames, 'Model.forward', 'inputs', (name) => {
        throw new errors.ValueError(`[Model.forward] no array for input '${name}'`);
      });
    }
    if (list.length !== this.inputNames.length) {
      throw new errors.ValueError(`[Model.forward] expected ${this.inputNames.length} inputs ` +
                                  `(${this.inputNames.join(', ')}), given ${list.length}`);
    }
    const byName = new Map(this.inputNames.map((name, i) => [name, list[i]]));
    for (const [name, array] of byName) {
      if (!(array instanceof NDArray)) throw new errors.TypeError(`[Model.forward] input ${name}: expected an NDArray`);
    }
    const zeroArrays = this._zeroArrays(byName);
    const all = this.cachedOp.inputNames.map((name) => byName.get(name) || this.params[name] || zeroArrays[name]);
    return autograd.predictMode(() => this.cachedOp(all));
  }

  // Zeros for the zero-filled arguments, shaped by inference from the inputs' shapes (cached per shapes).
  _zeroArrays(byName) {
    if (this._zeroFilled.length === 0) return {};
    const shapes = Object.fromEntries(Array.from(byName, ([name, array]) => [name, array.shape]));
    const key = JSON.stringify(shapes);
    if (this._zeros !== null && this._zeros.key === key) return this._zeros.arrays;
    const { argShapes, auxShapes } = this.symbol.inferShapePartial(shapes);
    const inferred = new Map([...zip(this.symbol.listArguments(), argShapes),
                              ...zip(this.symbol.listAuxiliaryStates(), auxShapes)]);
    const device = byName.values().next().value.device;
    const arrays = {};
    for (const name of this._zeroFilled) {
      const shape = inferred.get(name);
      if (!shape) {
        throw new errors.ValueError(`[Model.forward] cannot infer the shape of '${name}' from the inputs' shapes ` +
                                    `${key}`);
      }
      arrays[name] = scope.keep(zeros(shape, { device }));
    }
    this._disposeZeros();
    this._zeros = { key, arrays };
    return arrays;
  }

  _disposeZeros() {
    if (this._zeros !== null) Object.values(this._zeros.arrays).forEach((array) => array.dispose());
    this._zeros = null;
  }

  /** Whether dispose() has been called. */
  get isDisposed() {
    return this.cachedOp.isDisposed;
  }

  /** Frees the cached op and the model's handles to its parameters (and its symbol when loadModel made it). */
  dispose() {
    if (this.cachedOp.isDisposed) return;
    this.cachedOp.dispose();
    Object.values(this.params).forEach((array) => array.dispose());
    this._disposeZeros();
    if (this._ownsSymbol) this.symbol.dispose();
  }

  toString() {
    return `Model (inputs ${this.inputNames.join(', ')}; outputs ${this.symbol.listOutputs().join(', ')})`;
  }

  [util.inspect.custom]() {
    return this.toString();
  }
}

function toEntries(value) {
  return value instanceof Map ? Array.from(value) : Object.entries(value || {});
}

function* zip(names, values) {
  for (let i = 0; i < names.length; i += 1) yield [names[i], values[i]];
}

// A Model from a loaded checkpoint: the model owns the symbol, the loaded handles are released.
function modelFromCheckpoint({ symbol, argParams, auxParams }, options) {
  try {
    const model = new Model(symbol, argParams, auxParams, options);
    model._ownsSymbol = true;
    return model;
  } catch (error) {
    symbol.dispose();
    throw error;
  } finally {
    [...Object.values(argParams), ...Object.values(auxParams)].forEach((array) => array.dispose());
  }
}

/**
 * Loads an exported model (`<prefix>-symbol.json` + `<prefix>-%04d.params`, as MXNet's export and
 * save_checkpoint write them): a Promise of a Model whose forward(inputs...) runs it in predict mode.
 * Options as Model's (inputNames default ['data']).
 */
async function loadModel(prefix, epoch = 0, options = {}) {
  return modelFromCheckpoint(await loadCheckpoint(prefix, epoch), options);
}

/** As loadModel, blocking. */
function loadModelSync(prefix, epoch = 0, options = {}) {
  return modelFromCheckpoint(loadCheckpointSync(prefix, epoch), options);
}

module.exports = {
  Model,
  loadModel,
  loadModelSync,
  loadCheckpoint,
  loadCheckpointSync,
  saveCheckpoint,
  saveCheckpointSync,
  checkpointFiles,
};

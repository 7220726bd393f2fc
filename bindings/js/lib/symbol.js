'use strict';
/**
 * Symbolic graphs (MXNet's mx.sym): variables, operators called on symbols, listing, attributes, shape and
 * type inference, and MXNet's symbol JSON (`-symbol.json` files of MXNet 1.x load; files written load in MXNet).
 * Every generated op function builds a symbol when its inputs are Symbols (`pmx.ops.FullyConnected(x, {...})`),
 * and `pmx.sym` has the same functions for building symbols from nothing (`pmx.sym.FullyConnected({num_hidden:
 * 10, name: 'fc1'})` creates its data, weight and bias variables, as in MXNet).
 */
const util = require('util');
const native = require('./native');
const errors = require('./errors');
const ops = require('./ops');
const { formatParam, SYMBOL_MARK } = require('./invoke');
const { NativeObject, handleOfType, describe } = require('./resource');
const { flagOf, nameOf } = require('./dtype');

// Only this module makes Symbols (from handles the addon returns).
const CONSTRUCT = Symbol('polymix.Symbol');
// The groups pmx_symbol_list_* and pmx_symbol_derive read (see src/symbol.cc).
const LIST = Object.freeze({ arguments: 0, outputs: 1, auxiliary: 2, inputs: 3 });
const DERIVE = Object.freeze({ internals: 0, children: 1, copy: 2 });

/**
 * A symbol: one or more outputs of a graph (MXNet's Symbol). Symbols built from one another share nodes, as in
 * MXNet, so setAttr() through one is seen by every symbol containing the node. Free with dispose() (a
 * FinalizationRegistry is the backstop); disposing a symbol never invalidates others that use its nodes.
 */
class GraphSymbol extends NativeObject {
  /** Internal: use pmx.sym.Variable, an op function, Symbol.fromJSON or Symbol.load. */
  constructor(token, handle) {
    if (token !== CONSTRUCT) {
      throw new errors.TypeError('[Symbol] use pmx.sym.Variable(name), an op on symbols, Symbol.fromJSON or ' +
                                 'Symbol.load to make a Symbol');
    }
    super(handle, native.symbolFree, 'Symbol');
  }

  get [SYMBOL_MARK]() {
    return true;
  }

  // ---- Making symbols ----------------------------------------------------------------------------

  /**
   * A variable (mx.sym.var): options shape, dtype, lr_mult, wd_mult, init (an Initializer or its JSON) and attr
   * (more attributes as strings). shape and dtype seed shape and type inference.
   */
  static variable(name, { shape, dtype, lrMult, wdMult, lr_mult, wd_mult, init, stype, attr = {} } = {}) {
    if (typeof name !== 'string' || name === '') {
      throw new errors.TypeError(`[Variable] expected a non-empty name, given ${describe(name)}`);
    }
    const attrs = { ...attr };
    if (shape !== undefined && shape !== null) attrs.__shape__ = formatParam(shape, '[Variable] shape');
    if (dtype !== undefined && dtype !== null) attrs.__dtype__ = String(flagOf(dtype));
    if ((lrMult ?? lr_mult) !== undefined) attrs.__lr_mult__ = String(lrMult ?? lr_mult);
    if ((wdMult ?? wd_mult) !== undefined) attrs.__wd_mult__ = String(wdMult ?? wd_mult);
    if (init !== undefined && init !== null) attrs.__init__ = typeof init === 'string' ? init : init.dumps();
    if (stype !== undefined) attrs.__storage_type__ = String(stype);
    const keys = Object.keys(attrs);
    return wrapSymbol(native.symbolCreateVariable(name, keys, keys.map((key) => String(attrs[key]))));
  }

  /** A symbol whose outputs are those of all `symbols`, in order (mx.sym.Group). */
  static group(symbols) {
    if (!Array.isArray(symbols)) throw new errors.TypeError('[Group] expected an array of Symbols');
    return wrapSymbol(native.symbolGroup(symbols.map((s) => handleOf(s, 'Group'))));
  }

  /** Parses MXNet symbol JSON (mx.sym.load_json; older MXNet files are upgraded). */
  static fromJSON(text) {
    return wrapSymbol(native.symbolFromJson(String(text)));
  }

  /** Reads a `-symbol.json` file (mx.sym.load). */
  static load(path) {
    return wrapSymbol(native.symbolLoad(String(path)));
  }

  // ---- Reading -----------------------------------------------------------------------------------

  /** The node's name; null for a group of several nodes. */
  get name() {
    return native.symbolGetAttr(this._live('name'), null);
  }

  /** The number of outputs. */
  get numOutputs() {
    return native.symbolNumOutputs(this._live('numOutputs'));
  }

  /** Argument names (variables that are not auxiliary states), in MXNet's order. */
  listArguments() { return native.symbolList(this._live('listArguments'), LIST.arguments); }
  /** Output names ("fc1_output"). */
  listOutputs() { return native.symbolList(this._live('listOutputs'), LIST.outputs); }
  /** Auxiliary state names (BatchNorm's moving_mean, moving_var). */
  listAuxiliaryStates() { return native.symbolList(this._live('listAuxiliaryStates'), LIST.auxiliary); }
  /** Every variable, arguments and auxiliary states, in graph order. */
  listInputs() { return native.symbolList(this._live('listInputs'), LIST.inputs); }

  /** Output `index`, or the output called `name` in listOutputs() (MXNet's symbol[i], symbol['fc1_output']). */
  get(indexOrName) {
    return wrapSymbol(native.symbolGetOutput(this._live('get'), indexOrName));
  }

  /** Every output of every node, variables included (get_internals). */
  getInternals() { return wrapSymbol(native.symbolDerive(this._live('getInternals'), DERIVE.internals)); }
  /** The inputs of this symbol's output nodes (get_children). */
  getChildren() { return wrapSymbol(native.symbolDerive(this._live('getChildren'), DERIVE.children)); }
  /** A deep copy (new nodes with the same names, parameters and attributes). */
  copy() { return wrapSymbol(native.symbolDerive(this._live('copy'), DERIVE.copy)); }

  /** Attribute or parameter `key` of the node ('lr_mult' also finds '__lr_mult__'), or null. */
  attr(key) {
    return native.symbolGetAttr(this._live('attr'), String(key));
  }

  /** Sets attributes of the node: setAttr(key, value) or setAttr({key: value}); values become strings. */
  setAttr(keyOrObject, value) {
    const handle = this._live('setAttr');
    const entries = typeof keyOrObject === 'object' && keyOrObject !== null ? Object.entries(keyOrObject)
      : [[keyOrObject, value]];
    for (const [key, item] of entries) native.symbolSetAttr(handle, String(key), formatParam(item, `[setAttr] ${key}`));
    return this;
  }

  /** Every node's parameters and attributes: {nodeName: {key: value}} (MXNet's attr_dict). */
  attrDict() {
    const triples = native.symbolListAttr(this._live('attrDict'));
    const result = {};
    for (let i = 0; i < triples.length; i += 3) {
      (result[triples[i]] = result[triples[i]] || {})[triples[i + 1]] = triples[i + 2];
    }
    return result;
  }

  /** The node's own parameters and attributes ({} for a group). */
  listAttr() {
    const name = this.name;
    return name === null ? {} : (this.attrDict()[name] || {});
  }

  // ---- Inference ---------------------------------------------------------------------------------

  /**
   * Infers shapes from some inputs' shapes, given by name ({data: [32, 784]}): {argShapes, outShapes,
   * auxShapes}, each a list in listArguments / listOutputs / listAuxiliaryStates order. A shape left unknown
   * is a ValueError naming it; see inferShapePartial.
   */
  inferShape(shapes = {}) {
    return this._inferShape('inferShape', shapes, false);
  }

  /** As inferShape, with null for the shapes that stay unknown, and `complete` telling whether any did. */
  inferShapePartial(shapes = {}) {
    return this._inferShape('inferShapePartial', shapes, true);
  }

  _inferShape(where, shapes, partial) {
    const entries = entriesOf(shapes, where);
    const result = native.symbolInferShape(this._live(where), entries.map(([name]) => name),
                                           entries.map(([, shape]) => shapeList(shape, where)), partial);
    return { argShapes: result.args, outShapes: result.outputs, auxShapes: result.aux, complete: result.complete };
  }

  /** Infers dtypes from some inputs' dtypes by name: {argTypes, outTypes, auxTypes} as dtype names. */
  inferType(dtypes = {}) {
    return this._inferType('inferType', dtypes, false);
  }

  /** As inferType, with null for dtypes that stay unknown, and `complete`. */
  inferTypePartial(dtypes = {}) {
    return this._inferType('inferTypePartial', dtypes, true);
  }

  _inferType(where, dtypes, partial) {
    const entries = entriesOf(dtypes, where);
    const result = native.symbolInferType(this._live(where), entries.map(([name]) => name),
                                          entries.map(([, dtype]) => flagOf(dtype)), partial);
    const names = (flags) => flags.map((flag) => (flag < 0 ? null : nameOf(flag)));
    return { argTypes: names(result.args), outTypes: names(result.outputs), auxTypes: names(result.aux),
             complete: result.complete };
  }

  // ---- Files -------------------------------------------------------------------------------------

  /**
   * MXNet's symbol JSON (tojson), as MXNet 1.9.1 lays it out. Note that JSON.stringify(symbol) therefore gives
   * this text as one JSON string.
   */
  toJSON() {
    return native.symbolToJson(this._live('toJSON'));
  }

  /** Writes the JSON to `path` (Symbol.save; the `<prefix>-symbol.json` of a checkpoint). */
  save(path) {
    native.symbolSave(this._live('save'), String(path));
  }

  // ---- Execution ---------------------------------------------------------------------------------

  /** Binds allocating every array (MXNet's simple_bind); see Executor.simpleBind. */
  simpleBind(options = {}) {
    return require('./executor').Executor.simpleBind(this, options);
  }

  /** Binds to given arrays (MXNet's bind); see Executor.bind. */
  bind(options = {}) {
    return require('./executor').Executor.bind(this, options);
  }

  // ---- Arithmetic (MXNet's Symbol operators) -----------------------------------------------------

  /** this + other (elemwise_add for a Symbol, _plus_scalar for a number). */
  add(other) { return arithmetic(this, other, 'elemwise_add', '_plus_scalar'); }
  /** this - other. */
  sub(other) { return arithmetic(this, other, 'elemwise_sub', '_minus_scalar'); }
  /** this * other. */
  mul(other) { return arithmetic(this, other, 'elemwise_mul', '_mul_scalar'); }
  /** this / other. */
  div(other) { return arithmetic(this, other, 'elemwise_div', '_div_scalar'); }
  /** this ** other. */
  pow(other) { return arithmetic(this, other, '_power', '_power_scalar'); }

  /** "Symbol fc1" or "Symbol group [a_output, b_output]". */
  toString() {
    if (this._handle === null) return 'Symbol <disposed>';
    const name = this.name;
    return name !== null && this.numOutputs === 1 ? `Symbol ${name}`
      : `Symbol group [${this.listOutputs().join(', ')}]`;
  }

  [util.inspect.custom]() {
    return this.toString();
  }
}
Object.defineProperty(GraphSymbol, 'name', { value: 'Symbol' });

function wrapSymbol(handle) {
  return new GraphSymbol(CONSTRUCT, handle);
}

/** The handle of a live Symbol (TypeError naming `where` for anything else). */
function handleOf(value, where) {
  return handleOfType(value, GraphSymbol, where);
}

// [name, value] pairs of an object or Map.
function entriesOf(value, where) {
  if (value instanceof Map) return Array.from(value.entries());
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) return Object.entries(value);
  throw new errors.TypeError(`[${where}] expected an object (or Map) by input name, given ${describe(value)}`);
}

// A shape as a list of integers (a number is a one-dimensional shape).
function shapeList(shape, where) {
  if (typeof shape === 'number') return [shape];
  if (!Array.isArray(shape)) throw new errors.TypeError(`[${where}] a shape must be an array of integers`);
  return shape;
}

function arithmetic(symbol, other, symbolOp, scalarOp) {
  if (other instanceof GraphSymbol) return callSymbolOp(ops[symbolOp].op, [symbol, other]);
  if (typeof other === 'number') return callSymbolOp(ops[scalarOp].op, [symbol, { scalar: other }]);
  throw new errors.TypeError(`[${symbolOp}] expected a Symbol or a number, given ${describe(other)}`);
}

/**
 * Builds the symbol of op `spec` from a generated function's arguments: Symbols (arrays flattened; null and
 * undefined left out), then optionally one object holding parameters (MXNet's names and values), inputs by name
 * (Symbol values), `name` and `attr` (attributes). Inputs given neither way become variables named
 * `<name>_<input>`, as in MXNet.
 */
function callSymbolOp(spec, args) {
  const values = Array.from(args);
  while (values.length > 0 && values[values.length - 1] === undefined) values.pop();
  const last = values.length > 0 ? values[values.length - 1] : undefined;
  const params = last !== null && typeof last === 'object' && !Array.isArray(last) && !(last instanceof GraphSymbol)
    ? values.pop() : {};
  const positional = [];
  const addInput = (value) => {
    if (value === null || value === undefined) return;
    if (Array.isArray(value)) {
      value.forEach(addInput);
    } else if (value instanceof GraphSymbol) {
      positional.push(handleOf(value, spec.name));
    } else {
      throw new errors.TypeError(`[${spec.name}] input ${positional.length}: expected a Symbol, given ` +
                                 `${describe(value)} (NDArrays and Symbols cannot be mixed)`);
    }
  };
  values.forEach(addInput);
  const namedKeys = [];
  const named = [];
  const keys = [];
  const strings = [];
  let name = null;
  let attrs = {};
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined) continue;
    if (key === 'name') {
      name = value === null ? null : String(value);
    } else if (key === 'attr') {
      attrs = value || {};
    } else if (value instanceof GraphSymbol) {
      namedKeys.push(key);
      named.push(handleOf(value, spec.name));
    } else {
      keys.push(key);
      strings.push(formatParam(value, `[${spec.name}] parameter ${key}`));
    }
  }
  const attrKeys = Object.keys(attrs);
  return wrapSymbol(native.symbolCreateOp(spec.name, positional, namedKeys, named, keys, strings, name, attrKeys,
                                          attrKeys.map((key) => String(attrs[key]))));
}

// The symbolic form of one generated op function.
function symbolicFunction(name, fn) {
  const symbolic = function symbolicOp(...args) {
    return callSymbolOp(fn.op, args);
  };
  Object.defineProperty(symbolic, 'name', { value: name });
  symbolic.op = fn.op;
  return symbolic;
}

/**
 * MXNet's mx.sym namespace: Variable (and var), Group, load, fromJSON, and every operator (with its aliases
 * and the contrib, linalg, random and internal namespaces) building Symbols.
 */
function makeSymNamespace() {
  const sym = {
    Symbol: GraphSymbol,
    Variable: (name, options) => GraphSymbol.variable(name, options),
    var: (name, options) => GraphSymbol.variable(name, options),
    Group: (symbols) => GraphSymbol.group(symbols),
    load: (path) => GraphSymbol.load(path),
    fromJSON: (text) => GraphSymbol.fromJSON(text),
    load_json: (text) => GraphSymbol.fromJSON(text),
  };
  const namespaces = ['contrib', 'linalg', 'random', 'internal'];
  for (const [name, fn] of Object.entries(ops)) {
    if (typeof fn === 'function' && fn.op && !Object.prototype.hasOwnProperty.call(sym, name)) {
      sym[name] = symbolicFunction(name, fn);
    }
  }
  for (const namespace of namespaces) {
    sym[namespace] = {};
    for (const [name, fn] of Object.entries(ops[namespace] || {})) sym[namespace][name] = symbolicFunction(name, fn);
    Object.freeze(sym[namespace]);
  }
  return Object.freeze(sym);
}

const sym = makeSymNamespace();

module.exports = { Symbol: GraphSymbol, sym, callSymbolOp, handleOf, wrapSymbol };

'use strict';
/**
 * polymix: the Polymix deep-learning engine for Node.js (an N-API addon over the C ABI). See
 * docs/javascript.md. Every operator is in `ops` (generated from the operator schema); common ones are also
 * here at the top level; NDArray has methods for the everyday ones. Graphs: `sym` and `Symbol`, `Executor`,
 * `CachedOp`, `loadModel`; training pieces: `optim`.
 */
const native = require('./native');
const errors = require('./errors');
const scope = require('./scope');
const { NDArray } = require('./ndarray');
const creation = require('./creation');
const autograd = require('./autograd');
const io = require('./io');
const ops = require('./ops');
const { Symbol: GraphSymbol, sym } = require('./symbol');
const { Executor, CachedOp } = require('./executor');
const optim = require('./optim');
const model = require('./model');
const { DTYPES, checkDtype } = require('./dtype');
const { Device, toDevice, cpu, gpu, cpuPinned } = require('./device');

const isNDArray = (value) => value instanceof NDArray;

/**
 * Runs `fn` and disposes every NDArray created during it except those it returns (directly or inside arrays,
 * plain objects, Maps, Sets) and those passed to keep(). `fn` must be synchronous.
 */
function tidy(fn) {
  return scope.tidy(fn, isNDArray);
}

/** Keeps `array` alive past the enclosing tidy() calls; returns it. */
function keep(array) {
  if (!isNDArray(array)) throw new errors.TypeError('[keep] expected an NDArray');
  return scope.keep(array);
}

/** Disposes NDArrays (single ones, or nested in arrays and plain objects). */
function dispose(...values) {
  const visit = (value) => {
    if (isNDArray(value)) value.dispose();
    else if (Array.isArray(value)) value.forEach(visit);
    else if (value && Object.getPrototypeOf(value) === Object.prototype) Object.values(value).forEach(visit);
  };
  values.forEach(visit);
}

/**
 * Memory in use: numArrays (NDArrays neither disposed nor garbage-collected) and the storage statistics of a
 * device (default the CPU): bytesInUse, peakBytesInUse, bytesPooled (freed blocks kept for reuse). Memory is
 * returned once the last handle and all pending work on it are gone (waitAllSync() first for exact figures).
 */
function memory(device = undefined) {
  const place = toDevice(device);
  const [bytesInUse, peakBytesInUse, bytesPooled] = native.storageStats(place.typeFlag, place.id);
  return { ...scope.memory(), bytesInUse, peakBytesInUse, bytesPooled };
}

let schemaCache = null;

/** The operator registry as the core describes it (parsed JSON: {schema_version, operators: [...]}). */
function opSchema() {
  if (schemaCache === null) schemaCache = Object.freeze(JSON.parse(native.opSchemaJson()));
  return schemaCache;
}

/** Seeds every device's random generators (mx.random.seed). */
function randomSeed(seed) {
  native.randomSeed(seed);
}

/** A Promise that resolves when all pushed work has finished (rejects with the first error). */
function waitAll() {
  return native.waitAll();
}

/** Blocks until all pushed work has finished (mx.nd.waitall()). */
function waitAllSync() {
  native.waitAllSync();
}

// Note [Wait at exit]: work pushed to the engine (an executor's backward, an optimizer update) may still run
// on its threads when Node exits; tearing the process down under it crashed inside oneDNN's lazy JIT setup.
// As MXNet's Python package does at exit, wait for pending work first (its errors no longer matter then).
process.once('exit', () => {
  try {
    native.waitAllSync();
  } catch (error) {
    // Nothing can report it now.
  }
});

/** The C ABI version of the loaded library. */
function abiVersion() {
  return native.abiVersion()[0];
}

/** Whether the loaded core was built with CUDA. */
function builtWithCuda() {
  return native.builtWithCuda();
}

/** The number of usable GPUs. */
function gpuCount() {
  return native.gpuCount();
}

/** The C ABI's testing functions, for tests of marshalling and of the error mapping. */
const testing = Object.freeze({
  /** Throws the error the core raises for `kind` (a kind name such as 'ValueError', or its number). */
  raise(kind, message) {
    const code = typeof kind === 'number' ? kind : errors.ERROR_KINDS[kind];
    if (code === undefined) throw new errors.ValueError(`[testing.raise] unknown error kind ${kind}`);
    native.testingRaise(code, String(message));
  },
  /** A BigInt through the C ABI's int64 and back. */
  echoInt64: (value) => native.testingEchoInt64(value),
  /** A number through the C ABI's double and back. */
  echoDouble: (value) => native.testingEchoDouble(value),
  /** {text, length}: a string copied by the core, and its length in UTF-8 bytes. */
  echoString(text) {
    const [copy, length] = native.testingEchoString(text);
    return { text: copy, length };
  },
});

// Common operators at the top level (every operator is in `ops`), named as MXNet's mx.nd names them.
const COMMON_OPS = [
  'Activation', 'BatchNorm', 'Concat', 'Convolution', 'Dropout', 'Embedding', 'Flatten', 'FullyConnected',
  'LayerNorm', 'LeakyReLU', 'Pooling', 'Reshape', 'SoftmaxOutput', 'abs', 'add_n', 'argmax', 'argmin',
  'batch_dot', 'broadcast_add', 'broadcast_div', 'broadcast_mul', 'broadcast_sub', 'broadcast_to', 'clip',
  'concat', 'cos', 'dot', 'exp', 'expand_dims', 'log', 'log_softmax', 'max', 'mean', 'min', 'one_hot', 'pick',
  'relu', 'reshape', 'sigmoid', 'sin', 'slice', 'slice_axis', 'softmax', 'softmax_cross_entropy', 'sqrt',
  'square', 'squeeze', 'stack', 'sum', 'take', 'tanh', 'tile', 'topk', 'transpose', 'where', 'zeros_like',
  'ones_like',
];
const common = Object.fromEntries(COMMON_OPS.filter((name) => ops[name]).map((name) => [name, ops[name]]));

module.exports = {
  ...common,
  NDArray,
  ...creation,
  tidy,
  keep,
  dispose,
  memory,
  ops,
  opSchema,
  autograd,
  ...io,
  Symbol: GraphSymbol,
  sym,
  Executor,
  CachedOp,
  optim: Object.freeze({ ...optim }),
  ...model,
  Device,
  cpu,
  gpu,
  cpuPinned,
  dtypes: Object.freeze(Object.keys(DTYPES)),
  checkDtype,
  randomSeed,
  waitAll,
  waitAllSync,
  abiVersion,
  builtWithCuda,
  gpuCount,
  testing,
  errors,
  PolymixError: errors.PolymixError,
  RuntimeError: errors.RuntimeError,
  ValueError: errors.ValueError,
  IndexError: errors.IndexError,
  NotImplementedError: errors.NotImplementedError,
  OutOfMemoryError: errors.OutOfMemoryError,
  platform: native.PLATFORM,
  version: require('../package.json').version,
};

// TypeScript declarations of the polymix package (lib/index.js); the operators are in lib/ops.d.ts, generated
// from the operator schema.
import * as ops from './lib/ops';

export { ops };

/** Element type names. */
export type DType = 'float32' | 'float64' | 'float16' | 'bfloat16' | 'uint8' | 'int8' | 'int32' | 'int64' | 'bool';

/** The TypedArray each dtype reads into: 16-bit floats as their bit patterns, bool as 0/1 bytes. */
export interface DataTypeMap {
  float32: Float32Array;
  float64: Float64Array;
  float16: Uint16Array;
  bfloat16: Uint16Array;
  uint8: Uint8Array;
  int8: Int8Array;
  int32: Int32Array;
  int64: BigInt64Array;
  bool: Uint8Array;
}

/** Any TypedArray polymix can read or write. */
export type TypedArray = DataTypeMap[DType] | Uint8ClampedArray;

/** Nested JS arrays of values (what array() and arraySync() use). */
export type NestedArray<T> = T | NestedArray<T>[];

/** The element type of arraySync() for each dtype. */
export interface ValueTypeMap {
  float32: number; float64: number; float16: number; bfloat16: number; uint8: number; int8: number; int32: number;
  int64: bigint; bool: boolean;
}

/** A device: 'cpu', 'gpu' or 'cpu_pinned', and an id. */
export class Device {
  constructor(type: 'cpu' | 'gpu' | 'cpu_pinned', id?: number);
  readonly type: 'cpu' | 'gpu' | 'cpu_pinned';
  readonly id: number;
  /** MXNet's spelling, e.g. "gpu(1)". */
  toString(): string;
  equals(other: DeviceLike): boolean;
}

/** A Device, or its spelling: "cpu", "cpu(0)", "gpu(1)". */
export type DeviceLike = Device | string | { type: 'cpu' | 'gpu' | 'cpu_pinned'; id?: number };

/** An n-dimensional array in the core, owned through one native handle (free it with dispose() or tidy()). */
export class NDArray<D extends DType = DType> {
  private constructor();
  readonly dtype: D;
  /** The shape ([] for a scalar); a new array each time. */
  readonly shape: number[];
  readonly ndim: number;
  readonly size: number;
  readonly device: Device;
  readonly isDisposed: boolean;

  /** A Promise of the values (waits on a worker thread; never blocks the event loop). */
  data(): Promise<DataTypeMap[D]>;
  /** The values, blocking until computed. */
  dataSync(): DataTypeMap[D];
  /** A Promise of the values as nested arrays. */
  array(): Promise<NestedArray<ValueTypeMap[D]>>;
  /** The values as nested arrays, blocking. */
  arraySync(): NestedArray<ValueTypeMap[D]>;
  /** Resolves when pending writes have finished. */
  waitToRead(): Promise<void>;
  waitToReadSync(): void;
  /** Frees the native array now; idempotent. */
  dispose(): void;

  /** A view with another shape (one -1 is inferred). */
  reshape(shape: number[]): NDArray<D>;
  reshape(...shape: number[]): NDArray<D>;
  /** A view of rows [begin, end) along the first axis. */
  slice(begin: number, end?: number): NDArray<D>;
  /** A view of one row along the first axis. */
  at(index: number): NDArray<D>;
  astype<T extends DType>(dtype: T): NDArray<T>;
  copy(): NDArray<D>;
  /** A copy on another device, or a copy into `target` (returned). */
  copyTo(target: DeviceLike): NDArray<D>;
  copyTo<T extends DType>(target: NDArray<T>): NDArray<T>;
  /** Overwrites the values. */
  set(values: DataTypeMap[D]): this;

  /** Makes this array an autograd variable with a zero gradient buffer. */
  attachGrad(gradReq?: 'write' | 'add' | 'null'): this;
  /** The gradient buffer (owned by this array), or null without attachGrad(). */
  readonly grad: NDArray<D> | null;
  /** The same data outside any autograd graph. */
  detach(): NDArray<D>;
  /** Differentiates this recorded array into the variables' grad buffers. */
  backward(outGrad?: NDArray | null, options?: { retainGraph?: boolean; trainMode?: boolean; createGraph?: boolean }): void;

  add(other: NDArray | number): NDArray<D>;
  sub(other: NDArray | number): NDArray<D>;
  mul(other: NDArray | number): NDArray<D>;
  div(other: NDArray | number): NDArray<D>;
  pow(other: NDArray | number): NDArray<D>;
  mod(other: NDArray | number): NDArray<D>;
  maximum(other: NDArray | number): NDArray<D>;
  minimum(other: NDArray | number): NDArray<D>;
  equal(other: NDArray | number): NDArray<D>;
  notEqual(other: NDArray | number): NDArray<D>;
  greater(other: NDArray | number): NDArray<D>;
  greaterEqual(other: NDArray | number): NDArray<D>;
  less(other: NDArray | number): NDArray<D>;
  lessEqual(other: NDArray | number): NDArray<D>;
  neg(): NDArray<D>;
  abs(): NDArray<D>;
  exp(): NDArray<D>;
  log(): NDArray<D>;
  sqrt(): NDArray<D>;
  square(): NDArray<D>;
  relu(): NDArray<D>;
  sigmoid(): NDArray<D>;
  tanh(): NDArray<D>;
  clip(min: number, max: number): NDArray<D>;
  dot(other: NDArray, params?: ops.dotParams): NDArray<D>;
  sum(axis?: number | number[] | null, keepdims?: boolean): NDArray<D>;
  mean(axis?: number | number[] | null, keepdims?: boolean): NDArray<D>;
  max(axis?: number | number[] | null, keepdims?: boolean): NDArray<D>;
  min(axis?: number | number[] | null, keepdims?: boolean): NDArray<D>;
  argmax(axis?: number | null, keepdims?: boolean): NDArray;
  argmin(axis?: number | null, keepdims?: boolean): NDArray;
  transpose(axes?: number[]): NDArray<D>;
  flatten(): NDArray<D>;
  expandDims(axis: number): NDArray<D>;
  squeeze(axis?: number | number[] | null): NDArray<D>;
  softmax(axis?: number): NDArray<D>;
  broadcastTo(shape: number[]): NDArray<D>;
  toString(): string;
}

/** Options of the creation functions. */
export interface CreateOptions<D extends DType = DType> {
  dtype?: D;
  device?: DeviceLike;
}

/** A new array from a TypedArray, nested arrays, a number or an NDArray (copied). */
export function array(values: Float32Array, options?: CreateOptions & { shape?: number[] }): NDArray<'float32'>;
export function array(values: Float64Array, options?: CreateOptions & { shape?: number[] }): NDArray<'float64'>;
export function array(values: Int32Array, options?: CreateOptions & { shape?: number[] }): NDArray<'int32'>;
export function array(values: BigInt64Array, options?: CreateOptions & { shape?: number[] }): NDArray<'int64'>;
export function array<D extends DType = 'float32'>(
  values: TypedArray | NestedArray<number | boolean | bigint> | NDArray,
  options?: CreateOptions<D> & { shape?: number[] }): NDArray<D>;
export function full<D extends DType = 'float32'>(shape: number | number[], value: number,
                                                  options?: CreateOptions<D>): NDArray<D>;
export function zeros<D extends DType = 'float32'>(shape: number | number[], options?: CreateOptions<D>): NDArray<D>;
export function ones<D extends DType = 'float32'>(shape: number | number[], options?: CreateOptions<D>): NDArray<D>;
export function empty<D extends DType = 'float32'>(shape: number | number[], options?: CreateOptions<D>): NDArray<D>;
export function arange<D extends DType = 'float32'>(start: number, stop?: number, step?: number,
                                                    options?: CreateOptions<D>): NDArray<D>;

/** Runs fn and disposes the arrays it created, except what it returns and what keep() marks. */
export function tidy<T>(fn: () => T): T;
export function keep<T extends NDArray>(array: T): T;
export function dispose(...values: unknown[]): void;
export function memory(device?: DeviceLike): {
  numArrays: number; bytesInUse: number; peakBytesInUse: number; bytesPooled: number;
};
/** The operator registry as the core describes it. */
export function opSchema(): {
  schema_version: number;
  operators: ReadonlyArray<{
    name: string; aliases: string[]; doc: string; family: string; inputs: string[]; outputs: string[];
    auxiliary_inputs: string[]; variadic_count_param: string; variadic_stride: number;
    differentiable: boolean; needs_rng: boolean;
    params: ReadonlyArray<{ name: string; type: string; required: boolean; default: string; nullable: boolean;
                            doc: string; choices?: string[] }>;
  }>;
};

/** Autograd (mx.autograd). */
export namespace autograd {
  function record<T>(fn: () => T, options?: { trainMode?: boolean }): T;
  function pause<T>(fn: () => T, options?: { trainMode?: boolean }): T;
  function trainMode<T>(fn: () => T): T;
  function predictMode<T>(fn: () => T): T;
  function isRecording(): boolean;
  function isTraining(): boolean;
  function markVariables(variables: NDArray[], gradients?: (NDArray | null)[] | null,
                         gradReqs?: 'write' | 'add' | 'null' | ('write' | 'add' | 'null')[]): void;
  interface BackwardOptions {
    headGrads?: NDArray | (NDArray | null)[] | null;
    retainGraph?: boolean;
    createGraph?: boolean;
    trainMode?: boolean;
  }
  function backward(heads: NDArray | NDArray[], options?: BackwardOptions): void;
  function grad(heads: NDArray | NDArray[], variables: NDArray, options?: BackwardOptions): NDArray;
  function grad(heads: NDArray | NDArray[], variables: NDArray[], options?: BackwardOptions): NDArray[];
}

/** Shapes or dtypes by input name. */
export type ByName<T> = Record<string, T> | Map<string, T>;
/** Gradient requests (MXNet's grad_req). */
export type GradReq = 'write' | 'add' | 'null' | 'inplace';

/** What every op function also takes when called on Symbols: the node's name and attributes. */
export interface SymbolOpOptions {
  /** The node's name (a fresh one such as "fullyconnected0" when omitted). */
  name?: string;
  /** Attributes (MXNet's hidden keys such as ctx_group or lr_mult become "__ctx_group__"...). */
  attr?: Record<string, string | number>;
  /** Parameters (MXNet's names) and inputs by name (Symbol values). */
  [key: string]: unknown;
}

/** A symbol: one or more outputs of a graph (MXNet's Symbol). Dispose when done (a GC backstop exists). */
export class Symbol {
  private constructor();
  /** A variable (mx.sym.var); shape and dtype seed inference. */
  static variable(name: string, options?: {
    shape?: number[]; dtype?: DType; lrMult?: number; wdMult?: number; lr_mult?: number; wd_mult?: number;
    init?: optim.Initializer | string; stype?: string; attr?: Record<string, string | number>;
  }): Symbol;
  /** A symbol of all outputs of `symbols` (mx.sym.Group). */
  static group(symbols: Symbol[]): Symbol;
  /** Parses MXNet symbol JSON. */
  static fromJSON(text: string): Symbol;
  /** Reads a -symbol.json file. */
  static load(path: string): Symbol;
  /** The node's name; null for a group of several nodes. */
  readonly name: string | null;
  readonly numOutputs: number;
  readonly isDisposed: boolean;
  listArguments(): string[];
  listOutputs(): string[];
  listAuxiliaryStates(): string[];
  listInputs(): string[];
  /** Output `index`, or the output called `name` (symbol[i], symbol['fc1_output']). */
  get(indexOrName: number | string): Symbol;
  getInternals(): Symbol;
  getChildren(): Symbol;
  copy(): Symbol;
  /** An attribute or parameter of the node, or null. */
  attr(key: string): string | null;
  setAttr(key: string, value: unknown): this;
  setAttr(attrs: Record<string, unknown>): this;
  /** {nodeName: {key: value}} for every node. */
  attrDict(): Record<string, Record<string, string>>;
  listAttr(): Record<string, string>;
  inferShape(shapes?: ByName<number[] | number>): {
    argShapes: number[][]; outShapes: number[][]; auxShapes: number[][]; complete: boolean;
  };
  inferShapePartial(shapes?: ByName<number[] | number>): {
    argShapes: (number[] | null)[]; outShapes: (number[] | null)[]; auxShapes: (number[] | null)[]; complete: boolean;
  };
  inferType(dtypes?: ByName<DType>): { argTypes: DType[]; outTypes: DType[]; auxTypes: DType[]; complete: boolean };
  inferTypePartial(dtypes?: ByName<DType>): {
    argTypes: (DType | null)[]; outTypes: (DType | null)[]; auxTypes: (DType | null)[]; complete: boolean;
  };
  /** MXNet's symbol JSON (so JSON.stringify(symbol) gives it as one JSON string). */
  toJSON(): string;
  save(path: string): void;
  simpleBind(options?: SimpleBindOptions): Executor;
  bind(options: BindOptions): Executor;
  add(other: Symbol | number): Symbol;
  sub(other: Symbol | number): Symbol;
  mul(other: Symbol | number): Symbol;
  div(other: Symbol | number): Symbol;
  pow(other: Symbol | number): Symbol;
  dispose(): void;
  toString(): string;
}

/** A generated op function called on Symbols. */
export type SymbolOp = (...args: Array<Symbol | Symbol[] | null | undefined | SymbolOpOptions>) => Symbol;

/** MXNet's mx.sym: variables, groups, files, and every operator building Symbols. */
export const sym: {
  readonly Symbol: typeof Symbol;
  Variable(name: string, options?: Parameters<typeof Symbol.variable>[1]): Symbol;
  var(name: string, options?: Parameters<typeof Symbol.variable>[1]): Symbol;
  Group(symbols: Symbol[]): Symbol;
  load(path: string): Symbol;
  fromJSON(text: string): Symbol;
  load_json(text: string): Symbol;
  readonly contrib: Record<string, SymbolOp>;
  readonly linalg: Record<string, SymbolOp>;
  readonly random: Record<string, SymbolOp>;
  readonly internal: Record<string, SymbolOp>;
} & { readonly [op: string]: SymbolOp | any };

/** Options of Executor.simpleBind. */
export interface SimpleBindOptions {
  device?: DeviceLike;
  /** Shapes of some inputs by name (the rest are inferred). */
  shapes?: Record<string, number[] | number>;
  dtypes?: Record<string, DType>;
  /** One request for all, one per argument name (others 'null'), or one per argument in order. */
  gradReq?: GradReq | Record<string, GradReq> | GradReq[];
}

/** Options of Executor.bind (arrays are used, not copied). */
export interface BindOptions {
  device?: DeviceLike;
  args: NDArray[] | ByName<NDArray>;
  argsGrad?: (NDArray | null)[] | ByName<NDArray | null> | null;
  gradReq?: GradReq | Record<string, GradReq> | GradReq[];
  auxStates?: NDArray[] | ByName<NDArray>;
}

/** A Symbol bound to arrays on one device (MXNet's Executor); it owns its arrays. */
export class Executor {
  private constructor();
  static simpleBind(symbol: Symbol, options?: SimpleBindOptions): Executor;
  static bind(symbol: Symbol, options: BindOptions): Executor;
  readonly symbol: Symbol;
  readonly isDisposed: boolean;
  /** forward(), forward(isTrain), or forward({isTrain, ...inputs by argument name}). Returns the outputs. */
  forward(options?: boolean | ({ isTrain?: boolean } & Record<string, NDArray | TypedArray | boolean | undefined>)):
    NDArray[];
  backward(outGrads?: NDArray | (NDArray | null)[] | null, options?: { isTrain?: boolean }): void;
  readonly outputs: NDArray[];
  readonly argArrays: NDArray[];
  readonly gradArrays: (NDArray | null)[];
  readonly auxArrays: NDArray[];
  readonly argDict: Record<string, NDArray>;
  readonly gradDict: Record<string, NDArray>;
  readonly auxDict: Record<string, NDArray>;
  readonly outputDict: Record<string, NDArray>;
  copyParamsFrom(argParams: ByName<NDArray>, auxParams?: ByName<NDArray>, allowExtraParams?: boolean): void;
  reshape(shapes: Record<string, number[] | number>,
          options?: { partialShaping?: boolean; allowUpSizing?: boolean }): Executor;
  memory(): { plannedBytes: number; unplannedBytes: number };
  dispose(): void;
}

/** CachedOp flags (MXNet's, plus Polymix's graph passes). */
export interface CachedOpFlags {
  static_alloc?: boolean;
  static_shape?: boolean;
  forward_bulk_size?: number;
  backward_bulk_size?: number;
  fuse?: boolean;
  inplace?: boolean;
  share_memory?: boolean;
  cse?: boolean;
  [flag: string]: unknown;
}

/** A Symbol called like one operator on NDArrays (recorded by autograd as one node); the object is callable. */
export interface CachedOp {
  (...inputs: Array<NDArray | NDArray[]>): NDArray | NDArray[];
  (inputs: Record<string, NDArray>): NDArray | NDArray[];
  readonly symbol: Symbol;
  /** Every variable of the symbol, in listInputs order: what a call takes. */
  readonly inputNames: ReadonlyArray<string>;
  readonly isDisposed: boolean;
  invoke(...inputs: Array<NDArray | NDArray[] | Record<string, NDArray>>): NDArray | NDArray[];
  dispose(): void;
}
export const CachedOp: {
  new (symbol: Symbol, flags?: CachedOpFlags): CachedOp;
  readonly prototype: CachedOp;
};

/** Options of loadModel and Model. */
export interface ModelOptions {
  /** The arguments fed by forward() (default ['data']). */
  inputNames?: string[];
  /** Where the parameters go (copied there). */
  device?: DeviceLike;
  /** Zeros for parameters the params lack, instead of a ValueError. */
  allowMissing?: boolean;
  /** Ignore params the symbol does not use, instead of a ValueError. */
  ignoreExtra?: boolean;
  flags?: CachedOpFlags;
}

/** A symbol with its parameters, run as one CachedOp in predict mode. */
export class Model {
  constructor(symbol: Symbol, argParams?: ByName<NDArray>, auxParams?: ByName<NDArray>, options?: ModelOptions);
  readonly symbol: Symbol;
  readonly inputNames: ReadonlyArray<string>;
  /** The model's own handles to its parameters and auxiliary states, by name. */
  readonly params: Record<string, NDArray>;
  readonly cachedOp: CachedOp;
  readonly isDisposed: boolean;
  /** Inputs in inputNames order, or one object by name; one NDArray for one output, else an array. */
  forward(...inputs: Array<NDArray | NDArray[]>): NDArray | NDArray[];
  forward(inputs: Record<string, NDArray>): NDArray | NDArray[];
  dispose(): void;
}

/** A loaded checkpoint (MXNet's load_checkpoint). */
export interface Checkpoint {
  symbol: Symbol;
  argParams: Record<string, NDArray>;
  auxParams: Record<string, NDArray>;
}
/** Loads `<prefix>-symbol.json` + `<prefix>-%04d.params` (MXNet's export / save_checkpoint) as a Model. */
export function loadModel(prefix: string, epoch?: number, options?: ModelOptions): Promise<Model>;
export function loadModelSync(prefix: string, epoch?: number, options?: ModelOptions): Model;
export function loadCheckpoint(prefix: string, epoch?: number): Promise<Checkpoint>;
export function loadCheckpointSync(prefix: string, epoch?: number): Checkpoint;
/** Writes a checkpoint as MXNet's save_checkpoint: arrays named "arg:<name>" and "aux:<name>". */
export function saveCheckpoint(prefix: string, epoch: number, symbol: Symbol, argParams: ByName<NDArray>,
                               auxParams?: ByName<NDArray>): Promise<void>;
export function saveCheckpointSync(prefix: string, epoch: number, symbol: Symbol, argParams: ByName<NDArray>,
                                   auxParams?: ByName<NDArray>): void;
export function checkpointFiles(prefix: string, epoch?: number): { symbolFile: string; paramsFile: string };

/** Keyword arguments of the optim group, with MXNet's names; values as MXNet's str() would print them. */
export type Kwargs = Record<string, number | boolean | string | null | ReadonlyArray<number | string> | undefined>;
/** createOptimizer's parameters: MXNet's keyword arguments, a schedule and parameter names. */
export interface OptimizerParams {
  lr_scheduler?: optim.LRScheduler;
  param_idx2name?: string[] | Record<number, string> | Map<number, string>;
  [key: string]: Kwargs[string] | optim.LRScheduler | Record<number, string> | Map<number, string>;
}

/** Optimizers, schedules, initializers and metrics (mx.optimizer, mx.lr_scheduler, mx.init, mx.metric). */
export namespace optim {
  class LRScheduler {
    private constructor();
    readonly name: string;
    readonly isDisposed: boolean;
    /** The learning rate after `numUpdate` updates. */
    lr(numUpdate: number): number;
    dispose(): void;
  }
  class OptimizerState {
    private constructor();
    readonly arrays: NDArray[];
    readonly weight32: NDArray | null;
    readonly isDisposed: boolean;
    dispose(): void;
  }
  class Optimizer {
    private constructor();
    readonly name: string;
    readonly isDisposed: boolean;
    learningRate: number;
    readonly numUpdate: number;
    readonly lrScheduler: LRScheduler | null;
    readonly states: Map<number, OptimizerState>;
    setParam(key: string, value: number | boolean | string | null): this;
    getParam(key: string): string;
    setLRScheduler(scheduler: LRScheduler | null): this;
    setParamNames(names: string[] | Record<number, string> | Map<number, string>): this;
    setLrMult(mults: Record<string | number, number> | Map<string | number, number>): this;
    setWdMult(mults: Record<string | number, number> | Map<string | number, number>): this;
    createState(index: number, weight: NDArray): OptimizerState;
    /** Updates `weight` in place; the state kept for `index` is used when `state` is omitted. */
    update(index: number, weight: NDArray, grad: NDArray, state?: OptimizerState): void;
    dispose(): void;
  }
  class Initializer {
    private constructor();
    readonly name: string;
    readonly isDisposed: boolean;
    dumps(): string;
    apply<T extends NDArray>(name: string, array: T, initAttr?: string | null): T;
    initialize<T extends ByName<NDArray>>(arrays: T, options?: { symbol?: Symbol | null; exclude?: string[] }): T;
    dispose(): void;
  }
  class Metric {
    private constructor();
    readonly name: string;
    readonly isDisposed: boolean;
    update(labels: NDArray | NDArray[], preds: NDArray | NDArray[]): this;
    get(): Record<string, number>;
    getNameValue(): Array<[string, number]>;
    reset(): this;
    add(child: Metric): this;
    dispose(): void;
  }
  function createOptimizer(name: 'sgd' | 'nag' | 'adam' | 'adamw' | 'rmsprop' | 'adagrad' | 'adadelta' | 'ftrl' |
                                 'signum' | 'lamb' | 'ccsgd' | string,
                           params?: OptimizerParams): Optimizer;
  function createLRScheduler(name: 'factor' | 'multifactor' | 'poly' | 'cosine' | string, params?: Kwargs): LRScheduler;
  function createInitializer(nameOrJson: string, params?: Kwargs): Initializer;
  function mixedInitializer(rules: Array<[string, Initializer]> | Record<string, Initializer>): Initializer;
  function createMetric(name: string, params?: Kwargs): Metric;
}

/** What save() accepts: arrays, or arrays by name. */
export type SaveData = NDArray | NDArray[] | Record<string, NDArray> | Map<string, NDArray>;
/** Saves MXNet .params files. */
export function save(path: string, data: SaveData): Promise<void>;
export function saveSync(path: string, data: SaveData): void;
/** Loads MXNet .params files: a list, or arrays by name. */
export function load(path: string): Promise<NDArray[] | Record<string, NDArray>>;
export function loadSync(path: string): NDArray[] | Record<string, NDArray>;

export function cpu(id?: number): Device;
export function gpu(id?: number): Device;
export function cpuPinned(id?: number): Device;
export const dtypes: ReadonlyArray<DType>;
export function checkDtype(name: string): DType;
export function randomSeed(seed: number | bigint): void;
export function waitAll(): Promise<void>;
export function waitAllSync(): void;
export function abiVersion(): number;
export function builtWithCuda(): boolean;
export function gpuCount(): number;
export const platform: string;
export const version: string;

/** The C ABI's testing functions. */
export namespace testing {
  function raise(kind: string | number, message: string): never;
  function echoInt64(value: bigint): bigint;
  function echoDouble(value: number): number;
  function echoString(text: string): { text: string; length: number };
}

/** Base of every Polymix error (matched with instanceof across the built-in bases). */
export class PolymixError extends Error {
  readonly kind: string;
  readonly code: number;
}
interface PolymixErrorFields {
  readonly kind: string;
  readonly code: number;
}
export class RuntimeError extends Error implements PolymixErrorFields { readonly kind: string; readonly code: number; }
export class ValueError extends Error implements PolymixErrorFields { readonly kind: string; readonly code: number; }
export class IndexError extends RangeError implements PolymixErrorFields { readonly kind: string; readonly code: number; }
export class NotImplementedError extends Error implements PolymixErrorFields {
  readonly kind: string; readonly code: number;
}
export class OutOfMemoryError extends Error implements PolymixErrorFields { readonly kind: string; readonly code: number; }
declare class PolymixTypeError extends TypeError implements PolymixErrorFields {
  readonly kind: string; readonly code: number;
}
export const errors: {
  PolymixError: typeof PolymixError;
  RuntimeError: typeof RuntimeError;
  ValueError: typeof ValueError;
  TypeError: typeof PolymixTypeError;
  IndexError: typeof IndexError;
  NotImplementedError: typeof NotImplementedError;
  OutOfMemoryError: typeof OutOfMemoryError;
  ERROR_KINDS: Readonly<Record<string, number>>;
};

// Common operators at the top level (lib/index.js's COMMON_OPS).
export const Activation: typeof ops.Activation;
export const BatchNorm: typeof ops.BatchNorm;
export const Concat: typeof ops.Concat;
export const Convolution: typeof ops.Convolution;
export const Dropout: typeof ops.Dropout;
export const Embedding: typeof ops.Embedding;
export const Flatten: typeof ops.Flatten;
export const FullyConnected: typeof ops.FullyConnected;
export const LayerNorm: typeof ops.LayerNorm;
export const LeakyReLU: typeof ops.LeakyReLU;
export const Pooling: typeof ops.Pooling;
export const Reshape: typeof ops.Reshape;
export const SoftmaxOutput: typeof ops.SoftmaxOutput;
export const abs: typeof ops.abs;
export const add_n: typeof ops.add_n;
export const argmax: typeof ops.argmax;
export const argmin: typeof ops.argmin;
export const batch_dot: typeof ops.batch_dot;
export const broadcast_add: typeof ops.broadcast_add;
export const broadcast_div: typeof ops.broadcast_div;
export const broadcast_mul: typeof ops.broadcast_mul;
export const broadcast_sub: typeof ops.broadcast_sub;
export const broadcast_to: typeof ops.broadcast_to;
export const clip: typeof ops.clip;
export const concat: typeof ops.concat;
export const cos: typeof ops.cos;
export const dot: typeof ops.dot;
export const exp: typeof ops.exp;
export const expand_dims: typeof ops.expand_dims;
export const log: typeof ops.log;
export const log_softmax: typeof ops.log_softmax;
export const max: typeof ops.max;
export const mean: typeof ops.mean;
export const min: typeof ops.min;
export const one_hot: typeof ops.one_hot;
export const pick: typeof ops.pick;
export const relu: typeof ops.relu;
export const reshape: typeof ops.reshape;
export const sigmoid: typeof ops.sigmoid;
export const sin: typeof ops.sin;
export const slice: typeof ops.slice;
export const slice_axis: typeof ops.slice_axis;
export const softmax: typeof ops.softmax;
export const softmax_cross_entropy: typeof ops.softmax_cross_entropy;
export const sqrt: typeof ops.sqrt;
export const square: typeof ops.square;
export const squeeze: typeof ops.squeeze;
export const stack: typeof ops.stack;
export const sum: typeof ops.sum;
export const take: typeof ops.take;
export const tanh: typeof ops.tanh;
export const tile: typeof ops.tile;
export const topk: typeof ops.topk;
export const transpose: typeof ops.transpose;
export const where: typeof ops.where;
export const zeros_like: typeof ops.zeros_like;
export const ones_like: typeof ops.ones_like;

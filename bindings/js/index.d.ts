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

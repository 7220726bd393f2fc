'use strict';
/**
 * Lifetimes of the C ABI's other handles (symbols, executors, cached ops, optimizers and their states,
 * schedules, initializers, metrics), as lib/scope.js does for arrays: each object owns one handle, released by
 * `dispose()` (idempotent), with a FinalizationRegistry as the backstop for objects collected undisposed.
 * Objects are not tracked by tidy(): they are few and long-lived, so dispose them explicitly.
 */
const errors = require('./errors');

// The backstop: frees the handle of an object that was collected. Held value: {handle, free}.
const registry = new FinalizationRegistry(({ handle, free }) => free(handle));

/** Makes `object` own `handle`, freed by `free(handle)` on dispose() or collection; returns the object. */
function adopt(object, handle, free, kind) {
  Object.defineProperty(object, '_handle', { value: handle, writable: true, enumerable: false, configurable: true });
  Object.defineProperty(object, '_free', { value: free, enumerable: false, configurable: true });
  Object.defineProperty(object, '_kind', { value: kind, enumerable: false, configurable: true });
  registry.register(object, { handle, free }, object);
  return object;
}

/** The live handle of an adopted object (a ValueError naming `where` once disposed). */
function live(object, where) {
  if (object._handle === null) throw new errors.ValueError(`[${where}] the ${object._kind} has been disposed`);
  return object._handle;
}

/** Frees an adopted object's handle now; later use is a ValueError. Idempotent. */
function release(object) {
  if (object._handle === null) return;
  const handle = object._handle;
  object._handle = null;
  registry.unregister(object);
  object._free(handle);
}

/** The handle of `value` if it is an instance of `Class` (TypeError otherwise), checked live. */
function handleOfType(value, Class, where) {
  if (!(value instanceof Class)) {
    throw new errors.TypeError(`[${where}] expected a ${Class.name}, given ${describe(value)}`);
  }
  return live(value, where);
}

/** A short description of a value for error messages. */
function describe(value) {
  if (value === null) return 'null';
  if (typeof value !== 'object' && typeof value !== 'function') return typeof value;
  return value.constructor && value.constructor.name ? `a ${value.constructor.name}` : 'an object';
}

/**
 * A base class for objects owning one native handle: `dispose()`, `isDisposed`, and `_live(where)` for methods.
 */
class NativeObject {
  constructor(handle, free, kind) {
    adopt(this, handle, free, kind);
  }

  _live(where) {
    return live(this, where);
  }

  /** Whether dispose() has been called. */
  get isDisposed() {
    return this._handle === null;
  }

  /** Frees the native object now (idempotent); later use is a ValueError. */
  dispose() {
    release(this);
  }
}

module.exports = { NativeObject, adopt, live, release, handleOfType, describe };

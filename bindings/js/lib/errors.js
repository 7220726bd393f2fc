'use strict';
/**
 * Errors: every failure of the core reaches JS as one of these classes, chosen by the C ABI's error kind,
 * with the core's message ("[op] what was expected, what was given"). Each extends the closest built-in
 * (a TypeError kind is a JS TypeError, an IndexError a RangeError), and every one is `instanceof PolymixError`.
 */

// Marks errors made here, so that `instanceof PolymixError` holds across the built-in bases.
const POLYMIX_ERROR = Symbol('polymix.error');

/**
 * Base of every Polymix error (use `instanceof PolymixError`); `kind` is the core's kind name.
 * Subclasses extend Error, TypeError or RangeError, so this class is matched by a tag, not the prototype chain.
 */
class PolymixError extends Error {
  static [Symbol.hasInstance](value) {
    if (this === PolymixError) return value != null && value[POLYMIX_ERROR] === true;
    return Function.prototype[Symbol.hasInstance].call(this, value);
  }
}

// A class for one error kind: its name, JS base class and C ABI kind number.
function errorClass(name, Base, kind) {
  const Class = class extends Base {
    constructor(message) {
      super(message);
      Object.defineProperty(this, 'name', { value: name, enumerable: false, configurable: true, writable: true });
      this.kind = name;
      this.code = kind;
      this[POLYMIX_ERROR] = true;
    }
  };
  Object.defineProperty(Class, 'name', { value: name });
  return Class;
}

/** Anything else (MXNet's MXNetError / Python's RuntimeError). */
const RuntimeError = errorClass('RuntimeError', Error, 1);
/** A bad value: shape mismatch, corrupt file, unknown parameter. */
const ValueError = errorClass('ValueError', Error, 2);
/** A wrong type: unsupported dtype, a non-array where an array belongs (a JS TypeError). */
const TypeError_ = errorClass('TypeError', TypeError, 3);
/** An index or axis out of range (a JS RangeError). */
const IndexError = errorClass('IndexError', RangeError, 4);
/** Not in this build (e.g. GPU without CUDA). */
const NotImplementedError = errorClass('NotImplementedError', Error, 5);
/** An allocation failed. */
const OutOfMemoryError = errorClass('OutOfMemoryError', Error, 6);

const BY_KIND = {
  1: RuntimeError, 2: ValueError, 3: TypeError_, 4: IndexError, 5: NotImplementedError, 6: OutOfMemoryError,
};

/** The error object for a C ABI error kind (unknown kinds are RuntimeErrors), as the addon raises it. */
function makeError(kindName, kind, message) {
  const Class = BY_KIND[kind] || RuntimeError;
  return new Class(message);
}

module.exports = {
  PolymixError,
  RuntimeError,
  ValueError,
  TypeError: TypeError_,
  IndexError,
  NotImplementedError,
  OutOfMemoryError,
  makeError,
  ERROR_KINDS: Object.freeze({ ...Object.fromEntries(Object.entries(BY_KIND).map(([k, c]) => [c.name, +k])) }),
};

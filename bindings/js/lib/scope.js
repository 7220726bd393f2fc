'use strict';
/**
 * Lifetimes of native arrays. Each NDArray owns one C ABI handle, released by `dispose()`; `tidy(fn)` disposes
 * every array created while fn runs except what fn returns; a FinalizationRegistry frees the handles of
 * arrays that were garbage-collected without being disposed (a backstop: GC may run late or, at exit, never,
 * so dispose or tidy anything large).
 */
const native = require('./native');
const errors = require('./errors');

// Open tidy scopes, innermost last: each a Set of the arrays created inside it.
const scopes = [];
// Live (not yet disposed or collected) arrays, for memory().
let liveCount = 0;

// The backstop: frees a handle whose NDArray was collected. Held value: the handle (not the NDArray).
const registry = new FinalizationRegistry((handle) => {
  liveCount -= 1;
  native.free(handle);
});

/** Registers a new array: counted, freed by the registry if collected, tracked by the innermost tidy. */
function track(array, handle) {
  liveCount += 1;
  registry.register(array, handle, array);
  if (scopes.length > 0) scopes[scopes.length - 1].add(array);
}

/** Frees an array's handle now (called once, by NDArray.dispose). */
function release(array, handle) {
  registry.unregister(array);
  liveCount -= 1;
  for (const scope of scopes) scope.delete(array);
  native.free(handle);
}

/** Moves an array to a new handle to the same data (frees the old one; the count is unchanged). */
function replaceHandle(array, oldHandle, newHandle) {
  registry.unregister(array);
  native.free(oldHandle);
  registry.register(array, newHandle, array);
}

/** Removes `array` from every open tidy scope, so that no tidy disposes it; returns it. */
function keep(array) {
  for (const scope of scopes) scope.delete(array);
  return array;
}

// Every NDArray inside a tidy result: the value itself, or inside arrays, plain objects, Maps and Sets.
function collect(value, found, isArray, seen = new Set()) {
  if (value === null || typeof value !== 'object' || seen.has(value)) return;
  seen.add(value);
  if (isArray(value)) {
    found.add(value);
  } else if (Array.isArray(value) || value instanceof Set) {
    for (const item of value) collect(item, found, isArray, seen);
  } else if (value instanceof Map) {
    for (const item of value.values()) collect(item, found, isArray, seen);
  } else if (Object.getPrototypeOf(value) === Object.prototype) {
    for (const item of Object.values(value)) collect(item, found, isArray, seen);
  }
}

/**
 * Runs `fn` and disposes every NDArray created during it, except those in its result (returned directly or in
 * arrays, plain objects, Maps, Sets) and those passed to keep(). Kept results belong to the enclosing tidy.
 * `fn` must be synchronous: the arrays of an async function would outlive the scope, so a Promise result is a
 * TypeError (after disposing the scope's arrays).
 */
function tidy(fn, isArray) {
  if (typeof fn !== 'function') throw new errors.TypeError('[tidy] expected a function');
  const scope = new Set();
  scopes.push(scope);
  let result;
  let failed = true;
  try {
    result = fn();
    failed = false;
  } finally {
    scopes.splice(scopes.lastIndexOf(scope), 1);
    const kept = new Set();
    if (!failed && !(result && typeof result.then === 'function')) collect(result, kept, isArray);
    for (const array of scope) {
      if (!kept.has(array)) array.dispose();
    }
    if (scopes.length > 0) {
      const parent = scopes[scopes.length - 1];
      for (const array of kept) if (scope.has(array)) parent.add(array);
    }
  }
  if (result && typeof result.then === 'function') {
    throw new errors.TypeError('[tidy] the function returned a Promise: tidy needs a synchronous function ' +
                               '(dispose arrays of async code explicitly)');
  }
  return result;
}

/** Counts of live native arrays (created and neither disposed nor collected). */
function memory() {
  return { numArrays: liveCount };
}

module.exports = { track, release, replaceHandle, keep, tidy, memory };

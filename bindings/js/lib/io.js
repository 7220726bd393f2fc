'use strict';
/**
 * MXNet .params files (mx.nd.save / mx.nd.load): a list of arrays, or arrays by name (a Gluon or Module
 * checkpoint's "arg:fc1_weight" keys). save/load return Promises (file I/O on a worker thread);
 * saveSync/loadSync block.
 */
const native = require('./native');
const errors = require('./errors');
const { NDArray, handleOf, wrapHandle } = require('./ndarray');

// [handles, names | null] of an array list, a {name: NDArray} object or a Map.
function toLists(data, where) {
  if (data instanceof NDArray) return [[handleOf(data, where)], null];
  if (Array.isArray(data)) return [data.map((array) => handleOf(array, where)), null];
  const entries = data instanceof Map ? Array.from(data.entries())
    : (data !== null && typeof data === 'object' ? Object.entries(data) : null);
  if (entries === null) {
    throw new errors.TypeError(`[${where}] expected an NDArray, an array of them, or an object/Map of them by name`);
  }
  return [entries.map(([, array]) => handleOf(array, where)), entries.map(([name]) => String(name))];
}

// The loaded arrays: an array for an unnamed file, a {name: NDArray} object for a named one.
function fromLists({ handles, names }) {
  const arrays = handles.map((handle) => wrapHandle(handle));
  if (names === null) return arrays;
  const result = {};
  names.forEach((name, i) => { result[name] = arrays[i]; });
  return result;
}

/** Saves arrays (NDArray, NDArray[], {name: NDArray} or Map) to `path`; resolves when written. */
async function save(path, data) {
  const [handles, names] = toLists(data, 'save');
  await native.save(String(path), handles, names);
}

/** Saves like save(), blocking. */
function saveSync(path, data) {
  const [handles, names] = toLists(data, 'saveSync');
  native.saveSync(String(path), handles, names);
}

/** Loads a .params file (MXNet 1.x formats): a Promise of NDArray[] or of {name: NDArray}. */
async function load(path) {
  return fromLists(await native.load(String(path)));
}

/** Loads like load(), blocking. */
function loadSync(path) {
  return fromLists(native.loadSync(String(path)));
}

module.exports = { save, saveSync, load, loadSync };

'use strict';
/**
 * Loads the prebuilt addon for this platform: prebuilds/<platform>-<arch>/polymix.node, with libpolymix.so and
 * the libraries it needs beside it (found through the addon's RPATH, $ORIGIN: no LD_LIBRARY_PATH). Nothing is
 * downloaded or compiled at install time; a platform without a prebuild gets an error naming it.
 * POLYMIX_ADDON=/path/to/polymix.node overrides the path (for developing the addon itself).
 */
const fs = require('fs');
const path = require('path');
const errors = require('./errors');

const PACKAGE_ROOT = path.join(__dirname, '..');
const PLATFORM = `${process.platform}-${process.arch}`;

function prebuiltPlatforms() {
  try {
    return fs.readdirSync(path.join(PACKAGE_ROOT, 'prebuilds')).sort();
  } catch (e) {
    return [];
  }
}

function load() {
  const override = process.env.POLYMIX_ADDON;
  const file = override || path.join(PACKAGE_ROOT, 'prebuilds', PLATFORM, 'polymix.node');
  if (!fs.existsSync(file)) {
    const available = prebuiltPlatforms();
    throw new errors.NotImplementedError(
      `[polymix] no prebuilt addon for this platform (${PLATFORM}, Node ${process.version}, ` +
      `N-API ${process.versions.napi}): expected ${file}. This package has prebuilds for: ` +
      `${available.length ? available.join(', ') : 'none'}. Build one from source with ` +
      '`bazel build //bindings/js:package` (docs/javascript.md).');
  }
  let addon;
  try {
    addon = require(file);
  } catch (cause) {
    const error = new errors.RuntimeError(
      `[polymix] could not load the addon ${file} (${PLATFORM}, Node ${process.version}): ${cause.message}. ` +
      'libpolymix.so and the libraries it needs must sit beside it (run `ldd` on it to see which is missing).');
    error.cause = cause;
    throw error;
  }
  addon.setErrorFactory(errors.makeError);
  const [loaded, compiled] = addon.abiVersion();
  if (loaded !== compiled) {
    throw new errors.RuntimeError(
      `[polymix] ABI mismatch: the addon was built for Polymix C ABI version ${compiled}, ` +
      `but the libpolymix.so beside it has version ${loaded}`);
  }
  return addon;
}

module.exports = load();
module.exports.PLATFORM = PLATFORM;

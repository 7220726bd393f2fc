'use strict';
// The installed package: its layout, the prebuilt addon finding every library inside the package (no
// LD_LIBRARY_PATH), and a clear error on a platform without a prebuild.
const { describe, it } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const pmx = require('polymix');

const packageRoot = path.dirname(require.resolve('polymix/package.json'));
const prebuilds = path.join(packageRoot, 'prebuilds', `${process.platform}-${process.arch}`);
// Libraries every Linux that runs Node.js has (tools/make_package.sh's base system).
const BASE = /^(linux-vdso|ld-linux.*|libc|libm|libdl|libpthread|librt|libstdc\+\+|libgcc_s)\.so/;

describe('installed package', () => {
  it('has the npm layout with the prebuilt addon inside', () => {
    const manifest = JSON.parse(fs.readFileSync(path.join(packageRoot, 'package.json'), 'utf8'));
    assert.equal(manifest.name, 'polymix');
    assert.equal(manifest.dependencies, undefined);
    assert.equal(manifest.scripts, undefined, 'nothing runs at install time');
    for (const file of [manifest.main, manifest.types, 'lib/ops.js', 'lib/ops.d.ts', 'README.md']) {
      assert.ok(fs.existsSync(path.join(packageRoot, file)), file);
    }
    assert.ok(fs.existsSync(path.join(prebuilds, 'polymix.node')));
    assert.ok(fs.existsSync(path.join(prebuilds, 'libpolymix.so')));
    assert.equal(pmx.version, manifest.version);
    assert.equal(pmx.platform, `${process.platform}-${process.arch}`);
  });

  it('runs without LD_LIBRARY_PATH', () => {
    assert.equal(process.env.LD_LIBRARY_PATH, undefined);
  });

  it('resolves every non-base library of the addon inside the package', (t) => {
    const ldd = spawnSync('ldd', [path.join(prebuilds, 'polymix.node')], { encoding: 'utf8', env: {} });
    if (ldd.error) {
      t.skip('ldd is not available');
      return;
    }
    assert.equal(ldd.status, 0, ldd.stderr);
    const outside = [];
    for (const line of ldd.stdout.split('\n')) {
      const match = /^\s*(\S+)\s+=>\s+(\S+)/.exec(line);
      if (!match || BASE.test(match[1])) continue;
      if (path.dirname(fs.realpathSync(match[2])) !== fs.realpathSync(prebuilds)) outside.push(line.trim());
    }
    assert.deepEqual(outside, [], 'libraries found outside the package');
    assert.ok(/libpolymix\.so => /.test(ldd.stdout));
  });

  it('gives a clear error on a platform without a prebuild', () => {
    const copy = fs.mkdtempSync(path.join(os.tmpdir(), 'pmx-noprebuild-'));
    const target = path.join(copy, 'node_modules', 'polymix');
    fs.mkdirSync(target, { recursive: true });
    fs.cpSync(path.join(packageRoot, 'lib'), path.join(target, 'lib'), { recursive: true });
    fs.copyFileSync(path.join(packageRoot, 'package.json'), path.join(target, 'package.json'));
    const run = spawnSync(process.execPath, ['-e', "require('polymix')"], { cwd: copy, encoding: 'utf8' });
    fs.rmSync(copy, { recursive: true, force: true });
    assert.notEqual(run.status, 0);
    assert.match(run.stderr, new RegExp(`no prebuilt addon for this platform \\(${process.platform}-${process.arch}`));
    assert.match(run.stderr, /NotImplementedError/);
  });

  it('ships licenses of the bundled libraries', () => {
    const licenses = fs.readdirSync(path.join(prebuilds, 'licenses'));
    assert.ok(licenses.some((name) => /dnnl/.test(name)), licenses.join(', '));
  });
});

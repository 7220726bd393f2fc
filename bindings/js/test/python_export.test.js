// A model exported by the Python package (Gluon's HybridBlock.export, written by export_gluon_model.py, which
// run_installed_tests.sh runs and names in POLYMIX_PYTHON_EXPORT) gives the Python package's outputs in Node.
const { describe, it } = require('node:test');
const fs = require('node:fs');
const path = require('node:path');
const pmx = require('polymix');
const { assertClose } = require('./helpers');

const folder = process.env.POLYMIX_PYTHON_EXPORT;

describe('a model exported by the Python package', () => {
  it('gives the same outputs in Node (within 1e-5)', {
    skip: folder ? false : 'POLYMIX_PYTHON_EXPORT is not set: run_installed_tests.sh sets it under bazel test',
  }, async () => {
    const io = JSON.parse(fs.readFileSync(path.join(folder, 'io.json'), 'utf8'));
    const model = await pmx.loadModel(path.join(folder, 'model'), 0, { inputNames: ['data'] });
    const x = pmx.array(Float32Array.from(io.input.data), { shape: io.input.shape });
    const y = model.forward(x);
    assertClose(y.dataSync(), Float32Array.from(io.output.data), { rtol: 1e-5, atol: 1e-5,
                                                                    message: 'Node vs Python' });
  });
});

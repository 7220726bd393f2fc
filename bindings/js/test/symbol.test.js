'use strict';
// Symbols through the JS API: composition (pmx.sym and the op functions on Symbols), listing, MXNet's JSON
// (round trips through text and files, the file layout MXNet reads), shape and type inference, attributes,
// outputs and internals, and the errors of each.
const { describe, it } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const pmx = require('polymix');

// data -> fc1(16) -> BatchNorm -> relu -> fc2(10) -> SoftmaxOutput, built with pmx.sym and with pmx.ops.
function network() {
  const data = pmx.sym.Variable('data');
  const fc1 = pmx.sym.FullyConnected(data, { num_hidden: 16, name: 'fc1' });
  const bn = pmx.sym.BatchNorm(fc1, { fix_gamma: false, name: 'bn1' });
  const relu = pmx.ops.Activation(bn, { act_type: 'relu', name: 'relu1' });  // an op function on a Symbol
  const fc2 = pmx.sym.FullyConnected(relu, { num_hidden: 10, name: 'fc2' });
  return pmx.sym.SoftmaxOutput(fc2, { name: 'softmax' });
}

const ARGUMENTS = ['data', 'fc1_weight', 'fc1_bias', 'bn1_gamma', 'bn1_beta', 'fc2_weight', 'fc2_bias',
  'softmax_label'];

describe('Symbol', () => {
  it('lists arguments, outputs, auxiliary states and inputs as MXNet does', () => {
    const net = network();
    assert.ok(net instanceof pmx.Symbol);
    assert.equal(net.name, 'softmax');
    assert.equal(net.numOutputs, 1);
    assert.deepEqual(net.listArguments(), ARGUMENTS);
    assert.deepEqual(net.listOutputs(), ['softmax_output']);
    assert.deepEqual(net.listAuxiliaryStates(), ['bn1_moving_mean', 'bn1_moving_var']);
    assert.deepEqual(net.listInputs(), ['data', 'fc1_weight', 'fc1_bias', 'bn1_gamma', 'bn1_beta', 'bn1_moving_mean',
      'bn1_moving_var', 'fc2_weight', 'fc2_bias', 'softmax_label']);
    assert.equal(String(net), 'Symbol softmax');
    net.dispose();
    assert.equal(net.isDisposed, true);
    assert.throws(() => net.listArguments(), pmx.ValueError);
  });

  it('infers shapes and types from the inputs', () => {
    const net = network();
    const { argShapes, outShapes, auxShapes, complete } = net.inferShape({ data: [32, 784] });
    assert.deepEqual(argShapes, [[32, 784], [16, 784], [16], [16], [16], [10, 16], [10], [32]]);
    assert.deepEqual(outShapes, [[32, 10]]);
    assert.deepEqual(auxShapes, [[16], [16]]);
    assert.equal(complete, true);
    const partial = net.inferShapePartial({});
    assert.equal(partial.complete, false);
    assert.equal(partial.argShapes[0], null);
    assert.throws(() => net.inferShape({}), pmx.ValueError);
    const types = net.inferType({ data: 'float64' });
    assert.deepEqual(types.argTypes, ARGUMENTS.map(() => 'float64'));
    assert.deepEqual(types.outTypes, ['float64']);
    assert.throws(() => net.inferShape({ nothing: [1] }), pmx.ValueError);
    const conflict = pmx.sym.elemwise_add(pmx.sym.Variable('a', { shape: [2, 3] }),
                                          pmx.sym.Variable('b', { shape: [3, 2] }));
    assert.throws(() => conflict.inferShape({}), pmx.ValueError);
  });

  it('round-trips MXNet symbol JSON through text and files', () => {
    const net = network();
    const json = net.toJSON();
    const parsed = JSON.parse(json);
    // MXNet's layout: nodes (variables have op "null"), arg_nodes, heads, attrs.mxnet_version.
    assert.deepEqual(Object.keys(parsed).sort(), ['arg_nodes', 'attrs', 'heads', 'node_row_ptr', 'nodes']);
    const fc1 = parsed.nodes.find((node) => node.name === 'fc1');
    assert.equal(fc1.op, 'FullyConnected');
    assert.equal(fc1.attrs.num_hidden, '16');
    assert.equal(parsed.nodes.find((node) => node.name === 'data').op, 'null');
    assert.ok(Array.isArray(parsed.attrs.mxnet_version));
    const back = pmx.Symbol.fromJSON(json);
    assert.equal(back.toJSON(), json);
    assert.deepEqual(back.listArguments(), ARGUMENTS);
    assert.deepEqual(back.inferShape({ data: [4, 5] }).outShapes, [[4, 10]]);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pmx-sym-'));
    const file = path.join(dir, 'net-symbol.json');
    net.save(file);
    assert.equal(fs.readFileSync(file, 'utf8'), json);
    const loaded = pmx.sym.load(file);
    assert.equal(loaded.toJSON(), json);
    assert.equal(JSON.stringify({ net }), JSON.stringify({ net: json }), 'toJSON is what JSON.stringify uses');
    assert.throws(() => pmx.Symbol.fromJSON('{"nodes": [{"op": "NoSuchOp", "name": "x", "inputs": []}], ' +
                                            '"arg_nodes": [], "heads": [[0, 0, 0]]}'), pmx.ValueError);
    assert.throws(() => pmx.Symbol.fromJSON('not json'), pmx.ValueError);
    assert.throws(() => pmx.Symbol.load(path.join(dir, 'missing.json')), pmx.PolymixError);
  });

  it('keeps variable attributes and node attributes', () => {
    const w = pmx.sym.Variable('w', { shape: [3, 4], lrMult: 0.5, dtype: 'float64', attr: { mood: 'calm' } });
    assert.equal(w.attr('lr_mult'), '0.5');
    assert.equal(w.attr('__lr_mult__'), '0.5');
    assert.equal(w.attr('mood'), 'calm');
    assert.equal(w.attr('absent'), null);
    // On operator nodes, user attributes take MXNet's hidden spelling (ctx_group -> __ctx_group__); other keys
    // are the op's parameters, validated.
    const y = pmx.sym.dot(pmx.sym.Variable('x'), w, { name: 'prod', attr: { ctx_group: 'a' } });
    assert.equal(y.attr('ctx_group'), 'a');
    y.setAttr({ ctx_group: 'b', transpose_b: false });
    assert.equal(y.attr('__ctx_group__'), 'b');
    assert.throws(() => y.setAttr('mood', 'calm'), pmx.ValueError);
    const dict = y.attrDict();
    assert.equal(dict.w.__lr_mult__, '0.5');
    assert.equal(dict.prod.__ctx_group__, 'b');
    assert.equal(y.listAttr().__ctx_group__, 'b');
    // __shape__ and __dtype__ seed inference.
    const inferred = y.inferShape({ x: [2, 3] });
    assert.deepEqual(inferred.outShapes, [[2, 4]]);
    assert.deepEqual(y.inferType({ x: 'float64' }).outTypes, ['float64']);
  });

  it('gives outputs by index and name, internals, children and groups', () => {
    const net = network();
    const internals = net.getInternals();
    assert.ok(internals.listOutputs().includes('fc1_output'));
    const fc1 = internals.get('fc1_output');
    assert.equal(fc1.name, 'fc1');
    assert.deepEqual(fc1.listArguments(), ['data', 'fc1_weight', 'fc1_bias']);
    assert.deepEqual(fc1.getChildren().listOutputs(), ['data', 'fc1_weight', 'fc1_bias']);
    const group = pmx.sym.Group([fc1, net]);
    assert.equal(group.numOutputs, 2);
    assert.equal(group.name, null);
    assert.deepEqual(group.listOutputs(), ['fc1_output', 'softmax_output']);
    assert.equal(group.get(1).name, 'softmax');
    assert.throws(() => group.get(2), pmx.IndexError);
    const split = pmx.sym.split(pmx.sym.Variable('x'), { num_outputs: 3, name: 'parts' });
    assert.deepEqual(split.listOutputs(), ['parts_output0', 'parts_output1', 'parts_output2']);
    const copy = net.copy();
    assert.equal(copy.toJSON(), net.toJSON());
  });

  it('names inputs by keyword, takes variadic lists and creates missing inputs as variables', () => {
    const x = pmx.sym.Variable('x');
    const fc = pmx.sym.FullyConnected({ data: x, num_hidden: 4, name: 'fc' });
    assert.deepEqual(fc.listArguments(), ['x', 'fc_weight', 'fc_bias']);
    const noBias = pmx.ops.FullyConnected(x, { num_hidden: 4, no_bias: true, name: 'nb' });
    assert.deepEqual(noBias.listArguments(), ['x', 'nb_weight']);
    const sum = pmx.sym.add_n([x, fc, x], { name: 'total' });
    assert.deepEqual(sum.listArguments(), ['x', 'fc_weight', 'fc_bias']);
    assert.equal(JSON.parse(sum.toJSON()).nodes.find((n) => n.name === 'total').attrs.num_args, '3');
    const fresh = pmx.sym.relu(x);
    assert.match(fresh.name, /^relu\d+$/);
  });

  it('evaluates Symbol arithmetic like MXNet operators', () => {
    const a = pmx.sym.Variable('a');
    const b = pmx.sym.Variable('b');
    const y = a.add(b).mul(2).sub(a).div(b).pow(2);  // ((2(a + b) - a) / b)^2
    const exe = y.simpleBind({ shapes: { a: [3], b: [3] }, gradReq: 'null' });
    exe.argDict.a.set(Float32Array.from([1, 2, 3]));
    exe.argDict.b.set(Float32Array.from([1, 4, -2]));
    const [out] = exe.forward();
    const expected = [1, 2, 3].map((av, i) => {
      const bv = [1, 4, -2][i];
      return ((2 * (av + bv) - av) / bv) ** 2;
    });
    assert.deepEqual(Array.from(out.dataSync()), expected);
    exe.dispose();
  });

  it('rejects mixing NDArrays with Symbols and bad parameters', () => {
    const x = pmx.sym.Variable('x');
    assert.throws(() => pmx.ops.broadcast_add(x, pmx.ones([2])), pmx.errors.TypeError);
    assert.throws(() => pmx.sym.FullyConnected(x, { name: 'fc' }), pmx.ValueError);  // num_hidden is required
    assert.throws(() => pmx.sym.FullyConnected(x, { num_hidden: 2, bogus: 1 }), pmx.ValueError);
    assert.throws(() => pmx.sym.Variable(''), TypeError);
    assert.throws(() => new pmx.Symbol(), TypeError);
  });
});

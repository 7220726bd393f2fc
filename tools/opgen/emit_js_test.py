"""The JavaScript emitter on a small hand-written schema: the generated ops.js loads and hands each call its op's
spec, aliases and MXNet namespaces point at the same functions, reserved words are renamed, JSDoc and the
TypeScript overloads follow the schema. Node.js runs the generated code (the test fails without it)."""

import json
import os
import shutil
import subprocess
import sys
import tempfile

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import emit_js  # noqa: E402  pylint: disable=wrong-import-position
import schema  # noqa: E402  pylint: disable=wrong-import-position
from schema_fixtures import op_entry, param_entry  # noqa: E402  pylint: disable=wrong-import-position


def _op(name, *args, **kwargs):
    # The doc carries "*/", which the emitter must not let end a JSDoc comment.
    return op_entry(name, *args, doc="Does %s; not */ a comment end." % name, **kwargs)


_param = param_entry


OPS = [
    _op("FullyConnected", ("data", "weight", "bias"),
        [_param("num_hidden", required=True), _param("no_bias", "boolean", "False")]),
    _op("add_n", ("args",), [_param("num_args", required=True)], aliases=["ElementWiseSum"], variadic="num_args"),
    _op("multi_sgd_update", ("weight", "grad"), [_param("num_weights", default="1")], variadic="num_weights",
        stride=2),
    _op("adam_update", ("weight", "grad", "mean", "var"), [_param("lr", "float", required=True)]),
    _op("_linalg_gemm2", ("A", "B"), aliases=["linalg_gemm2"]),
    _op("_random_uniform_like"),
    _op("_zeros", (), [_param("shape", "Shape(tuple)", "()"), _param("dtype", "dtype", "float32")]),
    _op("Activation", params=[_param("act_type", "enum", required=True, choices=["relu", "tanh"])]),
    _op("Dropout", outputs=("output", "mask"), params=[_param("p", "float", "0.5", nullable=True)]),
]

# Loads the generated ops.js with a stand-in invoke.js that returns what each call hands over.
_DRIVER = """
const ops = require('./ops');
const calls = {
  fc: ops.FullyConnected('x', 'w', {num_hidden: 3}),
  sum: ops.ElementWiseSum(['a', 'b']),
  adam: ops.adam_update('w', 'g', 'm', 'v', {lr: 0.1}),
};
const functions = Object.keys(ops).filter((k) => typeof ops[k] === 'function').sort();
console.log(JSON.stringify({
  calls, functions,
  aliasSame: ops.ElementWiseSum === ops.add_n,
  linalg: ops.linalg.gemm2 === ops._linalg_gemm2,
  random: ops.random.uniform_like === ops._random_uniform_like,
  internal: Object.keys(ops.internal).sort(),
  names: [ops.FullyConnected.name, ops.adam_update.length],
}));
"""

_STUB_INVOKE = "exports.callOp = (spec, args) => ({spec, args: Array.from(args)});\n"


@pytest.fixture(scope="module")
def files():
    return emit_js.emit(schema.parse(json.dumps({"schema_version": 1, "operators": OPS})))


def test_generated_js_runs_and_passes_each_op_its_spec(files):
    node = shutil.which("node")
    assert node, "node is needed to run the generated JavaScript"
    with tempfile.TemporaryDirectory() as folder:
        for name, text in [("ops.js", files["ops.js"]), ("invoke.js", _STUB_INVOKE), ("driver.js", _DRIVER)]:
            with open(os.path.join(folder, name), "w", encoding="utf-8") as f:
                f.write(text)
        result = subprocess.run([node, "driver.js"], cwd=folder, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    fc = out["calls"]["fc"]
    assert fc["spec"] == {"name": "FullyConnected", "inputs": ["data", "weight", "bias"], "variadicCount": "",
                          "variadicStride": 1, "outputs": 1}
    assert fc["args"] == ["x", "w", {"num_hidden": 3}]
    assert out["calls"]["sum"]["spec"]["name"] == "add_n"
    assert out["calls"]["sum"]["spec"]["variadicCount"] == "num_args"
    assert out["calls"]["adam"]["args"] == ["w", "g", "m", "v", {"lr": 0.1}]
    assert out["aliasSame"] and out["linalg"] and out["random"]
    assert "_zeros" in out["internal"] and "_linalg_gemm2" not in out["internal"]
    assert out["names"] == ["FullyConnected", 5]  # 4 inputs ('var' renamed) + params
    assert set(out["functions"]) == {name for op in OPS for name in [op["name"]] + op["aliases"]}


def test_reserved_words_are_renamed(files):
    assert "function adam_update(weight, grad, mean, var_, params)" in files["ops.js"]
    assert "var_: NDArray" in files["ops.d.ts"]


def test_jsdoc_follows_the_schema(files):
    js = files["ops.js"]
    assert "@param {number|string} params.num_hidden The num_hidden. (required)" in js
    assert "@param {boolean|string} [params.no_bias] The no_bias. (default False)" in js
    assert "@param {'relu'|'tanh'} params.act_type" in js
    assert "not *\\/ a comment end" in js and "not */ a comment" not in js
    assert "@returns {NDArray|NDArray[]}" in js  # Dropout: the mask may be visible
    assert js.startswith("// " + schema.GENERATED_NOTICE)


def test_typescript_overloads_and_params(files):
    ts = files["ops.d.ts"]
    assert "export function FullyConnected(data: NDArray, params: FullyConnectedParams): NDArray;" in ts
    assert ("export function FullyConnected(data: NDArray, weight: NDArray | null, bias: NDArray, "
            "params: FullyConnectedParams): NDArray;") in ts
    assert "  num_hidden: number | string;" in ts
    assert "  no_bias?: boolean | string;" in ts
    assert "  act_type: 'relu' | 'tanh';" in ts
    assert "  p?: number | string | null;" in ts
    assert "  shape?: number | ReadonlyArray<number | null> | string;" in ts
    assert "export function add_n(args: ReadonlyArray<NDArray>, params?: add_nParams): NDArray;" in ts
    assert "export function add_n(...args: NDArray[]): NDArray;" in ts
    assert "export function _zeros(params?: _zerosParams): NDArray;" in ts
    assert "export function Dropout(data: NDArray, params?: DropoutParams): NDArray | NDArray[];" in ts
    assert "export const ElementWiseSum: typeof add_n;" in ts
    assert "  export const gemm2: typeof self._linalg_gemm2;" in ts


def test_a_reserved_op_name_is_an_error():
    ops = schema.parse(json.dumps({"schema_version": 1, "operators": [_op("delete")]}))
    with pytest.raises(ValueError, match="reserved word"):
        emit_js.emit(ops)

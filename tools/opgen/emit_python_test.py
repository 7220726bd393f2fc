"""The schema loader and the Python emitter on a small hand-written schema: MXNet's placements, generated
signatures and docstrings, renamed arguments, variadic ops, stubs, and clear errors for bad schemas."""

import json
import os
import sys
import tempfile

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import emit_python  # noqa: E402  pylint: disable=wrong-import-position
import schema  # noqa: E402  pylint: disable=wrong-import-position
from schema_fixtures import op_entry, param_entry  # noqa: E402  pylint: disable=wrong-import-position


_op = op_entry
_param = param_entry


OPS = [
    _op("FullyConnected", ("data", "weight", "bias"),
        [_param("num_hidden", required=True), _param("no_bias", "boolean", "False")]),
    _op("Concat", ("data",), [_param("num_args", required=True), _param("dim", default="1")], aliases=["concat"],
        variadic="num_args"),
    _op("_contrib_thing", ()), _op("_linalg_gemm2", ("A", "B"), aliases=["linalg_gemm2"]),
    _op("_random_uniform", (), [_param("low", "float", "0")], aliases=["uniform"]),
    _op("_random_uniform_like"), _op("_sample_uniform", ("low", "high")), _op("_plus_scalar"),
    _op("_grad_helper", ("out", "label"), [_param("mode", "enum", "a", choices=["a", "b"])]),
]


def _schema_text(ops=OPS, version=1):
    return json.dumps({"schema_version": version, "operators": ops})


def test_placements_follow_mxnet():
    places = {p.name: (p.module, p.function) for p in schema.placements(schema.parse(_schema_text()))}
    assert places["FullyConnected"] == ("op", "FullyConnected")
    assert places["concat"] == ("op", "concat")
    assert places["_contrib_thing"] == ("contrib", "thing")
    assert places["_linalg_gemm2"] == ("linalg", "gemm2") and places["linalg_gemm2"] == ("op", "linalg_gemm2")
    assert places["_random_uniform"] == ("internal", "_random_uniform")
    assert places["_random_uniform_like"] == ("random", "uniform_like")
    assert places["_sample_uniform"] == ("internal", "_sample_uniform")
    assert places["uniform"] == ("op", "uniform")


def test_parameter_type_text():
    required = schema.Param("n", "int", True, "", False, "")
    optional = schema.Param("mode", "enum", False, "a", False, "", ("a", "b"))
    nullable = schema.Param("x", "float", False, "None", True, "")
    assert required.type_text() == "int, required"
    assert optional.type_text() == "{'a', 'b'}, optional, default='a'"
    assert nullable.type_text() == "float or None, optional, default=None"


def test_bad_schemas_are_clear_errors():
    with pytest.raises(ValueError, match="version"):
        schema.parse(_schema_text(version=99))
    with pytest.raises(ValueError, match="used by both"):
        schema.parse(_schema_text([_op("a"), _op("b", aliases=["a"])]))
    with pytest.raises(ValueError, match="share a name"):
        schema.parse(_schema_text([_op("a", ("x",), [_param("x")])]))
    with pytest.raises(ValueError, match="identifier"):
        schema.parse(_schema_text([_op("a-b")]))


def _emit():
    out = tempfile.mkdtemp()
    return emit_python.emit(schema.parse(_schema_text()), out), out


def test_generated_functions():
    files, out = _emit()
    assert sorted(files) == sorted("polymix/%s/_gen_%s.%s" % (front, module, ext)
                                   for front in ("ndarray", "symbol")
                                   for module in ("op", "internal", "contrib", "linalg", "random")
                                   for ext in ("py", "pyi"))
    for path, text in files.items():
        assert text.startswith("# " + schema.GENERATED_NOTICE)
        assert os.path.exists(os.path.join(out, path))
        if path.endswith(".py"):
            compile(text, path, "exec")
    nd = files["polymix/ndarray/_gen_op.py"]
    assert ("def FullyConnected(data=None, weight=None, bias=None, num_hidden=_Null, no_bias=_Null, out=None, "
            "name=None, **kwargs):") in nd
    assert "num_hidden : int, required" in nd and "no_bias : boolean, optional, default=False" in nd
    assert "def Concat(*data, **kwargs):" in nd and "_invoke_variadic('Concat', data, 'num_args', 1, kwargs)" in nd
    assert "def concat(*data, **kwargs):" in nd and "An alias of ``Concat``." in nd
    sym = files["polymix/symbol/_gen_op.py"]
    assert "_create('FullyConnected', 'fullyconnected', " in sym and "name=None, attr=None, out=None" in sym
    assert "_create_variadic('concat', 'concat', data, 'num_args', 1, kwargs)" in sym
    internal = files["polymix/ndarray/_gen_internal.py"]
    assert "def _grad_helper(out_=None, label=None, mode=_Null, out=None" in internal  # `out` input renamed.
    assert "out_ : NDArray" in internal
    assert "def uniform_like(" in files["polymix/ndarray/_gen_random.py"]
    assert "def thing(" in files["polymix/symbol/_gen_contrib.py"]
    stub = files["polymix/ndarray/_gen_internal.pyi"]
    assert "mode: Optional[Literal['a', 'b']] = ..." in stub


def test_main_writes_the_files():
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "schema.json")
        with open(path, "w") as f:
            f.write(_schema_text())
        assert emit_python.main(["--schema", path, "--out", folder]) == 0
        assert os.path.exists(os.path.join(folder, "polymix", "symbol", "_gen_linalg.pyi"))

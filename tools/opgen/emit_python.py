"""Writes Python's op functions from the operator schema: `emit_python --schema op_schema.json --out DIR`.

For each front end (polymix.ndarray, polymix.symbol) and each of MXNet's namespaces (schema.placement), one
module `polymix/<front end>/_gen_<namespace>.py` with a function per op name and alias, its docstring built
from the schema (parameters, types, defaults), plus a `.pyi` stub. The hand-written modules (op.py,
_internal.py, contrib.py, linalg.py, random.py) re-export them; the functions call the front end's
register.py, which turns Python values into MXNet's parameter strings. Run by the genrule in
bindings/python/BUILD; the output is never checked in.
"""

import argparse
import keyword
import os
import sys
import textwrap
from typing import Dict, List

import schema

# The namespaces every front end gets, and the module docstring of each.
MODULES = {
    "op": "the top-level operators (mx.{short}.<op>)",
    "internal": "the internal operators (mx.{short}._internal)",
    "contrib": "the contributed operators (mx.{short}.contrib)",
    "linalg": "the linear algebra operators (mx.{short}.linalg)",
    "random": "the *_like samplers of mx.{short}.random",
}

# Per front end: short name, the array type in docs, and the extra keyword arguments every function takes.
FRONT_ENDS = {
    "ndarray": {"short": "nd", "type": "NDArray", "extra": ["out", "name"]},
    "symbol": {"short": "sym", "type": "Symbol", "extra": ["name", "attr", "out"]},
}

# Stub types per schema parameter type.
_STUB_TYPES = {
    "int": "int",
    "float": "float",
    "boolean": "bool",
    "Shape(tuple)": "Union[int, Sequence[Optional[int]]]",
    "tuple of <float>": "Union[float, Sequence[float]]",
    "dtype": "Any",
    "string": "str",
}


def _python_name(name: str, reserved: List[str]) -> str:
    """The argument name of an input or parameter: its own, or with "_" appended where it would clash with a
    Python keyword or with the function's own arguments (an input called `out`)."""
    if keyword.iskeyword(name) or name in reserved or name == "kwargs":
        return name + "_"
    return name


def _doc_text(text: str) -> str:
    """Text safe inside a raw triple-quoted docstring."""
    text = text.replace('"""', "'''")
    return text.rstrip("\\")


def _wrap(text: str, indent: str) -> str:
    return textwrap.fill(_doc_text(text), width=100, initial_indent=indent, subsequent_indent=indent) or indent


def _docstring(place: schema.Placement, front: dict) -> str:
    """MXNet-style numpydoc: the op's doc, its parameters with types and defaults, and what it returns."""
    op, array = place.op, front["type"]
    lines = [_wrap(op.doc or "The %s operator." % op.name, "").strip(), ""]
    if place.name != op.name:
        lines += ["An alias of ``%s``." % op.name, ""]
    lines += ["Parameters", "----------"]
    if op.is_variadic:
        unit = " (groups of %d: %s)" % (op.variadic_stride, ", ".join(op.inputs)) if op.variadic_stride > 1 else ""
        lines += ["*%s : %s[]" % (op.inputs[0] if op.inputs else "data", array),
                  "    The inputs%s; %s defaults to their count." % (unit, op.variadic_count_param)]
    else:
        for name in op.inputs:
            role = "auxiliary state" if name in op.auxiliary_inputs else "input"
            lines += ["%s : %s" % (_python_name(name, front["extra"]), array), "    The %s `%s`." % (role, name)]
    for param in op.params:
        lines += ["%s : %s" % (_python_name(param.name, front["extra"]), param.type_text()),
                  _wrap(param.doc or param.name, "    ")]
    if front["short"] == "nd":
        lines += ["out : NDArray, optional", "    The output NDArray to hold the result."]
        returns = ["out : NDArray or list of NDArrays", "    The output of this function."]
    else:
        lines += ["name : string, optional", "    Name of the resulting symbol.",
                  "attr : dict of string to string, optional", "    Attributes of the resulting symbol."]
        returns = ["Symbol", "    The resulting symbol."]
    lines += ["", "Returns", "-------"] + returns
    text = "\n".join(lines)
    return "\n".join("    " + line if line else "" for line in text.split("\n")).lstrip()


def _function(place: schema.Placement, front: dict) -> str:
    """The source of one generated function."""
    op, extra = place.op, front["extra"]
    doc = _docstring(place, front)
    params = [(p.name, _python_name(p.name, extra)) for p in op.params]
    if op.is_variadic:
        data = _python_name(op.inputs[0] if op.inputs else "data", extra)
        call = ("_invoke_variadic(%r, %s, %r, %d, kwargs)" % (place.name, data, op.variadic_count_param,
                                                                op.variadic_stride)
                if front["short"] == "nd" else
                "_create_variadic(%r, %r, %s, %r, %d, kwargs)" % (place.name, place.function.lower(), data,
                                                                  op.variadic_count_param, op.variadic_stride))
        return 'def %s(*%s, **kwargs):\n    r"""%s\n    """\n    return %s\n' % (place.function, data, doc, call)
    inputs = [(name, _python_name(name, extra)) for name in op.inputs]
    signature = ["%s=None" % arg for _, arg in inputs] + ["%s=_Null" % arg for _, arg in params]
    param_pairs = "(%s)" % "".join('("%s", %s), ' % pair for pair in params)
    if front["short"] == "nd":
        signature += ["out=None", "name=None", "**kwargs"]
        input_tuple = "(%s)" % "".join("%s, " % arg for _, arg in inputs)
        call = "_invoke(%r, %s, %s, kwargs, out)" % (place.name, input_tuple, param_pairs)
    else:
        signature += ["name=None", "attr=None", "out=None", "**kwargs"]
        input_pairs = "(%s)" % "".join('("%s", %s), ' % pair for pair in inputs)
        call = "_create(%r, %r, %s, %s, kwargs, name, attr)" % (place.name, place.function.lower(), input_pairs,
                                                                param_pairs)
    return 'def %s(%s):\n    r"""%s\n    """\n    return %s\n' % (place.function, ", ".join(signature), doc, call)


def _stub_type(param: schema.Param) -> str:
    if param.type == "enum":
        base = "Literal[%s]" % ", ".join(repr(c) for c in param.choices) if param.choices else "str"
    else:
        base = _STUB_TYPES.get(param.type, "Any")
    if param.name == "ctx":
        base = "Any"
    return "Optional[%s]" % base if param.nullable or param.type == "enum" else base


def _stub(place: schema.Placement, front: dict) -> str:
    """The .pyi signature of one generated function."""
    op, extra, array = place.op, front["extra"], front["type"]
    result = array if len(op.outputs) == 1 else "Union[%s, List[%s]]" % (array, array)
    if op.is_variadic:
        data = _python_name(op.inputs[0] if op.inputs else "data", extra)
        return "def %s(*%s: %s, **kwargs: Any) -> %s: ...\n" % (place.function, data, array, result)
    inputs = ["%s: Optional[%s] = ..." % (_python_name(name, extra), array) for name in op.inputs]
    params = ["%s: %s = ..." % (_python_name(p.name, extra), _stub_type(p)) for p in op.params]
    if front["short"] == "nd":
        tail = ["out: Optional[Union[NDArray, List[NDArray]]] = ...", "name: Optional[str] = ...", "**kwargs: Any"]
    else:
        tail = ["name: Optional[str] = ...", "attr: Optional[Dict[str, str]] = ...", "out: Any = ...",
                "**kwargs: Any"]
    return "def %s(%s) -> %s: ...\n" % (place.function, ", ".join(inputs + params + tail), result)


def _module_header(front_name: str, module: str, stub: bool) -> str:
    front = FRONT_ENDS[front_name]
    what = MODULES[module].format(short=front["short"])
    lines = ["# " + schema.GENERATED_NOTICE, '"""Generated functions of %s."""' % what]
    if stub:
        lines += ["from typing import Any, Dict, List, Literal, Optional, Sequence, Union", ""]
        lines += ["from .ndarray import NDArray" if front_name == "ndarray" else "from .symbol import Symbol"]
    elif front_name == "ndarray":
        lines += ["from ..base import _Null", "from .register import _invoke, _invoke_variadic"]
    else:
        lines += ["from ..base import _Null", "from .register import _create, _create_variadic"]
    return "\n".join(lines) + "\n"


def emit(ops: List[schema.Op], out_dir: str) -> Dict[str, str]:
    """Writes every generated Python file under out_dir/polymix; returns {relative path: text}."""
    by_module: Dict[str, List[schema.Placement]] = {module: [] for module in MODULES}
    for place in schema.placements(ops):
        by_module[place.module].append(place)
    files = {}
    for front_name, front in FRONT_ENDS.items():
        for module, places in by_module.items():
            base = "polymix/%s/_gen_%s" % (front_name, module)
            names = [p.function for p in places]
            code = [_module_header(front_name, module, stub=False), "__all__ = %r\n" % names]
            code += ["\n" + _function(p, front) for p in places]
            files[base + ".py"] = "\n".join(code)
            stubs = [_module_header(front_name, module, stub=True), "__all__: List[str]\n"]
            stubs += [_stub(p, front) for p in places]
            files[base + ".pyi"] = "\n".join(stubs)
    for path, text in files.items():
        full = os.path.join(out_dir, path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "w", encoding="utf-8") as f:
            f.write(text)
    return files


def main(argv: List[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--schema", required=True, help="the JSON that dump_schema --dump-schema prints")
    parser.add_argument("--out", required=True, help="folder that receives polymix/<front end>/_gen_*.py(i)")
    args = parser.parse_args(argv)
    files = emit(schema.load(args.schema), args.out)
    for path, text in files.items():
        compile(text, path, "exec")  # A syntax error (stubs included) fails the build here, not at import.
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

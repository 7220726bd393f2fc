"""Writes the JavaScript op functions from the operator schema: `emit_js --schema op_schema.json --out DIR`.

Two files: `ops.js`, one named function per op with JSDoc built from the schema (inputs, typed parameters,
defaults), every alias and MXNet's namespaces (contrib, linalg, random, internal: schema.placement); and
`ops.d.ts`, their TypeScript declarations (a params interface per op, overloads for optional inputs). Each
function hands its `arguments` to lib/invoke.js's callOp, which turns JS values into MXNet's parameter
strings. Run by the genrule in bindings/js/BUILD; the output is never checked in.
"""

import argparse
import os
import sys
import textwrap
from typing import Dict, List

import schema

# Words a JS or TS parameter cannot be called (inputs only: parameters are object keys, which may be anything).
_RESERVED = set("""
    arguments await break case catch class const continue debugger default delete do else enum eval export extends
    false finally for function if implements import in instanceof interface let new null package private
    protected public return static super switch this throw true try typeof var void while with yield
""".split())

# TypeScript types per schema parameter type; every parameter also takes MXNet's own string spelling.
_TS_TYPES = {
    "int": "number",
    "float": "number",
    "boolean": "boolean",
    "Shape(tuple)": "number | ReadonlyArray<number | null>",
    "tuple of <float>": "number | ReadonlyArray<number>",
    "dtype": "DType",
    "string": "string",
}

# The JSDoc type of each TypeScript type above (JSDoc spells arrays Array<...>).
_JSDOC_TYPES = {
    "int": "number",
    "float": "number",
    "boolean": "boolean",
    "Shape(tuple)": "number|Array<?number>",
    "tuple of <float>": "number|Array<number>",
    "dtype": "string",
    "string": "string",
}


def _identifier(name: str) -> str:
    """`name` as a JS parameter name (reserved words get a trailing underscore)."""
    return name + "_" if name in _RESERVED else name


def _comment_text(text: str) -> str:
    """Text safe inside a /** ... */ block."""
    return text.replace("*/", "*\\/").strip()


def _wrap(text: str, prefix: str, width: int = 110) -> List[str]:
    """`text` wrapped into comment lines that start with `prefix`."""
    return textwrap.wrap(_comment_text(text), width=width, initial_indent=prefix,
                         subsequent_indent=prefix) or [prefix.rstrip()]


def _default_text(param: schema.Param) -> str:
    """The default as the docs show it (MXNet's spelling)."""
    return "required" if param.required else "default %s" % (param.default if param.default != "" else "''")


def _ts_type(param: schema.Param) -> str:
    """The TypeScript type of a parameter's value."""
    if param.type == "enum":
        base = " | ".join("'%s'" % c for c in param.choices) if param.choices else "string"
    else:
        base = _TS_TYPES.get(param.type, "string")
        if param.name == "ctx":
            base = "string | Device"
        if base not in ("string", "DType"):
            base += " | string"  # MXNet's own spelling ("(2, 3)", "True", "1e-5") passes through unchanged.
    return base + " | null" if param.nullable else base


def _jsdoc_type(param: schema.Param) -> str:
    if param.type == "enum":
        return "|".join("'%s'" % c for c in param.choices) if param.choices else "string"
    base = _JSDOC_TYPES.get(param.type, "string")
    return base if base == "string" else base + "|string"


def _returns(op: schema.Op) -> str:
    """The result type: one NDArray, or several (how many is decided by the parameters, e.g. Dropout's mask)."""
    return "NDArray" if len(op.outputs) == 1 else "NDArray | NDArray[]"


def _input_doc(op: schema.Op, name: str) -> str:
    return "The auxiliary state `%s` (updated in place in training mode)." % name if name in op.auxiliary_inputs \
        else "The input `%s`." % name


def _variadic_unit(op: schema.Op) -> str:
    if op.variadic_stride > 1:
        return " in groups of %d (%s)" % (op.variadic_stride, ", ".join(op.inputs))
    return ""


def _summary(op: schema.Op) -> List[str]:
    return _wrap(op.doc or "The %s operator." % op.name, " * ")


def _jsdoc(op: schema.Op) -> List[str]:
    """The JSDoc block of an op's function."""
    lines = ["/**"] + _summary(op) + [" *"]
    if op.is_variadic:
        name = _identifier(op.inputs[0]) if op.inputs else "data"
        lines.append(" * @param {...(NDArray|NDArray[])} %s The inputs%s; `%s` defaults to their count."
                     % (name, _variadic_unit(op), op.variadic_count_param))
    else:
        for index, name in enumerate(op.inputs):
            shown = _identifier(name) if index == 0 else "[%s]" % _identifier(name)
            lines.append(" * @param {NDArray} %s %s" % (shown, _input_doc(op, name)))
    required = any(p.required for p in op.params if p.name != op.variadic_count_param)
    lines.append(" * @param {Object} %s Parameters (MXNet's names; values may also be MXNet's strings)."
                 % ("params" if required else "[params]"))
    for param in op.params:
        shown = "params.%s" % param.name
        if not param.required or param.name == op.variadic_count_param:
            shown = "[%s]" % shown
        lines += _wrap("@param {%s} %s %s (%s)" % (_jsdoc_type(param), shown, param.doc or param.name,
                                                   _default_text(param)), " * ")
    lines.append(" * @param {NDArray|NDArray[]} [params.out] Arrays to write the results into (MXNet's out=).")
    lines.append(" * @returns {%s}" % ("NDArray" if len(op.outputs) == 1 else "NDArray|NDArray[]"))
    lines.append(" */")
    return lines


def _js_function(op: schema.Op) -> str:
    """The source of one op's function."""
    if op.is_variadic:
        arguments = ["%s" % (_identifier(op.inputs[0]) if op.inputs else "data")]
    else:
        arguments = [_identifier(name) for name in op.inputs]
    spec = "{name: '%s', inputs: [%s], variadicCount: '%s', variadicStride: %d, outputs: %d}" % (
        op.name, ", ".join("'%s'" % name for name in op.inputs), op.variadic_count_param, op.variadic_stride,
        len(op.outputs))
    body = ["function %s(%s) {" % (op.name, ", ".join(arguments + ["params"])),
            "  return callOp(%s.op, arguments);" % op.name,
            "}",
            "%s.op = Object.freeze(%s);" % (op.name, spec)]
    return "\n".join(_jsdoc(op) + body) + "\n"


def _params_interface(op: schema.Op) -> str:
    """The TypeScript interface of an op's parameters."""
    lines = ["/** Parameters of {@link %s}. */" % op.name, "export interface %sParams extends OpOptions {" % op.name]
    for param in op.params:
        optional = "?" if not param.required or param.name == op.variadic_count_param else ""
        lines += _wrap("%s (%s)" % (param.doc or param.name, _default_text(param)), "  /** ", width=106)
        lines[-1] += " */"
        lines.append("  %s%s: %s;" % (param.name, optional, _ts_type(param)))
    lines.append("}")
    return "\n".join(lines) + "\n"


def _ts_declarations(op: schema.Op) -> str:
    """The TypeScript overloads of one op's function."""
    returns = _returns(op)
    required = any(p.required for p in op.params if p.name != op.variadic_count_param)
    params = "params: %sParams" % op.name if required else "params?: %sParams" % op.name
    doc = ["/**"] + _summary(op) + [" */"]
    if op.is_variadic:
        name = _identifier(op.inputs[0]) if op.inputs else "data"
        overloads = ["%s: ReadonlyArray<NDArray>, %s" % (name, params)]
        if not required:
            overloads.append("...%s: NDArray[]" % name)
    elif not op.inputs:
        overloads = [params]
    else:
        # Inputs after the first may be left out (FullyConnected without bias), so one overload per count.
        overloads = []
        for count in range(1, len(op.inputs) + 1):
            inputs = ["%s: NDArray%s" % (_identifier(name), " | null" if 0 < index < count - 1 else "")
                      for index, name in enumerate(op.inputs[:count])]
            overloads.append(", ".join(inputs + [params]))
    lines = []
    for signature in overloads:
        lines += doc + ["export function %s(%s): %s;" % (op.name, signature, returns)]
    return "\n".join(lines) + "\n"


_JS_HEADER = """// %s
'use strict';
/**
 * Every operator of the registry as a function: polymix.ops.<name> for each name and alias, and MXNet's
 * namespaces (ops.contrib, ops.linalg, ops.random, ops.internal). Inputs are NDArrays, then one object of
 * parameters with MXNet's names; see docs/javascript.md ("Operators").
 */
const { callOp } = require('./invoke');
"""

_TS_HEADER = """// %s
// TypeScript declarations of lib/ops.js (see its header).
import { NDArray, DType, Device } from '../index';
import * as self from './ops';

/** What every operator takes besides its parameters. */
export interface OpOptions {
  /** Arrays to write the results into (MXNet's out=); they must have the inferred shapes and dtypes. */
  out?: NDArray | NDArray[];
}
"""


def emit(ops: List[schema.Op]) -> Dict[str, str]:
    """The generated files: {"ops.js": text, "ops.d.ts": text}."""
    ops = sorted(ops, key=lambda op: op.name)
    for op in ops:
        for name in op.names:
            if name in _RESERVED:
                raise ValueError("op name %r is a reserved word in JavaScript" % name)
    places = schema.placements(ops)
    js = [_JS_HEADER % schema.GENERATED_NOTICE]
    ts = [_TS_HEADER % schema.GENERATED_NOTICE]
    for op in ops:
        js.append(_js_function(op))
        ts.append(_params_interface(op))
        ts.append(_ts_declarations(op))
    aliases = [(alias, op) for op in ops for alias in op.aliases]
    js.append("// Every name and alias, then MXNet's namespaces.")
    js.append("const ops = {")
    js += ["  %s," % op.name for op in ops]
    js += ["  %s: %s,  // alias" % (alias, op.name) for alias, op in sorted(aliases, key=lambda a: a[0])]
    js.append("};")
    ts.append("// Aliases: the same functions under MXNet's other names.")
    for alias, op in sorted(aliases, key=lambda a: a[0]):
        ts.append("/** An alias of {@link %s}. */\nexport const %s: typeof %s;" % (op.name, alias, op.name))
    for module in ("contrib", "linalg", "random", "internal"):
        members = [p for p in places if p.module == module]
        js.append("ops.%s = {" % module)
        js += ["  %s: %s," % (p.function, p.op.name) for p in members]
        js.append("};")
        ts.append("/** MXNet's %s namespace (mx.nd.%s). */\nexport namespace %s {" % (module, module, module))
        ts += ["  export const %s: typeof self.%s;" % (p.function, p.op.name) for p in members]
        ts.append("}")
    js.append("module.exports = ops;\n")
    return {"ops.js": "\n".join(js), "ops.d.ts": "\n".join(ts) + "\n"}


def main(argv: List[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--schema", required=True, help="the JSON that dump_schema --dump-schema prints")
    parser.add_argument("--out", required=True, help="folder that receives ops.js and ops.d.ts")
    args = parser.parse_args(argv)
    for name, text in emit(schema.load(args.schema)).items():
        with open(os.path.join(args.out, name), "w", encoding="utf-8") as f:
            f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

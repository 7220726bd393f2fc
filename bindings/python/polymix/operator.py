"""mx.operator: the operator registry as Python sees it (custom operators come later)."""

from . import _core

__all__ = ["get_all_registered_operators", "get_operator_schema"]


def get_all_registered_operators():
    """Every registered operator name and alias (each is a function of mx.nd and mx.sym)."""
    return list(_core.op_names())


def get_operator_schema():
    """The operator registry as JSON text: names, docs, inputs, outputs and typed parameters."""
    return _core.schema_json()

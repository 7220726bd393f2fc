"""Hand-written operator-schema entries for the emitters' tests (the JSON form //tools/opgen:op_schema has)."""


def op_entry(name, inputs=("data",), params=(), aliases=(), variadic="", stride=1, outputs=("output",), doc=None):
    """One operator's schema entry; `doc` defaults to "Does <name>."."""
    return {"name": name, "aliases": list(aliases), "family": "test", "doc": doc or "Does %s." % name,
            "inputs": list(inputs), "variadic_count_param": variadic, "variadic_stride": stride,
            "auxiliary_inputs": [], "outputs": list(outputs), "params": list(params), "differentiable": True,
            "needs_rng": False}


def param_entry(name, type_="int", default="", required=False, nullable=False, choices=None):
    """One parameter's schema entry."""
    entry = {"name": name, "type": type_, "required": required, "default": default, "nullable": nullable,
             "doc": "The %s." % name}
    if choices:
        entry["choices"] = choices
    return entry

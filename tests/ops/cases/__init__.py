"""The NumPy oracle table: one entry per registered operator (canonical name), one module per family.

Each Case says how to make inputs, what NumPy computes for them, which dtypes to try, and whether the
op's composed gradient is checked against central finite differences. test_ops.py fails for any
registered operator without an entry, so a new op cannot skip testing. Add a family by adding a module
here that defines CASES; it is picked up automatically.
"""

import importlib
import pkgutil

CASES = {}
for _module_info in pkgutil.iter_modules(__path__):
    if _module_info.name == "common":
        continue
    _module = importlib.import_module(__name__ + "." + _module_info.name)
    for _name, _case in _module.CASES.items():
        if _name in CASES:
            raise RuntimeError(f"operator {_name} has oracle entries in two modules")
        CASES[_name] = _case

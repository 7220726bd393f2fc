"""The golden corpus through the C ABI (ctypes): the checked-in corpus still matches the core, and covers enough
operators. Bindings run the same corpus with their own test runners."""

import json
import os

import numpy as np
import pytest

import pmx_ctypes as pmx
from golden_format import FORMAT, close_enough, decode_array

with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus.json")) as _file:
    CORPUS = json.load(_file)
CASES = {case["id"]: case for case in CORPUS["cases"]}


def test_format_and_coverage():
    assert CORPUS["format"] == FORMAT
    assert len({case["op"] for case in CORPUS["cases"]}) >= 150


@pytest.mark.parametrize("case_id", sorted(CASES))
def test_core_reproduces_the_corpus(case_id):
    case = CASES[case_id]
    outputs = pmx.invoke(case["op"], [decode_array(x) for x in case["inputs"]], **case["params"])
    assert len(outputs) == len(case["outputs"]), "%s: %d outputs, corpus has %d (regenerate: bazel run " \
        "//tests/golden:generate)" % (case_id, len(outputs), len(case["outputs"]))
    for index, (got, entry) in enumerate(zip(outputs, case["outputs"])):
        want = decode_array(entry)
        assert close_enough(got, want, case["rtol"], case["atol"]), (
            "%s output %d differs from the corpus (max |diff| %s): a core change, or regenerate with "
            "bazel run //tests/golden:generate" % (case_id, index,
                                                   np.max(np.abs(got.astype(np.float64) - want.astype(np.float64)))
                                                   if got.shape == want.shape else "shape %s vs %s" % (got.shape,
                                                                                                     want.shape)))

"""The cross-language golden corpus (tests/golden/corpus.json) through the Python package's generated op
functions: every case's outputs match what the core produced, within the case's tolerances."""

import json
import os
import sys

import numpy as np
import pytest

GOLDEN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "golden")
sys.path.insert(0, GOLDEN)

import ops_shim  # noqa: E402  (the op-name -> generated mx.nd function lookup)
from golden_format import close_enough, decode_array  # noqa: E402

with open(os.path.join(GOLDEN, "corpus.json")) as _file:
    CASES = {case["id"]: case for case in json.load(_file)["cases"]}


def test_the_corpus_is_there():
    assert len({case["op"] for case in CASES.values()}) >= 150


@pytest.mark.parametrize("case_id", sorted(CASES))
def test_case(case_id):
    case = CASES[case_id]
    outputs = ops_shim.invoke(case["op"], [decode_array(x) for x in case["inputs"]], **case["params"])
    assert len(outputs) == len(case["outputs"])
    for index, (got, entry) in enumerate(zip(outputs, case["outputs"])):
        want = decode_array(entry)
        assert close_enough(np.asarray(got), want, case["rtol"], case["atol"]), (
            "%s output %d: got %s, corpus has %s" % (case_id, index, got, want))

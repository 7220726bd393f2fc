"""Fixtures of the MXNet compatibility suite: the real MXNet 1.9.1 (from PyPI, in its own virtualenv made by
tools/setup) and libpolymix.so (POLYMIX_LIBRARY, set by tools/test_all)."""
import os

import pytest

from polymix_symbol import Library


@pytest.fixture(scope="session")
def mx():
    import mxnet
    assert mxnet.__version__ == "1.9.1", "expected MXNet 1.9.1, found %s" % mxnet.__version__
    return mxnet


@pytest.fixture(scope="session")
def pmx():
    path = os.environ.get("POLYMIX_LIBRARY")
    assert path and os.path.exists(path), "set POLYMIX_LIBRARY to a built libpolymix.so (tools/test_all does)"
    return Library(path)

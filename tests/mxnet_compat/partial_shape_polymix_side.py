"""Polymix's half of test_partial_shape_compat.py, run with the project's interpreter and the built polymix package:
`partial_shape_polymix_side.py WORKDIR`. Loads MXNet's export WORKDIR/mxnet_net-symbol.json (whose begin states are
_zeros nodes with a 0 batch dimension and whose Dense weight has __shape__ (3, 0)) with gluon.SymbolBlock.imports,
runs it hybridized on every input of WORKDIR/inputs.npz and writes the outputs to WORKDIR/polymix_outputs.npz."""
import os
import sys

import numpy as np

import polymix as mx


def main(workdir):
    inputs = dict(np.load(os.path.join(workdir, "inputs.npz")))
    block = mx.gluon.SymbolBlock.imports(os.path.join(workdir, "mxnet_net-symbol.json"), ["data"],
                                         os.path.join(workdir, "mxnet_net-0000.params"))
    block.hybridize()
    # Two batch sizes: the zero states must follow each call's batch, not the exported one.
    results = {name: block(mx.nd.array(value)).asnumpy() for name, value in inputs.items()}
    np.savez(os.path.join(workdir, "polymix_outputs.npz"), **results)


if __name__ == "__main__":
    main(sys.argv[1])

"""HybridBlock: hybridized (traced into a Symbol, run as one mx.nd.CachedOp) against imperative execution for an
MLP and a CNN with BatchNorm and Dropout, in training and prediction; deferred initialization through the trace;
export in MXNet's format and SymbolBlock.imports round trips."""

import json

import numpy as np
import pytest

import polymix as mx
from polymix import autograd, gluon
from polymix.gluon import nn

RNG = np.random.default_rng(23)


def _mlp():
    net = nn.HybridSequential()
    with net.name_scope():
        net.add(nn.Dense(16, activation="relu"), nn.Dense(8, activation="tanh"), nn.Dense(3))
    return net


def _cnn(dropout=0.5):
    net = nn.HybridSequential()
    with net.name_scope():
        net.add(nn.Conv2D(6, 3, padding=1), nn.BatchNorm(), nn.Activation("relu"), nn.MaxPool2D(),
                nn.Conv2D(4, 3), nn.BatchNorm(), nn.Activation("relu"), nn.Flatten(), nn.Dropout(dropout),
                nn.Dense(5))
    return net


def _twins(build, x):
    """Two copies of one network with equal parameters (the second loads the first's file)."""
    first, second = build(), build()
    first.initialize(mx.init.Xavier())
    first(x)
    second.initialize()
    second(x)
    for (_, a), (_, b) in zip(sorted(first._collect_params_with_prefix().items()),
                              sorted(second._collect_params_with_prefix().items())):
        b.set_data(a.data())
    return first, second


def _step(net, x, label):
    """Output, loss and parameter gradients of one recorded forward/backward."""
    loss_fn = gluon.loss.SoftmaxCrossEntropyLoss()
    with autograd.record():
        out = net(x)
        loss = loss_fn(out, label)
    loss.backward()
    grads = {name: p.grad().asnumpy() for name, p in net._collect_params_with_prefix().items() if p.grad_req != "null"}
    return out.asnumpy(), loss.asnumpy(), grads


def _assert_same_steps(imperative, hybrid, x, label, rtol=1e-5, atol=1e-6):
    out_a, loss_a, grads_a = _step(imperative, x, label)
    out_b, loss_b, grads_b = _step(hybrid, x, label)
    np.testing.assert_allclose(out_b, out_a, rtol=rtol, atol=atol)
    np.testing.assert_allclose(loss_b, loss_a, rtol=rtol, atol=atol)
    assert sorted(grads_a) == sorted(grads_b)
    for name in grads_a:
        np.testing.assert_allclose(grads_b[name], grads_a[name], rtol=rtol, atol=atol, err_msg=name)


def test_hybridized_mlp_matches_imperative_outputs_and_gradients():
    x = mx.nd.array(RNG.normal(size=(7, 10)))
    label = mx.nd.array(RNG.integers(0, 3, size=7))
    imperative, hybrid = _twins(_mlp, x)
    hybrid.hybridize()
    for _ in range(2):  # The second call reuses the cached graph.
        _assert_same_steps(imperative, hybrid, x, label)
    assert hybrid._cached_op is not None
    np.testing.assert_allclose(hybrid(x).asnumpy(), imperative(x).asnumpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("flags", [{}, {"static_alloc": True, "static_shape": True}])
def test_hybridized_cnn_with_batch_norm_matches_in_training_and_prediction(flags):
    x = mx.nd.array(RNG.normal(size=(4, 2, 8, 8)))
    label = mx.nd.array(RNG.integers(0, 5, size=4))
    imperative, hybrid = _twins(lambda: _cnn(dropout=0.0), x)
    hybrid.hybridize(**flags)
    for _ in range(2):
        _assert_same_steps(imperative, hybrid, x, label, rtol=1e-4, atol=1e-5)
    # Training mode updated BatchNorm's running statistics in both the same way.
    for (name, a), (_, b) in zip(sorted(imperative._collect_params_with_prefix().items()),
                                 sorted(hybrid._collect_params_with_prefix().items())):
        np.testing.assert_allclose(b.data().asnumpy(), a.data().asnumpy(), rtol=1e-4, atol=1e-6, err_msg=name)
    assert np.abs(imperative[1].running_mean.data().asnumpy()).sum() > 0
    np.testing.assert_allclose(hybrid(x).asnumpy(), imperative(x).asnumpy(), rtol=1e-4, atol=1e-5)


def test_hybridized_dropout_drops_in_training_only():
    net = _cnn(dropout=0.5)
    net.initialize()
    net.hybridize()
    x = mx.nd.array(RNG.normal(size=(4, 2, 8, 8)))
    predict = [net(x).asnumpy() for _ in range(2)]
    np.testing.assert_array_equal(predict[0], predict[1])
    with autograd.record():
        trained = [net(x).asnumpy() for _ in range(2)]
    assert np.abs(trained[0] - trained[1]).max() > 0


def test_deferred_shapes_are_inferred_through_the_trace():
    net = _cnn()
    net.initialize()
    net.hybridize()
    assert net(mx.nd.ones((2, 3, 10, 10))).shape == (2, 5)
    assert net[0].weight.shape == (6, 3, 3, 3)
    assert net[1].gamma.shape == (6,)
    assert net[9].weight.shape == (5, 4 * 3 * 3)


def test_a_hybrid_block_with_several_inputs_and_outputs():
    class Pair(gluon.HybridBlock):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            with self.name_scope():
                self.dense = nn.Dense(3)

        def hybrid_forward(self, F, a, b):
            hidden = self.dense(a)
            return F.broadcast_add(hidden, b), [F.relu(hidden), b * 2]

    block = Pair()
    block.initialize()
    a = mx.nd.array(RNG.normal(size=(2, 4)))
    b = mx.nd.array(RNG.normal(size=(2, 3)))
    expected = block(a, b)
    block.hybridize()
    got = block(a, b)
    assert isinstance(got, tuple) or isinstance(got, list)
    np.testing.assert_allclose(got[0].asnumpy(), expected[0].asnumpy(), rtol=1e-6)
    np.testing.assert_allclose(got[1][0].asnumpy(), expected[1][0].asnumpy(), rtol=1e-6)
    np.testing.assert_allclose(got[1][1].asnumpy(), expected[1][1].asnumpy(), rtol=1e-6)
    assert block._cached_graph[1].list_inputs()[:1] == ["data0"]


def test_symbol_forward_builds_the_graph_with_mxnet_names():
    net = nn.HybridSequential(prefix="net_")
    with net.name_scope():
        net.add(nn.Dense(4, activation="relu"), nn.Flatten())
    out = net(mx.sym.var("data"))
    assert out.list_arguments() == ["data", "net_dense0_weight", "net_dense0_bias"]
    names = [node["name"] for node in json.loads(out.tojson())["nodes"]]
    assert names == ["data", "net_dense0_weight", "net_dense0_bias", "net_dense0_fwd", "net_dense0_relu_fwd",
                     "net_flatten0_flatten0"]


def test_export_writes_mxnet_files_and_imports_round_trip(tmp_path):
    net = _cnn()
    net.initialize(mx.init.Xavier())
    x = mx.nd.array(RNG.normal(size=(3, 2, 8, 8)))
    with pytest.raises(RuntimeError, match="hybridize"):
        net.export(str(tmp_path / "early"))
    net.hybridize()
    with autograd.record():  # Moves BatchNorm's running statistics away from their initial values.
        net(x)
    expected = net(x).asnumpy()
    prefix = str(tmp_path / "model")
    symbol_file, params_file = net.export(prefix, epoch=7)
    assert symbol_file == prefix + "-symbol.json" and params_file == prefix + "-0007.params"
    graph = json.load(open(symbol_file))
    assert graph["nodes"][0]["name"] == "data"
    saved = mx.nd.load(params_file)
    arguments = [name for name in net.collect_params() if "running" not in name]
    auxiliary = [name for name in net.collect_params() if "running" in name]
    assert sorted(saved) == sorted(["arg:" + name for name in arguments] + ["aux:" + name for name in auxiliary])
    for name, param in net.collect_params().items():
        key = ("aux:" if "running" in name else "arg:") + name
        np.testing.assert_array_equal(saved[key].asnumpy(), param.data().asnumpy())

    imported = gluon.SymbolBlock.imports(symbol_file, ["data"], params_file, ctx=mx.cpu())
    np.testing.assert_allclose(imported(x).asnumpy(), expected, rtol=1e-5, atol=1e-6)
    assert sorted(imported.collect_params().keys()) == sorted(net.collect_params().keys())
    assert imported.collect_params()[auxiliary[0]].grad_req == "null"
    imported.hybridize()
    np.testing.assert_allclose(imported(x).asnumpy(), expected, rtol=1e-5, atol=1e-6)


def test_symbol_block_trains_and_shares_parameters(tmp_path):
    data = mx.sym.var("data")
    hidden = mx.sym.Activation(mx.sym.FullyConnected(data, num_hidden=4, name="fc1"), act_type="relu")
    out = mx.sym.FullyConnected(hidden, num_hidden=2, name="fc2")
    block = gluon.SymbolBlock(out, data)
    assert sorted(block.collect_params().keys()) == ["fc1_bias", "fc1_weight", "fc2_bias", "fc2_weight"]
    block.initialize()
    x = mx.nd.array(RNG.normal(size=(5, 3)))
    assert block(x).shape == (5, 2)
    assert block.collect_params()["fc1_weight"].shape == (4, 3)
    with autograd.record():
        loss = block(x).sum()
    loss.backward()
    assert np.abs(block.collect_params()["fc2_weight"].grad().asnumpy()).sum() > 0
    internals = out.get_internals()
    features = gluon.SymbolBlock(internals["fc1_output"], data, params=block.collect_params())
    assert features.collect_params()["fc1_weight"] is block.collect_params()["fc1_weight"]
    weight = block.collect_params()["fc1_weight"].data().asnumpy()
    bias = block.collect_params()["fc1_bias"].data().asnumpy()
    np.testing.assert_allclose(features(x).asnumpy(), x.asnumpy() @ weight.T + bias, rtol=1e-5, atol=1e-6)


def test_hybridized_losses_match_imperative():
    pred = mx.nd.array(RNG.normal(size=(4, 6)))
    label = mx.nd.array(RNG.integers(0, 6, size=4))
    for loss in (gluon.loss.SoftmaxCrossEntropyLoss(), gluon.loss.L2Loss(), gluon.loss.HuberLoss()):
        target = label if isinstance(loss, gluon.loss.SoftmaxCrossEntropyLoss) else pred * 0.5
        expected = loss(pred, target).asnumpy()
        loss.hybridize()
        np.testing.assert_allclose(loss(pred, target).asnumpy(), expected, rtol=1e-6)
    # An omitted optional input (None) between given ones, as MXNet 1.9 allows.
    bce = gluon.loss.SigmoidBCELoss()
    probabilities = mx.nd.array(RNG.uniform(size=(4, 6)))
    pos_weight = mx.nd.array(RNG.uniform(1, 2, size=(1, 6)))
    expected = bce(pred, probabilities, None, pos_weight).asnumpy()
    bce.hybridize()
    np.testing.assert_allclose(bce(pred, probabilities, None, pos_weight).asnumpy(), expected, rtol=1e-6)
    assert bce._cached_graph[1].list_inputs()[:2] == ["data0", "data1"]

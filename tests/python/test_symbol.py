"""mx.sym: composition through the generated functions, listing, inference, attributes, indexing, arithmetic
and MXNet's symbol JSON (including a file written by the real MXNet 1.9.1, testdata/)."""

import json
import os
import pickle
import warnings

import numpy as np
import pytest

import polymix as mx

TESTDATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "testdata")
MLP_JSON = os.path.join(TESTDATA, "mlp-mxnet-1.9.1-symbol.json")


def _mlp():
    data = mx.sym.var("data")
    net = mx.sym.FullyConnected(data, num_hidden=16, name="fc1")
    net = mx.sym.BatchNorm(net, name="bn1")
    net = mx.sym.Activation(net, act_type="relu", name="relu1")
    net = mx.sym.FullyConnected(net, num_hidden=4, name="fc2")
    return mx.sym.SoftmaxOutput(net, name="softmax")


def test_listing_matches_mxnet():
    net = _mlp()
    # What MXNet 1.9.1 lists for the same network.
    assert net.list_arguments() == ["data", "fc1_weight", "fc1_bias", "bn1_gamma", "bn1_beta", "fc2_weight",
                                    "fc2_bias", "softmax_label"]
    assert net.list_outputs() == ["softmax_output"]
    assert net.list_auxiliary_states() == ["bn1_moving_mean", "bn1_moving_var"]
    assert net.get_internals().list_outputs() == [
        "data", "fc1_weight", "fc1_bias", "fc1_output", "bn1_gamma", "bn1_beta", "bn1_moving_mean",
        "bn1_moving_var", "bn1_output", "relu1_output", "fc2_weight", "fc2_bias", "fc2_output", "softmax_label",
        "softmax_output"]
    assert net.name == "softmax" and repr(net) == "<Symbol softmax>"


def test_json_is_mxnets_and_round_trips(tmp_path):
    net = _mlp()
    with open(MLP_JSON) as f:
        mxnet_json = f.read()
    assert json.loads(net.tojson()) == json.loads(mxnet_json)
    loaded = mx.sym.load(MLP_JSON)
    assert loaded.tojson() == net.tojson()
    path = str(tmp_path / "net-symbol.json")
    net.save(path)
    assert mx.sym.load(path).list_arguments() == net.list_arguments()
    again = mx.sym.load_json(net.tojson())
    assert again.tojson() == net.tojson()
    assert pickle.loads(pickle.dumps(net)).tojson() == net.tojson()


def test_infer_shape_and_type():
    net = _mlp()
    args, outs, aux = net.infer_shape(data=(8, 10))
    assert args == [(8, 10), (16, 10), (16,), (16,), (16,), (4, 16), (4,), (8,)]
    assert outs == [(8, 4)] and aux == [(16,), (16,)]
    assert net.infer_shape((8, 10)) == (args, outs, aux)  # Positional, in list_arguments order.
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        assert net.infer_shape() == (None, None, None)
    partial_args, partial_outs, _ = net.infer_shape_partial()
    assert partial_args[0] == () and partial_args[2] == (16,) and partial_outs == [()]
    types = net.infer_type(data=np.float64)
    assert types[0] == [np.float64] * 8 and types[1] == [np.float64] and types[2] == [np.float64] * 2
    assert net.infer_type_partial()[0][0] is None
    with pytest.raises(ValueError):
        net.infer_shape(data=(8, 10), fc1_weight=(3, 3))


def test_attributes_and_variables():
    v = mx.sym.var("v", shape=(2, 3), dtype="float16", lr_mult=2.0, wd_mult=0.5, init="zeros", __layout__="NC")
    assert v.attr("__shape__") == "(2, 3)" and v.attr("__dtype__") == "2"  # MXNet stores the type flag.
    assert v.attr("__lr_mult__") == "2.0" and v.attr("__init__") == "zeros" and v.attr("__layout__") == "NC"
    assert v.attr("missing") is None
    with pytest.raises(ValueError):
        mx.sym.var("w", bad_attr=1)
    fc = mx.sym.FullyConnected(v, num_hidden=3, no_bias=True, name="fc")
    assert fc.list_arguments() == ["v", "fc_weight"]  # no_bias: no bias input.
    assert fc.attr("num_hidden") == "3" and fc.list_attr()["no_bias"] == "True"
    fc._set_attr(__mood__="good")
    assert fc.attr_dict()["fc"]["__mood__"] == "good"
    with mx.AttrScope(ctx_group="dev1"):
        scoped = mx.sym.relu(v, name="r")
    assert scoped.attr("__ctx_group__") == "dev1" or scoped.attr("ctx_group") == "dev1"
    assert mx.sym.Variable is mx.sym.var


def test_automatic_names_follow_mxnet():
    x, y = mx.sym.var("x"), mx.sym.var("y")
    with mx.name.NameManager():
        assert mx.sym.FullyConnected(x, num_hidden=2).name == "fullyconnected0"
        assert mx.sym.FullyConnected(x, num_hidden=2).name == "fullyconnected1"
        assert (x + 1).name == "_plusscalar0" and (x + y).name == "_plus0" and (2 - x).name == "_rminusscalar0"
        assert (x * y).name == "_mul0" and (x ** 2).name == "_powerscalar0" and (-x).name == "_mulscalar0"
    with mx.name.Prefix("net_"):
        assert mx.sym.relu(x, name="act").name == "net_act"
    # An inner manager counts on its own; the outer one's counters carry on after it, as in MXNet.
    with mx.name.NameManager():
        assert mx.sym.relu(x).name == "relu0"
        with mx.name.NameManager():
            assert mx.sym.relu(x).name == "relu0"
        assert mx.sym.relu(x).name == "relu1"
    node = json.loads((x + 1).tojson())["nodes"][1]
    assert node["op"] == "_plus_scalar" and node["attrs"] == {"scalar": "1"}
    assert json.loads((x + y).tojson())["nodes"][2]["op"] == "elemwise_add"


def test_group_indexing_and_composition():
    a, b = mx.sym.var("a"), mx.sym.var("b")
    concat = mx.sym.Concat(a, b, dim=0, name="cat")
    assert concat.list_arguments() == ["a", "b"] and json.loads(concat.tojson())["nodes"][2]["attrs"] == {
        "dim": "0", "num_args": "2"}
    split = mx.sym.split(a, num_outputs=3, name="s")
    assert len(split) == 3 and split.list_outputs() == ["s_output0", "s_output1", "s_output2"]
    assert split[1].list_outputs() == ["s_output1"] and split["s_output2"].list_outputs() == ["s_output2"]
    assert [s.list_outputs()[0] for s in split] == split.list_outputs()
    group = mx.sym.Group([concat, split[0]])
    assert group.list_outputs() == ["cat_output", "s_output0"] and group.name is None
    assert repr(group) == "<Symbol group [cat, s]>"
    with pytest.raises(IndexError):
        split[5]
    named = mx.sym.FullyConnected(data=a, weight=b, num_hidden=2, name="fc")
    assert named.list_arguments() == ["a", "b", "fc_bias"]
    kw = mx.sym.elemwise_add(lhs=a, rhs=b)
    assert kw.list_arguments() == ["a", "b"]
    assert mx.sym.linalg.gemm2(a, b).list_arguments() == ["a", "b"]
    assert (a.sum(axis=1).exp() + 1).list_arguments() == ["a"]
    assert mx.sym.random.uniform(0, 1, shape=(2,)).infer_shape()[1] == [(2,)]
    samples = mx.sym.random.normal(a, b, shape=(3,))
    assert json.loads(samples.tojson())["nodes"][-1]["op"] == "_sample_normal"
    assert mx.sym.zeros((2, 3)).infer_shape()[1] == [(2, 3)]

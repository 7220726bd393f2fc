"""Polymix's Symbol against the real MXNet 1.9.1: the same composition gives the same lists, the same inferred
shapes and byte-identical symbol JSON, and each library reads the other's files."""
import json

import pytest

# One operator applied to a variable "data": (MXNet op name, parameters as Python values, as a user writes them).
SINGLE_OPS = {
    "FullyConnected": ("FullyConnected", dict(num_hidden=4)),
    "FullyConnected_no_bias": ("FullyConnected", dict(num_hidden=4, no_bias=True, flatten=False)),
    "Convolution": ("Convolution", dict(kernel=(3, 3), num_filter=2, stride=(2, 2), pad=(1, 1))),
    "Convolution_groups": ("Convolution", dict(kernel=(3,), num_filter=4, num_group=2, dilate=(2,))),
    "Deconvolution": ("Deconvolution", dict(kernel=(3, 3), num_filter=2, adj=(1, 1), stride=(2, 2))),
    "Pooling_max": ("Pooling", dict(kernel=(2, 2), pool_type="max", stride=(2, 2))),
    "Pooling_avg": ("Pooling", dict(kernel=(3, 3), pool_type="avg", pooling_convention="full")),
    "Pooling_global": ("Pooling", dict(global_pool=True, pool_type="avg", kernel=(1, 1))),
    "BatchNorm": ("BatchNorm", dict(fix_gamma=False, momentum=0.8)),
    "BatchNorm_mean_var": ("BatchNorm", dict(output_mean_var=True)),
    "LayerNorm": ("LayerNorm", dict(axis=-1)),
    "InstanceNorm": ("InstanceNorm", {}),
    "GroupNorm": ("GroupNorm", dict(num_groups=2)),
    "LRN": ("LRN", dict(nsize=3)),
    "Dropout": ("Dropout", dict(p=0.3)),
    "Activation": ("Activation", dict(act_type="softrelu")),
    "LeakyReLU_prelu": ("LeakyReLU", dict(act_type="prelu")),
    "LeakyReLU_rrelu": ("LeakyReLU", dict(act_type="rrelu")),
    "LeakyReLU_gelu": ("LeakyReLU", dict(act_type="gelu")),
    "Embedding": ("Embedding", dict(input_dim=10, output_dim=3)),
    "RNN_lstm": ("RNN", dict(state_size=4, num_layers=2, mode="lstm", state_outputs=True)),
    "RNN_gru_bidirectional": ("RNN", dict(state_size=3, num_layers=1, mode="gru", bidirectional=True)),
    "SoftmaxOutput": ("SoftmaxOutput", dict(multi_output=True)),
    "softmax": ("softmax", dict(axis=1, temperature=2.0)),
    "log_softmax": ("log_softmax", {}),
    "reshape": ("reshape", dict(shape=(0, -1))),
    "transpose": ("transpose", dict(axes=(1, 0))),
    "split": ("split", dict(num_outputs=2, axis=1)),
    "topk_both": ("topk", dict(ret_typ="both", k=2)),
    "sort": ("sort", {}),
    "moments": ("moments", dict(axes=(0,))),
    "sum": ("sum", dict(axis=1, keepdims=True)),
    "slice_axis": ("slice_axis", dict(axis=1, begin=0, end=2)),
    "clip": ("clip", dict(a_min=-1.0, a_max=1.0)),
    "UpSampling": ("UpSampling", dict(scale=2, sample_type="nearest", num_args=1)),
    "SequenceMask": ("SequenceMask", dict(value=-1.0)),
}


def build(library_op, variable, steps):
    """Builds a network from steps (op, input names, params, name); returns the last symbol."""
    symbols = {"data": variable("data")}
    for op, inputs, params, name in steps:
        symbols[name] = library_op(op, [symbols[i] for i in inputs], params, name)
    return symbols[steps[-1][3]]


def mx_builder(mx):
    return lambda op, inputs, params, name: getattr(mx.sym, op)(*inputs, name=name, **params)


# Networks: (steps, known input shapes).
NETWORKS = {
    "mlp": ([
        ("FullyConnected", ["data"], dict(num_hidden=64), "fc1"),
        ("Activation", ["fc1"], dict(act_type="relu"), "relu1"),
        ("Dropout", ["relu1"], dict(p=0.5), "drop1"),
        ("FullyConnected", ["drop1"], dict(num_hidden=10), "fc2"),
        ("SoftmaxOutput", ["fc2"], {}, "softmax"),
    ], dict(data=(8, 20))),
    "cnn_bn": ([
        ("Convolution", ["data"], dict(kernel=(3, 3), num_filter=8, pad=(1, 1), no_bias=True), "conv1"),
        ("BatchNorm", ["conv1"], dict(fix_gamma=False), "bn1"),
        ("Activation", ["bn1"], dict(act_type="relu"), "relu1"),
        ("Pooling", ["relu1"], dict(kernel=(2, 2), stride=(2, 2), pool_type="max"), "pool1"),
        ("Convolution", ["pool1"], dict(kernel=(3, 3), num_filter=16), "conv2"),
        ("BatchNorm", ["conv2"], {}, "bn2"),
        ("LeakyReLU", ["bn2"], dict(act_type="leaky", slope=0.1), "lrelu2"),
        ("Pooling", ["lrelu2"], dict(global_pool=True, pool_type="avg", kernel=(1, 1)), "gap"),
        ("Flatten", ["gap"], {}, "flatten"),
        ("FullyConnected", ["flatten"], dict(num_hidden=10), "fc"),
        ("SoftmaxOutput", ["fc"], {}, "softmax"),
    ], dict(data=(4, 1, 28, 28))),
    "lstm": ([
        ("RNN", ["data"], dict(state_size=16, num_layers=2, mode="lstm"), "lstm"),
        ("reshape", ["lstm"], dict(shape=(-1, 16)), "flat"),
        ("FullyConnected", ["flat"], dict(num_hidden=5), "fc"),
    ], dict(data=(7, 3, 12), lstm_state=(2, 3, 16), lstm_state_cell=(2, 3, 16))),
}


@pytest.mark.parametrize("case", sorted(SINGLE_OPS))
def test_single_operator_symbols_are_identical(mx, pmx, case):
    op, params = SINGLE_OPS[case]
    ours = pmx.op(op, [pmx.variable("data")], params, "n")
    theirs = getattr(mx.sym, op)(mx.sym.var("data"), name="n", **params)
    assert ours.list_arguments() == theirs.list_arguments()
    assert ours.list_outputs() == theirs.list_outputs()
    assert ours.list_auxiliary_states() == theirs.list_auxiliary_states()
    assert ours.tojson() == theirs.tojson()


@pytest.mark.parametrize("network", sorted(NETWORKS))
def test_networks_match_mxnet(mx, pmx, network):
    steps, shapes = NETWORKS[network]
    ours = build(pmx.op, pmx.variable, steps)
    theirs = build(mx_builder(mx), mx.sym.var, steps)
    assert ours.list_arguments() == theirs.list_arguments()
    assert ours.list_auxiliary_states() == theirs.list_auxiliary_states()
    assert ours.list_outputs() == theirs.list_outputs()
    assert ours.infer_shape(**shapes) == tuple(list(s) for s in theirs.infer_shape(**shapes))
    assert ours.tojson() == theirs.tojson()


@pytest.mark.parametrize("network", sorted(NETWORKS))
def test_each_library_reads_the_others_files(mx, pmx, network):
    steps, shapes = NETWORKS[network]
    mxnet_text = build(mx_builder(mx), mx.sym.var, steps).tojson()
    polymix_text = build(pmx.op, pmx.variable, steps).tojson()
    # Polymix reads MXNet's file and writes it back unchanged; MXNet reads Polymix's and infers the same shapes.
    assert pmx.from_json(mxnet_text).tojson() == mxnet_text
    loaded = mx.sym.load_json(polymix_text)
    assert loaded.tojson() == polymix_text
    assert loaded.infer_shape(**shapes) == mx.sym.load_json(mxnet_text).infer_shape(**shapes)
    assert json.loads(polymix_text)["arg_nodes"] == json.loads(mxnet_text)["arg_nodes"]

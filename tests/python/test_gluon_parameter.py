"""mx.gluon's Parameter, Constant, ParameterDict and Block bookkeeping: MXNet 1.9.1's names (checked against
what the real MXNet writes), deferred initialization, devices, gradients, and .params round trips."""

import warnings

import numpy as np
import pytest

import polymix as mx
from polymix import autograd, gluon
from polymix.gluon import nn

RNG = np.random.default_rng(5)


def _fresh_names():
    """Restarts the automatic block counters ('dense0_'), as a new MXNet process would have them."""
    return mx.name.NameManager()


# ---- Names --------------------------------------------------------------------------------------------------

def test_block_and_parameter_names_follow_mxnet():
    # The names MXNet 1.9.1 gives this exact construction (recorded with the real MXNet).
    with _fresh_names():
        first = nn.Dense(3, activation="relu")
        second = nn.Dense(2)
        net = nn.HybridSequential()
        with net.name_scope():
            net.add(nn.Conv2D(4, 3), nn.BatchNorm(), nn.Activation("relu"), nn.MaxPool2D(),
                    nn.Conv2DTranspose(2, 2), nn.Dense(5, activation="tanh"), nn.LayerNorm(), nn.Dropout(0.1),
                    nn.PReLU(), nn.Embedding(5, 2), nn.Flatten())
        lam = nn.HybridLambda(lambda F, x: F.relu(x))
    assert [first.prefix, first.act.prefix, second.prefix, net.prefix, lam.prefix] == [
        "dense0_", "dense0_relu_", "dense1_", "hybridsequential0_", "hybridlambda0_"]
    assert [child.prefix for child in net._children.values()] == [
        "hybridsequential0_%s_" % name for name in ("conv0", "batchnorm0", "relu0", "pool0", "conv1", "dense0",
                                                    "layernorm0", "dropout0", "prelu0", "embedding0", "flatten0")]
    assert list(net.collect_params().keys()) == ["hybridsequential0_" + name for name in (
        "conv0_weight", "conv0_bias", "batchnorm0_gamma", "batchnorm0_beta", "batchnorm0_running_mean",
        "batchnorm0_running_var", "conv1_weight", "conv1_bias", "dense0_weight", "dense0_bias", "layernorm0_gamma",
        "layernorm0_beta", "prelu0_alpha", "embedding0_weight")]
    assert net.name == "hybridsequential0" and first.name == "dense0"


def test_explicit_prefix_and_collect_params_select():
    net = nn.HybridSequential(prefix="model_")
    with net.name_scope():
        net.add(nn.Dense(4, in_units=3, prefix="fc_"), nn.Dense(2, in_units=4))
    assert list(net.collect_params().keys()) == ["model_fc_weight", "model_fc_bias", "model_dense0_weight",
                                                 "model_dense0_bias"]
    assert list(net.collect_params(".*weight").keys()) == ["model_fc_weight", "model_dense0_weight"]
    assert list(net.collect_params("model_dense0_bias|model_fc_weight").keys()) == ["model_fc_weight",
                                                                                     "model_dense0_bias"]


def test_parameter_repr_and_var_attributes():
    param = gluon.Parameter("w", shape=(2, 3), lr_mult=2.0, wd_mult=0.5, init="zeros")
    assert repr(param) == "Parameter w (shape=(2, 3), dtype=<class 'numpy.float32'>)"
    var = param.var()
    assert var is param.var()
    assert var.name == "w"
    attrs = var.list_attr()
    assert attrs["__shape__"] == "(2, 3)" and attrs["__lr_mult__"] == "2.0" and attrs["__wd_mult__"] == "0.5"
    assert attrs["__dtype__"] == "0" and attrs["__init__"] == "zeros"


# ---- Initialization ---------------------------------------------------------------------------------------

def test_deferred_initialization_happens_at_the_first_forward():
    layer = nn.Dense(4)
    assert layer.weight.shape == (4, 0)
    layer.initialize()
    with pytest.raises(gluon.DeferredInitializationError):
        layer.weight.data()
    out = layer(mx.nd.ones((2, 5)))
    assert out.shape == (2, 4)
    assert layer.weight.shape == (4, 5) and layer.weight.data().shape == (4, 5)
    conv = nn.Conv2D(6, 3, groups=2)
    conv.initialize()
    conv(mx.nd.ones((1, 4, 5, 5)))
    assert conv.weight.shape == (6, 2, 3, 3)


def test_unknown_shape_without_deferral_is_an_error():
    param = gluon.Parameter("w", shape=(3, 0))
    with pytest.raises(ValueError, match="invalid shape"):
        param.initialize()
    uninitialized = gluon.Parameter("v", shape=(2,))
    with pytest.raises(RuntimeError, match="has not been initialized"):
        uninitialized.data()


def test_parameter_init_takes_precedence_over_the_global_one():
    # Block.initialize(init) passes init as the default: a parameter's own init wins over it...
    param = gluon.Parameter("b", shape=(3,), init="ones")
    param.initialize(default_init=mx.init.Constant(7))
    np.testing.assert_array_equal(param.data().asnumpy(), np.ones(3))
    # ... while Parameter.initialize(init) itself overrides both.
    param.initialize(init=mx.init.Constant(5), force_reinit=True)
    np.testing.assert_array_equal(param.data().asnumpy(), np.full(3, 5.0))
    plain = gluon.Parameter("x_weight", shape=(2, 2))
    plain.initialize(default_init=mx.init.Constant(7))
    np.testing.assert_array_equal(plain.data().asnumpy(), np.full((2, 2), 7.0))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        plain.initialize(init=mx.init.Constant(1))
    assert "already initialized" in str(caught[0].message)
    plain.initialize(init=mx.init.Constant(1), force_reinit=True)
    np.testing.assert_array_equal(plain.data().asnumpy(), np.ones((2, 2)))


def test_several_devices_hold_copies_and_set_data_writes_all():
    devices = [mx.cpu(0), mx.cpu(1)]
    param = gluon.Parameter("w", shape=(2, 2))
    param.initialize(init=mx.init.Zero(), ctx=devices)
    assert param.list_ctx() == devices
    assert [array.context for array in param.list_data()] == devices
    assert param.data(mx.cpu(1)).context == mx.cpu(1)
    with pytest.raises(RuntimeError, match="was not initialized on context"):
        param.data(mx.cpu(2))
    param.set_data(mx.nd.array([[1, 2], [3, 4]]))
    for array in param.list_data():
        np.testing.assert_array_equal(array.asnumpy(), [[1, 2], [3, 4]])
    np.testing.assert_array_equal(param._reduce().asnumpy(), [[1, 2], [3, 4]])
    param.reset_ctx(mx.cpu(0))
    assert param.list_ctx() == [mx.cpu(0)]
    np.testing.assert_array_equal(param.data().asnumpy(), [[1, 2], [3, 4]])


def test_gradients_write_add_null_and_zero_grad():
    param = gluon.Parameter("w", shape=(3,), grad_req="add")
    param.initialize(init=mx.init.One())
    for _ in range(2):
        with autograd.record():
            loss = (param.data() * mx.nd.array([1, 2, 3])).sum()
        loss.backward()
    np.testing.assert_array_equal(param.grad().asnumpy(), [2, 4, 6])
    param.zero_grad()
    np.testing.assert_array_equal(param.grad().asnumpy(), [0, 0, 0])
    param.grad_req = "null"
    with pytest.raises(RuntimeError, match="grad_req='null'"):
        param.grad()
    param.grad_req = "write"
    assert param.grad().shape == (3,)
    with pytest.raises(ValueError, match="grad_req must be one of"):
        param.grad_req = "sometimes"


def test_cast_converts_data_and_gradient():
    layer = nn.Dense(2, in_units=3)
    layer.initialize()
    layer.cast("float64")
    assert layer.weight.data().dtype == np.float64 and layer.weight.grad().dtype == np.float64
    x = mx.nd.ones((1, 3), dtype="float64")
    with autograd.record():
        out = layer(x)
    out.backward()
    np.testing.assert_allclose(layer.weight.grad().asnumpy(), np.ones((2, 3)))


def test_constant_keeps_its_value_and_refuses_gradients():
    const = gluon.Constant("c", [[1, 2], [3, 4]])
    assert const.grad_req == "null"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        const.grad_req = "write"
    assert const.grad_req == "null" and caught
    const.initialize(default_init=mx.init.Zero())
    np.testing.assert_array_equal(const.data().asnumpy(), [[1, 2], [3, 4]])


# ---- ParameterDict ----------------------------------------------------------------------------------------

def test_parameter_dict_get_shares_and_checks():
    params = gluon.ParameterDict("net_")
    weight = params.get("weight", shape=(3, 0))
    assert weight.name == "net_weight"
    assert params.get("weight", shape=(3, 4)) is weight and weight.shape == (3, 4)
    with pytest.raises(AssertionError, match="desired attribute does not match"):
        params.get("weight", lr_mult=5.0)
    shared = gluon.ParameterDict("net_", shared=params)
    assert shared.get("weight") is weight
    constant = params.get_constant("c", [1.0, 2.0])
    assert isinstance(constant, gluon.Constant) and params.get_constant("c") is constant
    with pytest.raises(KeyError):
        params.get_constant("missing")
    other = gluon.ParameterDict("net_")
    other.get("weight", shape=(3, 4))
    with pytest.raises(ValueError, match="different Parameters with the same name"):
        params.update(other)
    params.setattr("lr_mult", 0.5)
    assert weight.lr_mult == 0.5 and constant.lr_mult == 0.5
    assert "net_weight" in params and len(params) == 2


def test_blocks_share_parameters_through_params():
    first = nn.Dense(3, in_units=2)
    second = nn.Dense(3, in_units=2, params=first.collect_params())
    assert second.weight is first.weight
    first.initialize()
    x = mx.nd.array(RNG.normal(size=(4, 2)))
    np.testing.assert_array_equal(first(x).asnumpy(), second(x).asnumpy())


# ---- Files --------------------------------------------------------------------------------------------------

def _mlp(prefix=None):
    net = nn.HybridSequential(prefix=prefix)
    with net.name_scope():
        net.add(nn.Dense(4, activation="relu", in_units=3), nn.BatchNorm(in_channels=4), nn.Dense(2, in_units=4))
    return net


def test_save_parameters_uses_structural_names_and_round_trips(tmp_path):
    net = _mlp()
    net.initialize(mx.init.Normal(1.0))
    path = str(tmp_path / "net.params")
    net.save_parameters(path)
    loaded = mx.nd.load(path)
    assert sorted(loaded) == ["0.bias", "0.weight", "1.beta", "1.gamma", "1.running_mean", "1.running_var",
                              "2.bias", "2.weight"]
    other = _mlp()  # A different prefix: structural names do not depend on it.
    other.load_parameters(path)
    x = mx.nd.array(RNG.normal(size=(5, 3)))
    np.testing.assert_array_equal(net(x).asnumpy(), other(x).asnumpy())
    for name, param in other._collect_params_with_prefix().items():
        np.testing.assert_array_equal(param.data().asnumpy(), loaded[name].asnumpy())


def test_load_parameters_reports_missing_and_extra(tmp_path):
    net = _mlp()
    net.initialize()
    path = str(tmp_path / "net.params")
    mx.nd.save(path, {"0.weight": net[0].weight.data(), "9.weight": mx.nd.zeros((1,))})
    with pytest.raises(KeyError, match="is missing in file"):
        _mlp().load_parameters(path)
    with pytest.raises(KeyError, match="is not present"):
        _mlp().load_parameters(path, allow_missing=True)
    partial = _mlp()
    partial.load_parameters(path, allow_missing=True, ignore_extra=True)
    np.testing.assert_array_equal(partial[0].weight.data().asnumpy(), net[0].weight.data().asnumpy())


def test_load_parameters_checks_shapes_and_casts_dtypes(tmp_path):
    path = str(tmp_path / "w.params")
    mx.nd.save(path, {"weight": mx.nd.ones((2, 3), dtype="float64"), "bias": mx.nd.zeros((2,))})
    with pytest.raises(TypeError, match="dtype incompatible"):
        nn.Dense(2, in_units=3).load_parameters(path)
    layer = nn.Dense(2, in_units=3)
    layer.load_parameters(path, cast_dtype=True)
    assert layer.weight.data().dtype == np.float32
    with pytest.raises(ValueError, match="shape incompatible"):
        nn.Dense(2, in_units=4).load_parameters(path, cast_dtype=True)
    deferred = nn.Dense(2)
    deferred.load_parameters(path, cast_dtype=True)
    assert deferred.weight.shape == (2, 3)


def test_legacy_prefixed_files_load_through_collect_params(tmp_path):
    net = _mlp(prefix="first_")
    net.initialize(mx.init.Normal(1.0))
    path = str(tmp_path / "legacy.params")
    net.collect_params().save(path, strip_prefix="first_")
    assert "dense0_weight" in mx.nd.load(path)
    other = _mlp(prefix="second_")
    other.load_parameters(path)
    np.testing.assert_array_equal(other[2].weight.data().asnumpy(), net[2].weight.data().asnumpy())
    with pytest.raises(ValueError, match="is to be striped before saving"):
        net.collect_params().save(path, strip_prefix="other_")


def test_parameter_dict_load_accepts_arg_and_aux_names(tmp_path):
    net = _mlp(prefix="m_")
    net.initialize(mx.init.Normal(1.0))
    path = str(tmp_path / "export.params")
    arrays = {("aux:" if "running" in name else "arg:") + name: param.data()
              for name, param in net.collect_params().items()}
    mx.nd.save(path, arrays)
    other = _mlp(prefix="m_")
    other.collect_params().load(path, ctx=mx.cpu())
    for name, param in other.collect_params().items():
        np.testing.assert_array_equal(param.data().asnumpy(), net.collect_params()[name].data().asnumpy())
    renamed = _mlp(prefix="n_")
    with pytest.raises(KeyError, match="is missing"):
        renamed.collect_params().load(path)


def test_save_parameters_deduplicates_shared_parameters(tmp_path):
    net = nn.HybridSequential()
    with net.name_scope():
        first = nn.Dense(3, in_units=3)
        net.add(first, nn.Dense(3, in_units=3, params=first.params))
    net.initialize()
    path = str(tmp_path / "shared.params")
    net.save_parameters(path, deduplicate=True)
    assert sorted(mx.nd.load(path)) == ["0.bias", "0.weight"]
    other = nn.HybridSequential()
    with other.name_scope():
        first = nn.Dense(3, in_units=3)
        other.add(first, nn.Dense(3, in_units=3, params=first.params))
    other.load_parameters(path)
    np.testing.assert_array_equal(other[1].weight.data().asnumpy(), net[0].weight.data().asnumpy())


# ---- Block structure ------------------------------------------------------------------------------------

def test_children_hooks_apply_and_attribute_checks():
    class Net(gluon.Block):
        def __init__(self):
            super().__init__()
            with self.name_scope():
                self.hidden = nn.Dense(3, in_units=2)
                self.out = nn.Dense(1, in_units=3)

        def forward(self, x):
            return self.out(self.hidden(x))

    net = Net()
    assert list(net._children) == ["hidden", "out"]
    net.initialize()
    seen = []
    handle = net.register_forward_hook(lambda block, inputs, output: seen.append(output.shape))
    net.register_forward_pre_hook(lambda block, inputs: seen.append(inputs[0].shape))
    net(mx.nd.ones((4, 2)))
    assert seen == [(4, 2), (4, 1)]
    handle.detach()
    net(mx.nd.ones((4, 2)))
    assert seen == [(4, 2), (4, 1), (4, 2)]
    visited = []
    net.apply(lambda block: visited.append(block.name))
    assert visited[-1] == net.name and len(visited) == 3
    with pytest.raises(TypeError, match="Changing attribute type"):
        net.hidden = 3
    with pytest.raises(ValueError, match="Children of HybridBlock must also be HybridBlock"):
        nn.HybridSequential().add(net)
    assert "Dense(2 -> 3, linear)" in repr(net)

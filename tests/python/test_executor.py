"""Symbol.bind / simple_bind / eval and the Executor against imperative NDArray calls and autograd (float64),
and mx.nd.CachedOp against imperative calls, under autograd, with auxiliary states and with its flags."""

import numpy as np
import pytest

import polymix as mx
from polymix import autograd

RNG = np.random.default_rng(3)
SHAPES = {"data": (4, 5), "fc1_weight": (3, 5), "fc1_bias": (3,), "fc2_weight": (2, 3), "fc2_bias": (2,)}


def _mlp():
    data = mx.sym.var("data")
    hidden = mx.sym.Activation(mx.sym.FullyConnected(data, num_hidden=3, name="fc1"), act_type="tanh")
    return mx.sym.FullyConnected(hidden, num_hidden=2, name="fc2")


def _values():
    return {name: RNG.uniform(-1, 1, shape) for name, shape in SHAPES.items()}


def _imperative(arrays):
    hidden = mx.nd.tanh(mx.nd.FullyConnected(arrays["data"], arrays["fc1_weight"], arrays["fc1_bias"], num_hidden=3))
    return mx.nd.FullyConnected(hidden, arrays["fc2_weight"], arrays["fc2_bias"], num_hidden=2)


def _autograd_grads(values, head):
    arrays = {name: mx.nd.array(value, dtype="float64") for name, value in values.items()}
    for array in arrays.values():
        array.attach_grad()
    with autograd.record():
        out = _imperative(arrays)
    out.backward(mx.nd.array(head, dtype="float64"))
    return out.asnumpy(), {name: array.grad.asnumpy() for name, array in arrays.items()}


def test_bind_forward_backward_match_autograd():
    values, head = _values(), RNG.uniform(-1, 1, (4, 2))
    args = {name: mx.nd.array(value, dtype="float64") for name, value in values.items()}
    grads = {name: mx.nd.zeros(shape, dtype="float64") for name, shape in SHAPES.items()}
    executor = _mlp().bind(mx.cpu(), args=args, args_grad=grads)
    outputs = executor.forward(is_train=True)
    executor.backward(mx.nd.array(head, dtype="float64"))
    want_out, want_grads = _autograd_grads(values, head)
    assert len(outputs) == 1 and executor.outputs[0] is outputs[0]
    np.testing.assert_allclose(outputs[0].asnumpy(), want_out, rtol=1e-12)
    for name, grad in want_grads.items():
        np.testing.assert_allclose(executor.grad_dict[name].asnumpy(), grad, rtol=1e-10, atol=1e-14, err_msg=name)
        assert executor.grad_dict[name] is grads[name]  # The given arrays are used, not copied.
    assert executor.arg_dict["fc1_weight"] is args["fc1_weight"]
    assert list(executor.output_dict) == ["fc2_output"]


def test_grad_req_add_null_and_missing_gradients():
    values, head = _values(), RNG.uniform(-1, 1, (4, 2))
    args = [mx.nd.array(values[name], dtype="float64") for name in _mlp().list_arguments()]
    grads = {name: mx.nd.ones(shape, dtype="float64") for name, shape in SHAPES.items() if name != "data"}
    executor = _mlp().bind(mx.cpu(), args, args_grad=grads,
                           grad_req={"fc1_weight": "add", "fc1_bias": "write", "fc2_weight": "null",
                                     "fc2_bias": "add"})
    _, want = _autograd_grads(values, head)
    for step in (1, 2):  # Each forward + backward adds once more where grad_req is 'add'.
        executor.forward(is_train=True)
        executor.backward([mx.nd.array(head, dtype="float64")])
        np.testing.assert_allclose(grads["fc1_weight"].asnumpy(), 1 + step * want["fc1_weight"], rtol=1e-10)
        np.testing.assert_allclose(grads["fc1_bias"].asnumpy(), want["fc1_bias"], rtol=1e-10)
        np.testing.assert_array_equal(grads["fc2_weight"].asnumpy(), np.ones((2, 3)))  # 'null' leaves it alone.
        np.testing.assert_allclose(grads["fc2_bias"].asnumpy(), 1 + step * want["fc2_bias"], rtol=1e-10)
    assert executor.grad_dict["data"] is None and executor.grad_dict["fc2_weight"] is grads["fc2_weight"]
    inference = _mlp().bind(mx.cpu(), args)
    assert inference.grad_arrays is None
    with pytest.raises(mx.base.MXNetError):
        inference.backward([mx.nd.array(head, dtype="float64")])


def test_backward_twice_after_one_forward():
    values, head = _values(), RNG.uniform(-1, 1, (4, 2))
    args = [mx.nd.array(values[name], dtype="float64") for name in _mlp().list_arguments()]
    grad = mx.nd.zeros((3, 5), dtype="float64")
    executor = _mlp().bind(mx.cpu(), args, args_grad={"fc1_weight": grad}, grad_req={"fc1_weight": "add"})
    executor.forward(is_train=True)
    for _ in range(2):
        executor.backward([mx.nd.array(head, dtype="float64")])
    np.testing.assert_allclose(grad.asnumpy(), 2 * _autograd_grads(values, head)[1]["fc1_weight"], rtol=1e-10)


def test_simple_bind_copy_params_reshape_and_eval():
    values = _values()
    executor = _mlp().simple_bind(mx.cpu(), type_dict={"data": "float64"}, data=(4, 5))
    assert [a.shape for a in executor.arg_arrays] == [SHAPES[n] for n in _mlp().list_arguments()]
    assert all(a.dtype == np.float64 for a in executor.arg_arrays + executor.grad_arrays)
    executor.copy_params_from({name: mx.nd.array(value) for name, value in values.items() if name != "data"})
    with pytest.raises(ValueError, match="not in the arguments"):
        executor.copy_params_from({"nope": mx.nd.zeros((1,))})
    out = executor.forward(data=values["data"])[0]  # NumPy arrays are copied in.
    want = _imperative({name: mx.nd.array(value, dtype="float64") for name, value in values.items()}).asnumpy()
    np.testing.assert_allclose(out.asnumpy(), want, rtol=1e-6)  # The parameters went through float32.
    with pytest.raises(TypeError, match="Unknown argument"):
        executor.forward(label=values["data"])
    with pytest.raises(ValueError, match="Shape not match"):
        executor.forward(data=np.zeros((2, 5)))
    smaller = executor.reshape(data=(2, 5))
    np.testing.assert_allclose(smaller.forward(data=values["data"][:2])[0].asnumpy(), want[:2], rtol=1e-6)
    assert smaller.arg_dict["fc1_weight"].shape == (3, 5)
    # grad_req as a dict: arguments not named get no gradient.
    partial = _mlp().simple_bind(mx.cpu(), grad_req={"fc1_weight": "write"}, data=(4, 5))
    assert [g is not None for g in partial.grad_arrays] == [False, True, False, False, False]
    data = mx.sym.var("data")
    results = (data * 2 + 1).eval(ctx=mx.cpu(), data=mx.nd.ones((2, 2)))
    assert isinstance(results, list) and results[0].asnumpy().tolist() == [[3, 3], [3, 3]]


def test_losses_need_no_head_gradient_other_outputs_do():
    scores = RNG.uniform(-1, 1, (4, 3))
    labels = np.array([0, 2, 1, 2], dtype=np.float64)
    net = mx.sym.SoftmaxOutput(mx.sym.var("data"), mx.sym.var("label"), name="sm")
    executor = net.simple_bind(mx.cpu(), type_dict={"data": "float64", "label": "float64"}, data=(4, 3), label=(4,))
    executor.forward(is_train=True, data=scores, label=labels)
    executor.backward()
    softmax = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(executor.outputs[0].asnumpy(), softmax, rtol=1e-12)
    np.testing.assert_allclose(executor.grad_dict["data"].asnumpy(), softmax - np.eye(3)[labels.astype(int)],
                               rtol=1e-10, atol=1e-14)
    plain = _mlp().simple_bind(mx.cpu(), data=(4, 5))
    plain.forward(is_train=True)
    with pytest.raises(mx.base.MXNetError, match="head gradient"):
        plain.backward()


def test_batchnorm_statistics_in_training_only():
    net = mx.sym.BatchNorm(mx.sym.var("data"), name="bn", momentum=0.5, fix_gamma=False)
    executor = net.simple_bind(mx.cpu(), data=(6, 3))
    assert sorted(executor.aux_dict) == ["bn_moving_mean", "bn_moving_var"]
    executor.aux_dict["bn_moving_var"][:] = 1
    executor.arg_dict["gamma" if "gamma" in executor.arg_dict else "bn_gamma"][:] = 1
    data = RNG.uniform(0, 2, (6, 3))
    executor.forward(is_train=False, data=data)
    np.testing.assert_array_equal(executor.aux_dict["bn_moving_mean"].asnumpy(), np.zeros(3))
    executor.forward(is_train=True, data=data)
    np.testing.assert_allclose(executor.aux_dict["bn_moving_mean"].asnumpy(), 0.5 * data.mean(axis=0), rtol=1e-5)


def test_cached_op_matches_imperative_calls():
    values = _values()
    net = _mlp()
    op = mx.nd.CachedOp(net, [("static_alloc", True), ("static_shape", False), ("inline_limit", 2)])
    inputs = [mx.nd.array(values[name], dtype="float64") for name in net.list_inputs()]
    out = op(*inputs)
    want = _imperative({name: mx.nd.array(value, dtype="float64") for name, value in values.items()})
    assert isinstance(out, mx.nd.NDArray)
    np.testing.assert_allclose(out.asnumpy(), want.asnumpy(), rtol=1e-12)
    # Several outputs come back as a list.
    group = mx.sym.Group([net, mx.sym.exp(mx.sym.var("data"))])
    results = mx.nd.CachedOp(group)(*[mx.nd.array(values[name], dtype="float64") for name in group.list_inputs()])
    assert isinstance(results, list) and len(results) == 2
    np.testing.assert_allclose(results[1].asnumpy(), np.exp(values["data"]), rtol=1e-12)
    # A new batch size compiles again; out= writes into given arrays.
    smaller = [inputs[0][:2]] + inputs[1:]
    target = mx.nd.zeros((2, 2), dtype="float64")
    assert op(*smaller, out=target) is target
    np.testing.assert_allclose(target.asnumpy(), want.asnumpy()[:2], rtol=1e-12)
    assert op.handle.num_compilations == 2
    with pytest.raises(ValueError, match="expects 5 inputs"):
        op(*inputs[:2])
    with pytest.raises(ValueError):
        mx.nd.CachedOp(net, [("no_such_flag", True)])


def test_cached_op_under_autograd_matches_imperative_gradients():
    values, head = _values(), RNG.uniform(-1, 1, (4, 2))
    net = _mlp()
    op = mx.nd.CachedOp(net, {"static_alloc": True})
    inputs = [mx.nd.array(values[name], dtype="float64") for name in net.list_inputs()]
    for array in inputs:
        array.attach_grad()
    with autograd.record():
        out = op(*inputs)
        loss = (out * mx.nd.array(head, dtype="float64")).sum() + (out ** 2).sum()
    loss.backward()
    arrays = {name: mx.nd.array(value, dtype="float64") for name, value in values.items()}
    for array in arrays.values():
        array.attach_grad()
    with autograd.record():
        reference = _imperative(arrays)
        want = (reference * mx.nd.array(head, dtype="float64")).sum() + (reference ** 2).sum()
    want.backward()
    for name, array in zip(net.list_inputs(), inputs):
        np.testing.assert_allclose(array.grad.asnumpy(), arrays[name].grad.asnumpy(), rtol=1e-10, atol=1e-14,
                                   err_msg=name)
    # Outside recording nothing is recorded: the output is not in a graph.
    plain = op(*inputs)
    with pytest.raises(mx.base.MXNetError):
        plain.backward()


def test_cached_op_backward_twice_with_retain_graph():
    values = _values()
    net = _mlp()
    inputs = [mx.nd.array(values[name], dtype="float64") for name in net.list_inputs()]
    inputs[1].attach_grad()
    with autograd.record():
        out = mx.nd.CachedOp(net)(*inputs)
    out.backward(retain_graph=True)
    first = inputs[1].grad.asnumpy().copy()
    out.backward(retain_graph=True)
    np.testing.assert_allclose(inputs[1].grad.asnumpy(), first, rtol=1e-12)


def test_cached_op_updates_auxiliary_inputs_in_training():
    net = mx.sym.BatchNorm(mx.sym.var("data"), name="bn", momentum=0.5, fix_gamma=False)
    names = net.list_inputs()
    assert names == ["data", "bn_gamma", "bn_beta", "bn_moving_mean", "bn_moving_var"]
    data = RNG.uniform(0, 2, (6, 3))
    arrays = [mx.nd.array(data), mx.nd.ones((3,)), mx.nd.zeros((3,)), mx.nd.zeros((3,)), mx.nd.ones((3,))]
    op = mx.nd.CachedOp(net)
    op(*arrays)  # Predict mode: statistics unchanged.
    np.testing.assert_array_equal(arrays[3].asnumpy(), np.zeros(3))
    with autograd.train_mode():
        out = op(*arrays)
    np.testing.assert_allclose(arrays[3].asnumpy(), 0.5 * data.mean(axis=0), rtol=1e-5)
    normalized = (data - data.mean(axis=0)) / np.sqrt(data.var(axis=0) + 1e-3)
    np.testing.assert_allclose(out.asnumpy(), normalized, rtol=1e-4, atol=1e-5)

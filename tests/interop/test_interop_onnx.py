"""dendrite.onnx.export: traced graphs checked by onnx and run by onnxruntime against dendrite."""

from __future__ import annotations

import os

import numpy as np
import onnx
import onnxruntime as ort
import pytest

import dendrite
import dendrite.nn.functional as F
from dendrite import nn
from dendrite.interop.onnx_export import OnnxExportError
from tests.interop.interop_models import MODELS, example, warm_up_batchnorm
from tests.interop.onnx_cases import CASES, Function

TOLERANCE = 1e-4


def _forward(model, array):
    with dendrite.no_grad():
        return model(dendrite.tensor(array))


def _outputs(result) -> list:
    if isinstance(result, (tuple, list)):
        return [array for item in result for array in _outputs(item)]
    return [result.numpy()]


def _session(path) -> ort.InferenceSession:
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])


def _check_against_dendrite(model, path, arrays: list, names=("input",)) -> None:
    session = _session(path)
    got = session.run(None, dict(zip(names, arrays)))
    with dendrite.no_grad():
        expected = _outputs(model(*[dendrite.tensor(a) for a in arrays]))
    assert len(got) == len(expected)
    for index, (mine, reference) in enumerate(zip(got, expected)):
        assert mine.shape == reference.shape, f"output {index}"
        np.testing.assert_allclose(mine, reference, rtol=0, atol=TOLERANCE, err_msg=f"output {index}")


def _trained_model(name: str):
    dendrite.manual_seed(0)
    model = MODELS[name][0](dendrite.nn)
    for module in model.modules():  # BatchNorm affine parameters away from their (1, 0) start
        if isinstance(module, nn.BatchNorm2d):
            with dendrite.no_grad():
                module.weight.copy_(dendrite.rand(module.num_features) + 0.5)
                module.bias.copy_(dendrite.rand(module.num_features) - 0.5)
    warm_up_batchnorm(model, _forward, name)
    return model


# ----------------------------------------------------------------------------- the six reference models
@pytest.mark.parametrize("name", list(MODELS))
def test_export_runs_in_onnxruntime_like_dendrite(tmp_path, name):
    model = _trained_model(name)
    path = tmp_path / f"{name}.onnx"
    proto = dendrite.onnx.export(model, dendrite.tensor(example(name)), path)
    onnx.checker.check_model(onnx.load(str(path)), full_check=True)
    for batch in (None, 1, 7):  # the example's batch size, and others (dynamic batch)
        _check_against_dendrite(model, path, [example(name, batch, seed=3)])
    initializers = {tensor.name for tensor in proto.graph.initializer}
    assert set(dict(model.named_parameters())) <= initializers  # named by their state_dict keys
    assert proto.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "batch"
    assert not model.training  # left in the mode it was in
    assert [name for name in os.listdir(tmp_path)] == [f"{name}.onnx"]  # no temporary files


def test_expected_onnx_operators():
    def ops(name):
        proto = dendrite.onnx.export(_trained_model(name), dendrite.tensor(example(name)), None)
        return {node.op_type for node in proto.graph.node}

    assert {"Gemm", "Relu", "Tanh"} <= ops("mlp")
    assert {"Conv", "BatchNormalization", "MaxPool", "AveragePool", "LeakyRelu"} <= ops("cnn")
    assert {"Conv", "BatchNormalization", "Add", "GlobalAveragePool"} <= ops("resnet")
    assert {"Gather", "LSTM"} <= ops("lstm")
    assert {"GRU"} <= ops("gru")
    assert {"ConvTranspose", "Sigmoid"} <= ops("decoder")


def test_batchnorm_statistics_are_exported_not_recomputed(tmp_path):
    model = _trained_model("cnn")
    running_mean = model[1].running_mean.numpy().copy()
    model.train()
    dendrite.onnx.export(model, dendrite.tensor(example("cnn")), tmp_path / "cnn.onnx")
    assert model.training  # put back in train mode
    np.testing.assert_array_equal(model[1].running_mean.numpy(), running_mean)  # export does not train
    model.eval()
    _check_against_dendrite(model, tmp_path / "cnn.onnx", [example("cnn", 2, seed=9)])


def test_mixed_training_modes_are_restored():
    model = _trained_model("resnet").train()
    model.layer1.eval()
    dendrite.freeze(model, "stem")
    dendrite.onnx.export(model, dendrite.tensor(example("resnet")), None)
    modes = {name: module.training for name, module in model.named_modules()}
    assert modes[""] and modes["layer2"] and modes["layer2.bn1"]
    assert not modes["layer1"] and not modes["layer1.bn1"] and not modes["stem.1"]
    dendrite.unfreeze(model, "stem")
    assert model.stem[1].training  # follows the model again


def test_fixed_batch(tmp_path):
    model = _trained_model("mlp")
    path = tmp_path / "mlp.onnx"
    proto = dendrite.onnx.export(model, dendrite.tensor(example("mlp")), path, dynamic_batch=False)
    assert [d.dim_value for d in proto.graph.input[0].type.tensor_type.shape.dim] == [5, 3, 4]
    _check_against_dendrite(model, path, [example("mlp", seed=4)])
    with pytest.raises(Exception, match="(?i)dimension|shape"):
        _session(path).run(None, {"input": example("mlp", 2)})


def test_names_several_inputs_and_tuple_outputs(tmp_path):
    class TwoInputs(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.lstm = nn.LSTM(4, 5, batch_first=True)

        def forward(self, x, scale):
            output, (h_n, c_n) = self.lstm(x * scale)
            return output, (h_n, c_n)

    dendrite.manual_seed(0)
    model = TwoInputs().eval()
    x, scale = np.random.default_rng(0).standard_normal((3, 6, 4)).astype(np.float32), np.full((3, 1, 1), 2.0,
                                                                                                   np.float32)
    path = tmp_path / "two.onnx"
    proto = dendrite.onnx.export(model, (dendrite.tensor(x), dendrite.tensor(scale)), path,
                                 input_names=["x", "scale"], output_names=["output", "h_n", "c_n"])
    assert [i.name for i in proto.graph.input] == ["x", "scale"]
    assert [o.name for o in proto.graph.output] == ["output", "h_n", "c_n"]
    _check_against_dendrite(model, path, [x[:2], scale[:2]], names=("x", "scale"))
    with pytest.raises(ValueError, match="output_names must be 3"):
        dendrite.onnx.export(model, (dendrite.tensor(x), dendrite.tensor(scale)), None, output_names=["y"])


@pytest.mark.parametrize("opset", [13, 17, 18, 20])
@pytest.mark.parametrize("name", ["cnn", "lstm"])
def test_opsets(tmp_path, name, opset):
    model = _trained_model(name)
    path = tmp_path / "model.onnx"
    proto = dendrite.onnx.export(model, dendrite.tensor(example(name)), path, opset=opset)
    assert proto.opset_import[0].version == opset
    onnx.checker.check_model(proto, full_check=True)
    _check_against_dendrite(model, path, [example(name, 3, seed=2)])


# ----------------------------------------------------------------------------- operation coverage
@pytest.mark.parametrize("case", list(CASES))
def test_operation_coverage(tmp_path, case):
    dendrite.manual_seed(0)
    function, shape, modules = CASES[case]
    model = Function(function, **modules).eval()
    path = tmp_path / f"{case}.onnx"
    proto = dendrite.onnx.export(model, dendrite.randn(*shape), path)
    onnx.checker.check_model(proto, full_check=True)
    for batch in (shape[0], shape[0] + 2):
        _check_against_dendrite(model, path, [dendrite.randn(batch, *shape[1:]).numpy()])


# ----------------------------------------------------------------------------- refusals
def test_unsupported_operation_names_the_operation_and_module():
    model = Function(lambda s, x: s.pair(x, x), pair=nn.Bilinear(3, 3, 2))
    with pytest.raises(OnnxExportError, match=r"Bilinear.*'pair'.*no ONNX export: ONNX has no operator"):
        dendrite.onnx.export(model, dendrite.randn(2, 3), None)


def test_random_values_drawn_in_forward_are_refused():
    model = Function(lambda s, x: x + dendrite.randn(*x.shape))
    with pytest.raises(OnnxExportError, match="changes with the input"):
        dendrite.onnx.export(model, dendrite.randn(2, 3), None)


def test_sorting_indices_are_refused():
    model = Function(lambda s, x: x.sort(dim=1).values)
    with pytest.raises(OnnxExportError, match="changes with the input"):
        dendrite.onnx.export(model, dendrite.randn(4, 3), None)


def test_control_flow_on_the_batch_size_is_refused():
    model = Function(lambda s, x: x * 2 if x.shape[0] < 5 else x.exp())
    with pytest.raises(OnnxExportError, match="different operations"):
        dendrite.onnx.export(model, dendrite.randn(4, 3), None)
    dendrite.onnx.export(model, dendrite.randn(4, 3), None, dynamic_batch=False)  # fine for a fixed batch


def test_dropout_forced_into_training_is_refused():
    model = Function(lambda s, x: F.dropout(x, 0.5, training=True))
    with pytest.raises(OnnxExportError, match="dropout ran in training mode"):
        dendrite.onnx.export(model, dendrite.randn(4, 3), None)


def test_a_failing_forward_leaves_dendrite_as_it_was():
    from dendrite.autograd.function import Function as AutogradFunction
    from dendrite.ops import comparison

    apply, compare = AutogradFunction.__dict__["apply"], comparison._compare

    def broken(s, x):
        raise ValueError("boom")

    model = Function(broken, linear=nn.Linear(3, 3)).train()
    with pytest.raises(ValueError, match="boom"):
        dendrite.onnx.export(model, dendrite.randn(2, 3), None)
    assert AutogradFunction.__dict__["apply"] is apply and comparison._compare is compare
    assert model.training and not model._forward_hooks and not model.linear._forward_pre_hooks
    x = dendrite.randn(2, 3, requires_grad=True)
    (model.linear(x) > 0).float().sum()  # comparisons are plain again: no graph node
    assert (x > 0)._ctx is None
    model.linear(x).sum().backward()
    assert x.grad is not None


def test_float64_model(tmp_path):
    model = MODELS["mlp"][0](dendrite.nn).double().eval()
    x = example("mlp").astype(np.float64)
    proto = dendrite.onnx.export(model, dendrite.tensor(x), tmp_path / "mlp64.onnx")
    assert proto.graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.DOUBLE
    session = _session(tmp_path / "mlp64.onnx")
    np.testing.assert_allclose(session.run(None, {"input": x})[0], _forward(model, x).numpy(), rtol=1e-12)


def test_bad_arguments():
    model = MODELS["mlp"][0](dendrite.nn)
    with pytest.raises(ValueError, match="opset"):
        dendrite.onnx.export(model, dendrite.randn(5, 3, 4), None, opset=9)
    with pytest.raises(ValueError, match="overlap"):
        dendrite.onnx.export(model, dendrite.randn(5, 3, 4), None, input_names=["x"], output_names=["x"])
    with pytest.raises(ValueError, match="'1.weight' is also the name of a parameter"):
        dendrite.onnx.export(model, dendrite.randn(5, 3, 4), None, output_names=["1.weight"])


def test_supported_operations_lists_the_layers():
    names = dendrite.onnx.supported_operations()
    for expected in ("linear.Linear", "conv.Convolution", "recurrent_lstm.LSTMLayer",
                     "recurrent_gru.GRULayer", "normalization.BatchNorm", "sparse.Embedding",
                     "movement.Reshape"):
        assert expected in names

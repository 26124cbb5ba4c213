"""Eager vs compiled execution of the activation quantizer's formulas."""
import pytest
import torch

from bwma_exp.quant.bwma import activation_formulas as formulas
from bwma_exp.quant.bwma import bwma_quantize_act
from bwma_exp.quant.common import compiled
from bwma_exp.quant.common.compiled import COMPILE_MIN_NUMEL, CompilableKernel


def twice(x):
    return 2 * x


@pytest.fixture
def compile_calls(monkeypatch):
    """Replaces torch.compile by a recorder that returns the eager function."""
    calls = []

    def fake_compile(fn, **kwargs):
        calls.append(kwargs)
        return fn

    monkeypatch.setattr(torch, "compile", fake_compile)
    return calls


def test_auto_compiles_once_hot_on_large_tensors_with_dynamic_shapes(compile_calls, monkeypatch):
    monkeypatch.delenv("BWMA_EXP_COMPILE", raising=False)
    monkeypatch.setattr(compiled, "COMPILE_AFTER_CALLS", 2)
    kernel = CompilableKernel(twice)
    for _ in range(5):
        assert kernel("auto", torch.ones(4)).tolist() == [2.0] * 4
    big = torch.ones(COMPILE_MIN_NUMEL)
    kernel("auto", big)
    kernel("auto", big)
    assert compile_calls == []
    kernel("auto", big)
    kernel("auto", torch.ones(COMPILE_MIN_NUMEL + 7))
    assert compile_calls == [{"dynamic": True}]


def test_eager_mode_never_compiles(compile_calls):
    CompilableKernel(twice)("eager", torch.ones(COMPILE_MIN_NUMEL))
    assert compile_calls == []


def test_environment_variable_makes_auto_eager(compile_calls, monkeypatch):
    monkeypatch.setenv("BWMA_EXP_COMPILE", "0")
    monkeypatch.setattr(compiled, "COMPILE_AFTER_CALLS", 0)
    kernel = CompilableKernel(twice)
    for _ in range(3):
        kernel("auto", torch.ones(COMPILE_MIN_NUMEL))
    assert compile_calls == []


def failing_compile(fn, **kwargs):
    def run(*args):
        raise RuntimeError("no C compiler")
    return run


def test_auto_falls_back_to_eager_for_good_after_one_warning(monkeypatch):
    monkeypatch.delenv("BWMA_EXP_COMPILE", raising=False)
    monkeypatch.setattr(torch, "compile", failing_compile)
    monkeypatch.setattr(compiled, "COMPILE_AFTER_CALLS", 0)
    kernel = CompilableKernel(twice)
    big = torch.ones(COMPILE_MIN_NUMEL)
    with pytest.warns(RuntimeWarning, match="no C compiler"):
        assert torch.equal(kernel("auto", big), 2 * big)
    assert kernel.failed
    with pytest.WarningsRecorder() as record:
        kernel("auto", big)
    assert len(record) == 0


def test_compiled_mode_lets_the_failure_raise(monkeypatch):
    monkeypatch.setattr(torch, "compile", failing_compile)
    with pytest.raises(RuntimeError, match="no C compiler"):
        CompilableKernel(twice)("compiled", torch.ones(3))


def test_module_kernels_are_the_act_math_formulas():
    for kernel in (formulas.quantize_kernel, formulas.observe_and_quantize_kernel, formulas.grid_surrogate_grad_kernel,
                   formulas.sign_values_kernel, formulas.sign_surrogate_grad_kernel):
        assert kernel.fn.__module__ == "bwma_exp.quant.bwma.activation_formulas"


def run(mode, a, bits, a_min, a_max, width):
    a = a.clone().requires_grad_()
    q = bwma_quantize_act(a, bits, a_min, a_max, surrogate_width=width, kernels=mode)
    q.backward(torch.linspace(-1, 2, a.numel()).reshape(a.shape))
    return q.detach(), a.grad


@pytest.mark.slow
@pytest.mark.parametrize("bits, width", [(1, 1.0), (2, 1.0), (4, 1.0), (4, 0.5), (3, 2.0)])
def test_compiled_and_eager_paths_agree_bit_for_bit(bits, width):
    torch.manual_seed(0)
    grid = torch.arange(0, 2 ** bits) * 0.25 - 0.5        # every level and every tie point
    a = torch.cat([torch.randn(4000) * 2, grid, grid + 0.125, torch.tensor([-9.0, 9.0])])
    a = a.reshape(2, -1)
    a_min, a_max = -0.5, -0.5 + 0.25 * (2 ** bits - 1)
    q_eager, grad_eager = run("eager", a, bits, a_min, a_max, width)
    q_compiled, grad_compiled = run("compiled", a, bits, a_min, a_max, width)
    assert torch.equal(q_eager, q_compiled)
    assert torch.equal(grad_eager, grad_compiled)


@pytest.mark.slow
def test_running_range_steps_agree_bit_for_bit():
    from bwma_exp.quant import ActQuantizer

    torch.manual_seed(0)
    batches = [torch.randn(3, 5, 7) * (i + 1) for i in range(3)]
    results = {}
    for mode in ("eager", "compiled"):
        quantizer = ActQuantizer(3, kernels=mode).train()
        outputs = []
        for batch in batches:
            a = batch.clone().requires_grad_()
            q = quantizer(a)
            q.backward(torch.ones_like(q))
            outputs += [q.detach(), a.grad, quantizer.a_min.clone(), quantizer.a_max.clone()]
        results[mode] = outputs
    assert all(torch.equal(e, c) for e, c in zip(results["eager"], results["compiled"]))

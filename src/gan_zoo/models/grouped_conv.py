"""A grouped convolution whose backward is itself grouped convolutions, so R1/R2 stay cheap.

Why: R1 and R2 (Mescheder et al. 2018, Eq. 9; R3GAN, Huang et al. 2024, Eq. 4/5) differentiate D's input
gradient, i.e. they backpropagate *through* the backward pass of every convolution. PyTorch records a
convolution's backward as one ``convolution_backward`` node, whose own derivative
(``aten::_convolution_double_backward``) handles ``groups > 1`` by slicing the tensors and looping over the
groups on CPU: config E's grouped 3x3 convs (96 groups of 16 channels) then cost about 4x their first-order
price (profile of gan_zoo issue 10: 77 % of a D step).

Here the first-order backward is written with the ordinary differentiable ops:

    y  = conv2d(x, w, stride, padding, groups)
    gx = conv2d(gy, flip(w)^T, padding=k - 1 - padding, groups)            (= dy/dx^T gy, stride 1;
                                                                              conv_transpose2d otherwise)
    gw = convolution_backward(gy, x, w)[weight]                               (= dy/dw^T gy)

so under ``create_graph=True`` (the penalty's pass) autograd records a plain grouped ``conv2d`` - a first-order
op whose backward oneDNN runs with native groups - instead of a ``convolution_backward`` node. Second-order
gradients are those of the same function (checked with ``torch.autograd.gradgradcheck`` in the tests).

A first-order backward (grad mode off inside ``backward``: no ``create_graph``, as in the G step and the plain
part of every D step) never gets differentiated, so it calls PyTorch's fused ``convolution_backward`` for both
gradients at once instead; measured on one core at config E's shapes (batch 8), that is 1.01x (grouped 3x3,
32 px), 1.06x (16 px) and 1.39x (the depthwise stride-2 downsampler) faster than the differentiable form.

The input-gradient pass of a penalty asks only for ``d/dx``: the weight gradient is skipped then (autograd
tells a custom Function which inputs require grad, not which are wanted by this ``autograd.grad`` call, so
we ask the engine whether the weight's gradient node will run: ``torch._C._will_engine_execute_node``).

Use: :func:`grouped_conv2d` in place of ``F.conv2d``; :func:`enabled` says whether the layers of
:mod:`gan_zoo.models.layers` route through it. Default: on for CPU tensors (measured faster on CPU in
``benchmarks/bench_r3gan.py``), off on CUDA until measured there (``GAN_ZOO_GROUPED_CONV=cuda|all|off``).
"""

from __future__ import annotations

import os

import torch
import torch.nn.functional as F

_MODES = ("cpu", "cuda", "all", "off")


def mode() -> str:
    """Where the custom backward is used: ``GAN_ZOO_GROUPED_CONV`` (cpu | cuda | all | off), default cpu."""
    value = os.environ.get("GAN_ZOO_GROUPED_CONV", "cpu").lower()
    if value not in _MODES:
        from gan_zoo.errors import ConfigError

        raise ConfigError(f"GAN_ZOO_GROUPED_CONV={value!r}: use one of {', '.join(_MODES)}")
    return value


def enabled(x: torch.Tensor) -> bool:
    """Whether a grouped convolution on ``x`` should use :class:`GroupedConv2d` (see the module doc)."""
    m = mode()
    return m == "all" or (m == "cpu" and x.device.type == "cpu") or (m == "cuda" and x.is_cuda)


def _engine_wants(ctx, index: int) -> bool:
    """Whether the engine will run the gradient node behind input ``index`` in the current backward."""
    if not ctx.needs_input_grad[index]:
        return False
    node = ctx.next_functions[index][0]
    if node is None:
        return False
    try:
        return bool(torch._C._will_engine_execute_node(node))
    except (AttributeError, RuntimeError):  # older torch, or called outside a backward pass
        return True


def input_grad(gy: torch.Tensor, weight: torch.Tensor, x_shape, stride: int, padding: int,
               groups: int) -> torch.Tensor:
    """``d conv2d(x, w) / dx`` applied to ``gy``, as differentiable ops. Stride 1: a grouped ``conv2d`` of
    ``gy`` with the flipped, in/out-swapped kernel and padding ``k - 1 - p`` (oneDNN runs it natively
    grouped; CPU ``conv_transpose2d`` with groups takes a slow path); strided: the same on ``gy`` with zeros
    inserted (a transposed conv is a stride-1 conv of the dilated input)."""
    k = weight.shape[2:]
    if stride == 1 and all(padding <= kk - 1 for kk in k):
        out_g, in_g = weight.shape[0] // groups, weight.shape[1]
        w_t = weight.view(groups, out_g, in_g, *k).transpose(1, 2).flip(-2, -1).reshape(groups * in_g, out_g, *k)
        pads = tuple(kk - 1 - padding for kk in k)
        return F.conv2d(gy, w_t, None, 1, pads, 1, groups)
    if all(padding <= kk - 1 for kk in k):
        # Strided: insert stride - 1 zeros between the rows/columns of gy (plus the rows/columns the strided
        # conv dropped at the end), then the stride-1 form above.
        n, c, ho, wo = gy.shape
        up = gy.new_zeros(n, c, x_shape[2] + 2 * padding - k[0] + 1, x_shape[3] + 2 * padding - k[1] + 1)
        up[:, :, : (ho - 1) * stride + 1 : stride, : (wo - 1) * stride + 1 : stride] = gy
        return input_grad(up, weight, x_shape, 1, padding, groups)
    # output_padding restores the rows/columns a strided conv dropped.
    op = tuple(x_shape[2 + i] - ((gy.shape[2 + i] - 1) * stride - 2 * padding + k[i]) for i in range(2))
    return F.conv_transpose2d(gy, weight, None, stride, padding, op, groups)


class GroupedConv2d(torch.autograd.Function):
    """``conv2d(x, w, stride, padding, groups=groups)`` with a differentiable first-order backward."""

    @staticmethod
    def forward(ctx, x, weight, stride: int, padding: int, groups: int):
        ctx.save_for_backward(x, weight)
        ctx.stride, ctx.padding, ctx.groups = stride, padding, groups
        return F.conv2d(x, weight, None, stride, padding, 1, groups)

    @staticmethod
    def backward(ctx, gy):
        x, weight = ctx.saved_tensors
        s, p, g = ctx.stride, ctx.padding, ctx.groups
        want_x, want_w = _engine_wants(ctx, 0), _engine_wants(ctx, 1)
        if not torch.is_grad_enabled():
            # A first-order backward (no create_graph: the G step, the plain part of a D step): nothing will
            # differentiate this pass, so PyTorch's own fused kernel computes both gradients in one call.
            gx, gw, _ = torch.ops.aten.convolution_backward(
                gy, x, weight, None, [s, s], [p, p], [1, 1], False, [0, 0], g, [want_x, want_w, False])
            return gx, gw, None, None, None
        gx = gw = None
        if want_x:
            gx = input_grad(gy, weight, x.shape, s, p, g)
        if want_w:
            gw = torch.ops.aten.convolution_backward(
                gy, x, weight, None, [s, s], [p, p], [1, 1], False, [0, 0], g, [False, True, False]
            )[1]
        return gx, gw, None, None, None


def grouped_conv2d(x: torch.Tensor, weight: torch.Tensor, stride: int = 1, padding: int = 0,
                   groups: int = 1) -> torch.Tensor:
    """``F.conv2d`` without bias; through :class:`GroupedConv2d` where :func:`enabled` (eager mode)."""
    # Under torch.compile the plain op: the compiled graph is differentiated by AOTAutograd instead.
    if enabled(x) and torch.is_grad_enabled() and not torch.compiler.is_compiling():
        return GroupedConv2d.apply(x, weight, stride, padding, groups)
    return F.conv2d(x, weight, None, stride, padding, 1, groups)

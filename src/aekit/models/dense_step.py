"""The training step of a plain dense autoencoder, with its backward pass written out.

A chain of ``Linear`` layers with ReLU or linear activations, and a BCE-on-logits or MSE loss, is the
tutorial model and the deep one. For them autograd's bookkeeping (a graph per step, a fresh tensor per
intermediate, one kernel per elementwise operation) costs as much as the matrix products themselves. This
step keeps every activation and gradient in buffers made once, runs each product straight into its
buffer (``addmm(out=)``), folds the loss' ``1 / N`` into the products' ``alpha``, and forms the output
gradient ``sigmoid(z) - x`` (or ``z - x``) in place: per layer one product forward and two backward, one
bias sum, one ReLU mask.

It computes exactly what autograd computes for the same model (``tests/training/test_trainer.py`` checks
the loss curves agree); models with anything else (batch-norm, dropout, other activations, penalties) train
through autograd.
"""
from __future__ import annotations

from typing import Optional

import torch
from torch import nn

from .base import bce_leaving_sigmoid

#: activations the step differentiates itself: name -> module type
_ACTIVATIONS = {nn.ReLU: "relu", nn.Identity: "linear"}


class DenseStep:
    """``step(x, target) -> (loss, terms, code)``: one forward and backward pass; the gradients land in ``p.grad``.

    Every view the step uses is made once per batch size (a slice or transpose costs a few microseconds of
    dispatch, and a step is about a millisecond).
    """

    def __init__(self, layers: list, activations: list, code_layer: int, loss: str, max_rows: int):
        self.layers, self.activations, self.code_layer, self.loss = layers, activations, code_layer, loss
        first = layers[0].weight
        # outputs[i] holds layer i's activation (the last one: the logits); grads[i] the gradient at its input.
        # The logits are read once, by the loss, which then turns them into their gradient in place.
        self.outputs = [first.new_empty((max_rows, layer.out_features)) for layer in layers]
        self.grads = [first.new_empty((max_rows, layer.out_features)) for layer in layers[:-1]] + self.outputs[-1:]
        self.wide = first.new_empty(max_rows * layers[-1].out_features, dtype=torch.float64)  # the BCE's buffer
        self.weights_t = [layer.weight.t() for layer in layers]  # views: they follow the optimizer's updates
        for layer in layers:
            for p in (layer.weight, layer.bias):
                p.grad = torch.zeros_like(p)
        self._views: dict = {}

    def _views_for(self, n: int) -> tuple:
        """(outputs, grads, grads transposed, flat logits) for a batch of ``n`` rows."""
        if n not in self._views:
            outs = [o[:n] for o in self.outputs]
            grads = [g[:n] for g in self.grads]
            self._views[n] = (outs, grads, [g.t() for g in grads], outs[-1].view(-1))
        return self._views[n]

    @classmethod
    def for_model(cls, model: nn.Module, max_rows: int) -> Optional["DenseStep"]:
        """The step for ``model`` (encoder and decoder ``nn.Sequential`` of Linear and activations), or None."""
        config = model.config
        if (config.loss, config.output_activation) not in (("bce", "sigmoid"), ("mse", "linear")):
            return None
        layers, activations, code_layer = [], [], None
        for part in (model.encoder, model.decoder):
            after_linear = False
            for module in part:
                if type(module) is nn.Linear and module.bias is not None:
                    layers.append(module)
                    activations.append("linear")
                    after_linear = True
                elif type(module) in _ACTIVATIONS and after_linear:
                    activations[-1] = _ACTIVATIONS[type(module)]
                    after_linear = False
                else:
                    return None
            if code_layer is None:
                code_layer = len(layers) - 1
        if activations[-1] != "linear" or code_layer < 0:
            return None  # the decoder must end in the logits layer
        return cls(layers, activations, code_layer, config.loss, max_rows)

    @torch.no_grad()
    def __call__(self, x: torch.Tensor, target: torch.Tensor) -> tuple[torch.Tensor, dict, torch.Tensor]:
        outs, grads, grads_t, flat_logits = self._views_for(x.shape[0])
        inputs = [x] + outs[:-1]
        for layer, w_t, act, inp, out in zip(self.layers, self.weights_t, self.activations, inputs, outs):
            torch.addmm(layer.bias, inp, w_t, out=out)
            if act == "relu":
                out.relu_()
        loss, scale = self._loss_and_output_grad(outs[-1], flat_logits, target)  # outs[-1] is grads[-1]
        last = len(self.layers) - 1
        for i in range(last, -1, -1):
            layer, g = self.layers[i], grads[i]
            alpha = scale if i == last else 1.0
            torch.addmm(layer.weight.grad, grads_t[i], inputs[i], beta=0.0, alpha=alpha, out=layer.weight.grad)
            torch.sum(g, 0, out=layer.bias.grad)
            if i == last:
                layer.bias.grad.mul_(alpha)
            if i == 0:
                break
            torch.addmm(grads[i - 1], g, layer.weight, beta=0.0, alpha=alpha, out=grads[i - 1])
            if self.activations[i - 1] == "relu":  # the ReLU's output is positive exactly where it passes
                torch.ops.aten.threshold_backward.grad_input(grads[i - 1], outs[i - 1], 0.0,
                                                             grad_input=grads[i - 1])
        return loss, {"reconstruction": loss}, outs[self.code_layer]  # the terms of Autoencoder.loss

    def _loss_and_output_grad(self, logits, flat_logits, target) -> tuple[torch.Tensor, float]:
        """The mean loss; ``logits`` turned in place into N times the loss' gradient w.r.t. them; 1/N (or 2/N)."""
        n = flat_logits.numel()
        if self.loss == "mse":
            logits.sub_(target)
            return torch.dot(flat_logits, flat_logits) / n, 2.0 / n
        loss = bce_leaving_sigmoid(logits, target, logits, self.wide)  # as models.base.bce_with_logits
        logits.sub_(target)
        return loss, 1.0 / n

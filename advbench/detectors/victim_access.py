"""The victim as victim-aware detectors see it: logits, penultimate features, Monte-Carlo dropout.

``Victim`` wraps the attacked classifier, any torch module that maps float images ``N x C x H x W``
in [0, 1] to logits (the GTSRB victim, ``advbench.attacks.victim.VictimNet``, normalizes its input
itself). Its weights are frozen and it stays in eval mode, except that ``mc_logits`` switches its
dropout layers (and only those: batch norm keeps its running statistics) to training mode for
Bayesian-uncertainty passes; ``masked_logits`` runs it in eval mode with given per-image masks
multiplying the outputs of those same dropout layers (fixed-mask passes, differentiable). The
penultimate features are the input of the module's last ``nn.Linear`` layer, read with a forward
pre-hook, so any classifier whose head ends in a linear layer gives them (the GTSRB victim: the 256
ReLU units before its 43 logits).

``sha256`` names the victim in result lines (its checkpoint's sha256 in a run). ``on(device)``
gives the same victim on another device (a copy), so the one victim a worker process loads can
serve detectors on several devices without being moved under another's feet.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager

import torch
from torch import nn


def _is_dropout(module: nn.Module) -> bool:
    return isinstance(module, nn.modules.dropout._DropoutNd)


class Victim:
    """A frozen classifier of float images in [0, 1] (see the module docstring)."""

    def __init__(self, model: nn.Module, sha256: str = "", name: str = ""):
        self.model = model.eval()
        for param in self.model.parameters():
            param.requires_grad_(False)
        self.sha256 = sha256
        self.name = name

    def __repr__(self) -> str:
        return f"Victim({self.name or type(self.model).__name__}, sha256={self.sha256[:12]})"

    @property
    def device(self) -> torch.device:
        found = next(iter(self.model.parameters()), None)
        return torch.device("cpu") if found is None else found.device

    def on(self, device: torch.device | str) -> Victim:
        """This victim on ``device``: itself when it is there, else a copy moved there."""
        device = torch.device(device)
        if self.device == device:
            return self
        return Victim(copy.deepcopy(self.model).to(device), self.sha256, self.name)

    @property
    def has_dropout(self) -> bool:
        """Whether a dropout layer with a rate above zero is in the model (what ``mc_logits`` samples)."""
        return bool(self.dropout_layers())

    def dropout_layers(self) -> dict[str, nn.Module]:
        """The dropout layers with a rate above zero (those ``mc_logits`` samples), by module name."""
        return {name: m for name, m in self.model.named_modules() if _is_dropout(m) and m.p > 0}

    def dropout_input_shapes(self, shape: tuple[int, ...]) -> dict[str, tuple[int, ...]]:
        """The per-image shape of the input of each layer of ``dropout_layers`` that a forward pass of images of
        ``shape`` (``C x H x W``) runs, by module name (a layer the forward pass skips is left out)."""
        found: dict[str, tuple[int, ...]] = {}

        def recorder(name: str):
            def record(module, args) -> None:  # a pre-hook that returns nothing leaves the input as it is
                found.setdefault(name, tuple(args[0].shape[1:]))

            return record

        handles = [m.register_forward_pre_hook(recorder(name)) for name, m in self.dropout_layers().items()]
        try:
            with torch.no_grad():
                self.model(torch.zeros((1, *shape), device=self.device))
        finally:
            for handle in handles:
                handle.remove()
        return found

    def _head(self) -> nn.Linear:
        linears = [m for m in self.model.modules() if isinstance(m, nn.Linear)]
        if not linears:
            raise ValueError(f"{self!r}: no nn.Linear layer, so no penultimate features")
        return linears[-1]

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        """The logits of ``x`` (gradients flow back to ``x``)."""
        return self.model(x)

    def features_and_logits(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The penultimate features (the last linear layer's input, flattened) and the logits of ``x``."""
        found: list[torch.Tensor] = []
        handle = self._head().register_forward_pre_hook(lambda module, args: found.append(args[0]))
        try:
            logits = self.model(x)
        finally:
            handle.remove()
        return found[-1].flatten(1), logits

    def layer_outputs(self, x: torch.Tensor) -> list[torch.Tensor]:
        """The output of every ``nn.ReLU`` module of the model in the order they run, then the logits: the
        victim's layers as invariant-checking detectors read them (NIC)."""
        found: list[torch.Tensor] = []
        relus = [m for m in self.model.modules() if isinstance(m, nn.ReLU)]
        handles = [m.register_forward_hook(lambda module, args, out: found.append(out.clone())) for m in relus]
        try:
            logits = self.model(x)
        finally:
            for handle in handles:
                handle.remove()
        return [*found, logits]

    @contextmanager
    def _dropout_sampling(self) -> Iterator[None]:
        """Within: the model's dropout layers sample (training mode), everything else in eval mode."""
        for module in self.model.modules():
            if _is_dropout(module):
                module.train()
        try:
            yield
        finally:
            self.model.eval()

    def _stages(self, x: torch.Tensor) -> tuple[torch.Tensor, nn.Module]:
        """What each pass of ``x`` runs, and on what: a model that splits into a ``trunk`` method and a
        ``classifier`` module that holds all its dropout layers (the GTSRB victim) runs its trunk here, once,
        and only the classifier per pass (the same numbers as whole passes, the trunk being deterministic,
        for a fraction of the work); any other model runs whole on ``x`` per pass."""
        trunk, head = getattr(self.model, "trunk", None), getattr(self.model, "classifier", None)
        inside = set(head.modules()) if isinstance(head, nn.Module) else set()
        if callable(trunk) and all(m in inside for m in self.model.modules() if _is_dropout(m)):
            return trunk(x), head
        return x, self.model

    def mc_logits(self, x: torch.Tensor, passes: int) -> torch.Tensor:
        """The logits of ``passes`` forward passes of ``x`` with dropout sampling (``passes x N x classes``),
        each pass and image with masks of its own; the trunk runs once (``_stages``)."""
        with self._dropout_sampling():
            inputs, forward = self._stages(x)
            return torch.stack([forward(inputs) for _ in range(passes)])

    def masked_logits(self, x: torch.Tensor, masks: dict[str, torch.Tensor], passes: int) -> torch.Tensor:
        """The logits of ``passes`` forward passes of ``x`` in eval mode (``passes x N x classes``, gradients
        flowing back to ``x``), pass ``t`` multiplying the output of each dropout layer named in ``masks``
        (``dropout_layers``) by ``masks[name][t]``: a per-image mask (its input's shape, ``dropout_input_shapes``)
        that every image of ``x`` shares. The trunk runs once (``_stages``)."""
        layers = dict(self.model.named_modules())

        def masking(mask: torch.Tensor):
            return lambda module, args, output: output * mask

        inputs, forward = self._stages(x)
        logits = []
        for step in range(passes):
            handles = [layers[name].register_forward_hook(masking(mask[step])) for name, mask in masks.items()]
            try:
                logits.append(forward(inputs))
            finally:
                for handle in handles:
                    handle.remove()
        return torch.stack(logits)

    def check_input(self, shape: tuple[int, ...], what: str = "the images") -> int:
        """The number of classes; ValueError when the victim takes no images of ``shape`` (``C x H x W``)."""
        try:
            with torch.no_grad():
                logits = self.model(torch.zeros((1, *shape), device=self.device))
        except RuntimeError as exc:
            first = (str(exc).strip().splitlines() or [""])[0]
            raise ValueError(f"the victim does not take {what} of shape {tuple(shape)} ({first})") from None
        if logits.ndim != 2 or logits.shape[1] < 2:
            raise ValueError(f"the victim gives outputs of shape {tuple(logits.shape)} for {what}, not N x classes")
        return int(logits.shape[1])

"""The form of an attack's registry entry (``advbench.attacks.registry``): ``Attack``, ``Param`` and checks.

An entry is a subclass of ``Attack`` with its name, one-line description, table label, budget
parameter and parameters (``Param``: default, source, check, derivation), and one method per
library that runs it (``foolbox``, and ``torchattacks`` where the attack has a ``backend``
parameter). This module imports no attack library: ``advbench list`` reads the entries without them.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

#: The libraries an attack with a ``backend`` parameter can run on; the first is the default.
BACKENDS = ("foolbox", "torchattacks")


@dataclass(frozen=True)
class Check:
    """A test that a resolved value must pass, and what the error says when it does not."""

    test: Callable[[object], bool]
    expected: str

    def error(self, value) -> str | None:
        """``"must be positive, got 0"`` when ``value`` fails, else None."""
        return None if self.test(value) else f"{self.expected}, got {value!r}"


POSITIVE = Check(lambda value: value > 0, "must be positive")
NON_NEGATIVE = Check(lambda value: value >= 0, "must be at least 0")


def one_of(*choices: str) -> Check:
    """The value must be one of the words ``choices``."""
    return Check(lambda value: value in choices, f"expected one of {', '.join(choices)}")


@dataclass(frozen=True)
class Param:
    """One parameter: its ``default`` (None when ``derive`` computes it from the resolved others
    unless it is given), where that default comes from, and the check its value must pass."""

    default: object
    source: str
    check: Check | None = None
    derive: Callable[[dict], object] | None = None


def batch_size(default: int) -> Param:
    """How many images go to the library per call (not a library parameter)."""
    return Param(default, "images per library call; memory, not the method", POSITIVE)


#: Which library runs the attack (for the attacks that have both; ``BACKENDS``).
BACKEND = Param("foolbox", "foolbox is a dependency, torchattacks an optional extra", one_of(*BACKENDS))
#: Attack the victim behind an 8-bit rounding layer (``runners.Quantize8Bit``).
QUANTIZED_DECISION = Param(True, "ours: its results then survive the 8-bit rounding of every stored image")


class Attack(ABC):
    """One attack of the registry (subclass it and decorate the subclass with ``registry.register``).

    Class attributes: ``name`` (as ``--attacks`` takes it), ``description`` (``advbench list``),
    ``label`` (table column), ``budget`` (the parameter a budget sweep varies: the x axis of its
    curve), ``params`` (name -> ``Param``, in the order they are recorded), ``unnamed`` (parameters
    left out of variant names because they do not change the images) and ``run_by_default``
    (whether ``generate-attacks`` runs it unless ``--attacks`` says otherwise).

    ``foolbox(model, params)`` (and ``torchattacks(model, params)`` for an attack with a ``backend``
    parameter) returns the attack as a function of one batch ``(x, y)`` -> adversarial ``x``, on
    the ``model`` as ``run_attack`` passes it (behind ``Quantize8Bit`` with ``quantized_decision``).
    """

    name: ClassVar[str]
    description: ClassVar[str]
    label: ClassVar[str]
    budget: ClassVar[str]
    params: ClassVar[dict[str, Param]]
    unnamed: ClassVar[tuple[str, ...]] = ()
    run_by_default: ClassVar[bool] = False
    #: The parameters that are L-inf distances on images in [0, 1], with their word (``budget``, ``step size``).
    linf: ClassVar[dict[str, str]] = {}

    @property
    def derived(self) -> dict[str, Callable[[dict], object]]:
        """The parameters whose default follows from the others, with their rule."""
        return {key: param.derive for key, param in self.params.items() if param.derive is not None}

    def batch_attack(self, backend: str, model, params: dict) -> Callable:
        """The attack on ``backend`` as a function of one batch ``(x, y)``."""
        return getattr(self, backend)(model, params)

    @abstractmethod
    def foolbox(self, model, params: dict) -> Callable:
        """The attack on foolbox 3 as a function of one batch ``(x, y)``."""

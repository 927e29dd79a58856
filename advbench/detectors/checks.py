"""Validators for detector hyperparameters: each raises ValueError naming the parameter.

Used by the detectors' ``_check_params`` so that ``advbench run`` finds a bad value before any
training starts.
"""

from __future__ import annotations

import math
from numbers import Integral, Real


def check_int(name: str, value, low: int = 1) -> None:
    """``value`` must be an integer >= ``low`` (not a bool)."""
    if isinstance(value, bool) or not isinstance(value, Integral) or value < low:
        raise ValueError(f"{name} must be an integer >= {low}; got {value!r}")


def check_number(
    name: str, value, *, low: float = 0.0, high: float = math.inf, low_open: bool = False, high_open: bool = False
) -> None:
    """``value`` must be a finite real number in the interval from ``low`` to ``high``."""
    ok = isinstance(value, Real) and not isinstance(value, bool) and math.isfinite(value)
    ok = ok and (value > low if low_open else value >= low) and (value < high if high_open else value <= high)
    if not ok:
        left, right = "(" if low_open else "[", ")" if high_open else "]"
        raise ValueError(f"{name} must be a finite number in {left}{low}, {high}{right}; got {value!r}")


def check_choice(name: str, value, choices) -> None:
    """``value`` must be one of ``choices``."""
    if value not in tuple(choices):
        raise ValueError(f"{name} must be one of {', '.join(map(repr, choices))}; got {value!r}")


def check_random_state(value) -> None:
    """``random_state`` must be None or an integer >= 0 (the seeds of ``advbench run``)."""
    if value is not None:
        check_int("random_state", value, low=0)


def check_list(name: str, value, what: str, check_item, *, empty: bool = False) -> None:
    """``value`` must be a list (a sequence, not a string) of ``what``, each item passing ``check_item``;
    non-empty unless ``empty``."""
    if isinstance(value, str) or not hasattr(value, "__len__") or not hasattr(value, "__iter__"):
        ok = False
    else:
        ok = empty or len(value) > 0
    if not ok:
        raise ValueError(f"{name} must be a {'' if empty else 'non-empty '}list of {what}; got {value!r}")
    for item in value:
        check_item(item)


def check_milestones(name: str, value) -> None:
    """``value`` must be a sequence of positive epoch numbers."""
    try:
        items = list(value)
    except TypeError:
        raise ValueError(f"{name} must be a list of positive epoch numbers; got {value!r}") from None
    for item in items:
        check_int(name, item)

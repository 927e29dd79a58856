"""Attack variants: an attack family with parameters, named by a canonical form of them.

``--attacks "fgsm@eps=4/255,bim@eps=32/255,alpha=4/255,deepfool"`` gives three variants: a
comma-separated word with ``@`` or without ``=`` starts a variant (``family@key=value``), a word
``key=value`` adds a parameter to the variant before it. ``--sweep fgsm.eps=2/255,4/255`` gives
one variant per value. Values are numbers (``0.5``, ``1000``), fractions (``4/255``),
``true``/``false`` or words (``backend=torchattacks``), cast to the type of the parameter's default.

A variant's name lists, sorted by key, the parameters whose value differs from the default
(except those that do not change the results, the registry entry's ``unnamed``; after
``--config``/``--set`` and the variant's own values; a derived default such as BIM's step size
counts as default when it follows the rule): ``fgsm@eps=4/255``. An attack at its defaults
is named by its family alone (``fgsm``), so ``fgsm@eps=12/255`` is ``fgsm``. Floats that are a
whole number of 8-bit levels are written as ``k/255``, others in their shortest form.

Images are in [0, 1], so an L-inf budget or step size (the entry's ``linf``: FGSM's ``eps``, BIM's
and L-inf PGD's ``eps`` and ``alpha``) above 1 means nothing: at 2 FGSM's set is that of 1, and
``eps=8`` was meant as ``eps=8/255``. ``resolve_variants`` refuses it, whichever of ``--attacks``,
``--sweep``, ``--config`` or ``--set`` gave it, naming the variant or setting and suggesting ``k/255``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from advbench.attacks.registry import ATTACKS, linf_params
from advbench.errors import AdvbenchError


@dataclass
class Variant:
    """An attack family with the parameter values given for it (not yet resolved)."""

    family: str
    values: dict = field(default_factory=dict)


def parse_value(text: str, where: str):
    """``4/255`` -> 4/255, ``0.5`` -> 0.5, ``1000`` -> 1000, ``true`` -> True, ``foolbox`` -> "foolbox"
    (a word: letters first); AdvbenchError otherwise."""
    text = text.strip()
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    if (
        text[:1].isalpha()
        and text.replace("-", "").replace("_", "").isalnum()
        and text.lower() not in ("inf", "infinity", "nan")
    ):
        return text.lower()
    try:
        if "/" in text:
            numerator, denominator = text.split("/")
            value = float(numerator) / float(denominator)
        else:
            value = int(text) if text.lstrip("+-").isdigit() else float(text)
    except (ValueError, ZeroDivisionError):
        raise AdvbenchError(
            f"{where}: {text!r} is not a number, a fraction like 4/255, true, false or a word"
        ) from None
    if isinstance(value, float) and not math.isfinite(value):
        raise AdvbenchError(f"{where}: {text!r} is not a finite number")
    return value


def _family(name: str, where: str) -> str:
    family = name.strip().lower()
    if family not in ATTACKS:
        raise AdvbenchError(f"{where}: unknown attack {name.strip()!r}; choose from {', '.join(ATTACKS)}")
    return family


def _assignment(text: str, where: str) -> tuple[str, object]:
    key, sep, value = text.partition("=")
    if not sep or not key.strip() or not value.strip():
        raise AdvbenchError(f"{where}: expected KEY=VALUE, got {text!r}")
    return key.strip(), parse_value(value, where)


def split_variants(text: str, where: str = "--attacks") -> list[str]:
    """A comma list of variants, one item per variant: ``bim@eps=32/255,alpha=4/255,fgsm`` ->
    ``["bim@eps=32/255,alpha=4/255", "fgsm"]`` (a word ``key=value`` belongs to the variant before it)."""
    items: list[str] = []
    for word in (part.strip() for part in text.split(",")):
        if "=" in word and "@" not in word:
            if not items:
                raise AdvbenchError(f"{where}: {word!r} comes before any attack name")
            items[-1] += f",{word}"
        elif word:
            items.append(word)
    return items


def parse_attacks(text: str, where: str = "--attacks") -> list[Variant]:
    """The variants of an ``--attacks`` value (see the module docstring); AdvbenchError when malformed."""
    variants: list[Variant] = []
    for item in split_variants(text, where):
        family, _, assignments = item.partition("@")
        variant = Variant(_family(family, where))
        for word in filter(None, assignments.split(",")):
            key, value = _assignment(word, where)
            variant.values[key] = value
        variants.append(variant)
    if not variants:
        raise AdvbenchError(f"{where}: no attack given; choose from {', '.join(ATTACKS)}")
    return variants


def parse_sweep(text: str) -> list[Variant]:
    """``fgsm.eps=2/255,4/255`` -> one variant per value."""
    where = f"--sweep {text}"
    target, sep, values = text.partition("=")
    family, dot, key = target.partition(".")
    if not sep or not dot or not key.strip():
        raise AdvbenchError(f"{where}: expected ATTACK.PARAM=V1,V2,... (e.g. fgsm.eps=2/255,4/255)")
    family = _family(family, where)
    parsed = [parse_value(value, where) for value in values.split(",") if value.strip()]
    if not parsed:
        raise AdvbenchError(f"{where}: no values given")
    return [Variant(family, {key.strip(): value}) for value in parsed]


def format_value(value) -> str:
    """The canonical text of a parameter value (``k/255`` for whole 8-bit levels)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        levels = value * 255
        if abs(levels - round(levels)) < 1e-9 and round(levels) % 255:
            return f"{round(levels)}/255"
        return repr(value)
    return str(value)


def variant_name(family: str, params: dict) -> str:
    """The canonical name of a resolved parameter set (see the module docstring)."""
    from advbench.attacks.runners import resolve_params

    attack = ATTACKS[family]
    given = {key: value for key, value in params.items() if key not in attack.derived}
    implied = resolve_params(family, given)
    defaults = resolve_params(family)
    changed = {
        key: value
        for key, value in params.items()
        if key not in attack.unnamed and value != (implied[key] if key in attack.derived else defaults[key])
    }
    if not changed:
        return family
    return f"{family}@" + ",".join(f"{key}={format_value(changed[key])}" for key in sorted(changed))


def budget(family: str, params: dict) -> float:
    """The value of the family's budget parameter (its entry's ``budget``)."""
    return float(params[ATTACKS[family].budget])


def resolve_variants(variants: list[Variant], settings: dict[str, dict]) -> dict[str, tuple[str, dict]]:
    """``{name: (family, params)}``, each variant's values over the family's ``--config``/``--set``
    ``settings``; duplicates once; ordered by family (as registered), then budget. ValueError
    names the variant whose values do not fit, AdvbenchError an L-inf distance above 1 (``check_linf``)."""
    from advbench.attacks.runners import resolve_params

    resolved: dict[str, tuple[str, dict]] = {}
    for variant in variants:
        try:
            params = resolve_params(variant.family, {**settings.get(variant.family, {}), **variant.values})
        except ValueError as exc:
            raise ValueError(f"attack {variant.family}: {exc}") from None
        check_linf(variant, params)
        resolved.setdefault(variant_name(variant.family, params), (variant.family, params))
    order = list(ATTACKS)
    ranked = sorted(resolved.items(), key=lambda item: (order.index(item[1][0]), budget(*item[1])))
    return dict(ranked)


def check_linf(variant: Variant, params: dict) -> None:
    """AdvbenchError for an L-inf distance above 1 among the resolved ``params`` of ``variant`` (see the
    module docstring), naming where it was given: the variant, or ``--config``/``--set``."""
    for key, what in linf_params(variant.family, params).items():
        value = params[key]
        if value <= 1:
            continue
        if key in variant.values:
            where, meant = f"{variant.family}@{key}={value:g}", f"{key}={value:g}/255"
        else:
            where = f"--config/--set {variant.family}.{key}={value:g}"
            meant = f"{variant.family}.{key}={value / 255:.6g} ({value:g}/255)"
        hint = f"; did you mean {meant}?" if value <= 255 else ""
        raise AdvbenchError(f"{where}: an L-inf {what} above 1 on images in [0, 1]{hint}")

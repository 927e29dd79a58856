"""Any PyOD model as an advbench detector: ``--detectors pyod:ECOD,pyod:LOF``.

PyOD (Zhao et al., JMLR 2019) is an optional extra (``pip install "advbench[pyod]"``). A name
``pyod:<Class>`` becomes a detector class built on the fly (``detector_class``) whose constructor
takes every parameter of the PyOD class (its defaults unchanged, so ``[detectors."pyod:LOF"]
n_neighbors = 35`` in ``--config`` works as for ours) plus the feature parameters of our classic
detectors: the model sees the flattened pixels after ``PixelFeatures(gcn, scaling, pca)`` fitted on
the training images, by default no GCN, training min-max scaling and no PCA (as ``ocsvm`` and
``iforest``). ``random_state`` is passed to models that take one, and NumPy's global generator is
seeded with it before fitting for those that draw from it. Score: the model's
``decision_function`` (PyOD's convention is ours: higher is more anomalous); its
``contamination`` only sets PyOD's threshold, which advbench does not use.
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
import io
import pkgutil
from functools import cache, lru_cache

import numpy as np

from advbench.detectors.base import BaseDetector
from advbench.detectors.feature_params import check_feature_params
from advbench.detectors.preprocessing import PixelFeatures

PREFIX = "pyod:"
INSTALL_HINT = 'PyOD is not installed: pip install "advbench[pyod]"'
#: Our feature parameters and their defaults (a PyOD parameter of the same name would clash).
FEATURE_DEFAULTS = {"gcn": False, "scaling": "minmax", "pca": None, "random_state": None}


def _pyod():
    try:
        return importlib.import_module("pyod.models")
    except ImportError:
        raise ValueError(INSTALL_HINT) from None


def _model_class(name: str) -> type:
    """The PyOD class ``name``: from ``pyod.models.<name in lower case>``, else found among all models."""
    _pyod()
    try:
        module = importlib.import_module(f"pyod.models.{name.lower()}")
        if isinstance(getattr(module, name, None), type):
            return getattr(module, name)
    except ImportError:
        pass
    found = available().get(name)
    if found is None:
        raise ValueError(
            f"no PyOD model {name!r} in PyOD {getattr(importlib.import_module('pyod'), '__version__', '?')} "
            f"(`advbench list --pyod` lists them; names are case-sensitive)"
        )
    return getattr(importlib.import_module(found), name)


@lru_cache(maxsize=1)
def available() -> dict[str, str]:
    """PyOD model class name -> module, for every model module that imports in this environment."""
    models = _pyod()
    base = importlib.import_module("pyod.models.base").BaseDetector
    out = {}
    for info in pkgutil.iter_modules(models.__path__):
        try:
            with contextlib.redirect_stdout(io.StringIO()):  # some print install hints for optional packages
                module = importlib.import_module(f"pyod.models.{info.name}")
        except Exception:  # models needing packages that are not installed (tensorflow, xgboost, ...)
            continue
        for attr, value in vars(module).items():
            concrete = isinstance(value, type) and issubclass(value, base) and not attr.startswith("Base")
            if concrete and value.__module__ == module.__name__:
                out.setdefault(attr, module.__name__)
    return dict(sorted(out.items()))


class PyODDetector(BaseDetector):
    """Base of the classes ``detector_class`` builds; ``model_class`` and ``model_params`` are set there."""

    model_class: type = None
    model_params: tuple[str, ...] = ()

    def _check_params(self):
        check_feature_params(self)

    def _model(self):
        params = {name: getattr(self, name) for name in self.model_params}
        if "random_state" in inspect.signature(self.model_class.__init__).parameters:
            params["random_state"] = self.random_state
        return self.model_class(**params)

    def _fit(self, X):
        self.features_ = PixelFeatures(self.gcn, self.scaling, self.pca, self.random_state)
        Z = self.features_.fit_transform(X)
        if self.random_state is not None:
            np.random.seed(int(self.random_state) % 2**32)
        self.model_ = self._model().fit(Z)

    def _score(self, X):
        return self.model_.decision_function(self.features_.transform(X))


@cache
def detector_class(name: str) -> type[PyODDetector]:
    """The detector class of ``pyod:<name>`` (ValueError when PyOD or the model is missing)."""
    model = _model_class(name)
    signature = inspect.signature(model.__init__)
    model_params = [
        p
        for p in signature.parameters.values()
        if p.name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD) and p.name not in FEATURE_DEFAULTS
    ]
    defaults = {p.name: p.default for p in model_params} | FEATURE_DEFAULTS

    def __init__(self, **params):
        unknown = sorted(set(params) - set(defaults))
        if unknown:
            raise TypeError(f"{PREFIX}{name} got unknown parameter(s) {unknown}")
        for key, default in defaults.items():
            setattr(self, key, params.get(key, default))

    parameters = [inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
    parameters += [
        inspect.Parameter(key, inspect.Parameter.KEYWORD_ONLY, default=value) for key, value in defaults.items()
    ]
    __init__.__signature__ = inspect.Signature(parameters)
    summary = (inspect.getdoc(model) or "").split("\n\n")[0].replace("\n", " ")
    return type(
        f"PyOD{name}",
        (PyODDetector,),
        {
            "__init__": __init__,
            "__module__": __name__,
            "model_class": model,
            "model_params": tuple(p.name for p in model_params),
            "description": f"PyOD {name} on pixels (min-max): {summary[:70]}",
        },
    )

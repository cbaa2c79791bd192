"""Config structs as keyword arguments and dicts.

A ConfigSpec lists a model's Python-side fields and the C fields each one
stands for: a hidden-layer tuple stands for a count and an array, a string
for an enum value, the optimizer for an embedded gm_optimizer_config. The
fields come from the library's description of its config
(gm_config_field_get), by fixed rules; the defaults always come from the
library's _config_init; a keyword argument overrides only its own field.
"""
from __future__ import annotations

import ctypes
from typing import Any, Callable, Iterable, TypeVar, Union

import numpy as np

from ._convert import float32, int32, uint64
from ._lib import OPTIMIZERS, config_fields

# how a value is checked for each C field type
_CONVERT: dict[Any, Callable[[Any, str], Union[int, float]]] = {ctypes.c_int32: int32, ctypes.c_uint64: uint64, ctypes.c_float: float32}


S = TypeVar("S", bound=ctypes.Structure)


def init_struct(struct_type: type[S], init_size: Callable[..., None]) -> S:
    """A size-first struct (a config, gm_checkpoint_info) filled by the
    library's _init_size function for the size this binding's mirror has:
    the library writes no further, and gives the fields the mirror lacks
    their defaults when the struct comes back to it."""
    filled = struct_type()
    init_size(ctypes.byref(filled), ctypes.sizeof(struct_type))
    return filled


def _shortest(value: Any) -> Any:
    """A float field's value as the shortest decimal that gives the same
    float32 (0.01, not 0.009999999776482582); other values unchanged."""
    return float(str(np.float32(value))) if isinstance(value, float) else value


def _sequence(value: Any, name: str, what: str) -> tuple[Any, ...]:
    """value as a tuple; TypeError naming the field for a non-sequence (a
    string too, whose characters would pass for items)."""
    if not isinstance(value, (str, bytes)):
        try:
            return tuple(value)
        except TypeError:
            pass
    raise TypeError(f"{name} must be a sequence of {what}, got {type(value).__name__}")


def _leaf(cfg: Any, path: str) -> tuple[Any, str]:
    """(struct, field name) of a dotted C path such as 'gen_optim.lr'."""
    *parents, name = path.split(".")
    for parent in parents:
        cfg = getattr(cfg, parent)
    return cfg, name


class Scalar:
    """A number stored as is: int32_t, uint64_t or float, checked to fit."""

    def __init__(self, name: str, path: str = "") -> None:
        self.name, self.path = name, path or name

    def get(self, cfg: ctypes.Structure) -> Any:
        """The field's value in cfg."""
        struct, field = _leaf(cfg, self.path)
        return _shortest(getattr(struct, field))

    def set(self, cfg: ctypes.Structure, value: Any) -> None:
        """Check value and store it in cfg."""
        struct, field = _leaf(cfg, self.path)
        setattr(struct, field, _CONVERT[dict(struct._fields_)[field]](value, self.name))


class Choice(Scalar):
    """An enum, named by a string ('relu', 'bernoulli', 'wgan-gp')."""

    def __init__(self, name: str, choices: dict[str, int], path: str = "") -> None:
        super().__init__(name, path)
        self.choices = choices

    def get(self, cfg: ctypes.Structure) -> Any:
        value = super().get(cfg)
        return next((k for k, v in self.choices.items() if v == value), value)

    def set(self, cfg: ctypes.Structure, value: Any) -> None:
        if not isinstance(value, str):
            raise TypeError(f"{self.name} must be a string, one of {', '.join(map(repr, self.choices))}; "
                            f"got {type(value).__name__}")
        if value not in self.choices:
            raise ValueError(f"{self.name} must be one of {', '.join(map(repr, self.choices))}, got {value!r}")
        super().set(cfg, self.choices[value])


class Hidden:
    """Hidden-layer widths: a tuple for a count field and an array field."""

    def __init__(self, name: str, count_path: str, widths_path: str) -> None:
        self.name, self.count_path, self.widths_path = name, count_path, widths_path

    def get(self, cfg: ctypes.Structure) -> tuple[int, ...]:
        """The widths in use."""
        return tuple(getattr(cfg, self.widths_path)[:getattr(cfg, self.count_path)])

    def set(self, cfg: ctypes.Structure, widths: Any) -> None:
        """Check the widths and store them and their count in cfg."""
        widths = _sequence(widths, self.name, "widths")
        array = getattr(cfg, self.widths_path)
        if len(widths) > len(array):
            raise ValueError(f"{self.name}: at most {len(array)} hidden layers, got {len(widths)}")
        setattr(cfg, self.count_path, len(widths))
        for i in range(len(array)):  # unused slots are zero, as in C
            array[i] = int32(widths[i], f"{self.name}[{i}]") if i < len(widths) else 0


class Betas:
    """Adam's (beta1, beta2) pair."""

    def __init__(self, name: str, optim_path: str) -> None:
        self.name = name
        self._pair = (Scalar(f"{name}[0]", optim_path + ".beta1"), Scalar(f"{name}[1]", optim_path + ".beta2"))

    def get(self, cfg: ctypes.Structure) -> tuple[float, ...]:
        """(beta1, beta2)."""
        return tuple(beta.get(cfg) for beta in self._pair)

    def set(self, cfg: ctypes.Structure, betas: Any) -> None:
        """Check the pair and store it in cfg."""
        betas = _sequence(betas, self.name, "two numbers")
        if len(betas) != 2:
            raise ValueError(f"{self.name} must be a pair (beta1, beta2), got {betas!r}")
        for beta, value in zip(self._pair, betas):
            beta.set(cfg, value)


Field = Union[Scalar, Hidden, Betas]


def optimizer_fields(prefix: str, path: str) -> list[Field]:
    """The Python fields of an embedded gm_optimizer_config: optimizer ('adam'
    or 'adamw'), lr, betas, eps, weight_decay, each with a name prefix."""
    return [
        Choice(prefix + "optimizer", OPTIMIZERS, path + ".kind"),
        Scalar(prefix + "lr", path + ".lr"),
        Betas(prefix + "betas", path),
        Scalar(prefix + "eps", path + ".eps"),
        Scalar(prefix + "weight_decay", path + ".weight_decay"),
    ]


class ConfigSpec:
    """How one model's config struct maps to keyword arguments."""

    def __init__(self, struct_type: type[ctypes.Structure], init: Callable[..., None],
                 fields: Iterable[Field]) -> None:
        self.struct_type, self._init = struct_type, init
        self.fields = {f.name: f for f in fields}

    def defaults(self) -> Any:
        """A struct holding the library's defaults."""
        return init_struct(self.struct_type, self._init)

    def build(self, owner: str, kwargs: dict[str, Any]) -> Any:
        """The defaults with kwargs applied; TypeError for an unknown name."""
        cfg = self.defaults()
        for name, value in kwargs.items():
            field = self.fields.get(name)
            if field is None:
                raise TypeError(f"{owner}() got an unexpected keyword argument {name!r}")
            field.set(cfg, value)
        return cfg

    def to_dict(self, cfg: ctypes.Structure) -> dict[str, Any]:
        """Every field by its Python name: the keyword arguments that would
        build this config again."""
        return {name: field.get(cfg) for name, field in self.fields.items()}


def _optimizer_prefix(parent: str) -> str:
    """'optim' -> '', 'gen_optim' -> 'gen_': the Python names of an embedded
    optimizer's fields."""
    return parent[:-len("optim")] if parent.endswith("optim") else parent + "_"


def library_fields(kind: int) -> list[Field]:
    """The Python fields of a kind's config, from the library's description:
    an array with a length field is one tuple (its length field goes with
    it), an enum a Choice of its names, an embedded optimizer the fields of
    optimizer_fields, anything else a Scalar; all in the struct's order."""
    described = config_fields(kind)
    lengths = {f.length_of.decode() for f in described if f.length_of}
    fields: list[Field] = []
    optimizers: set[str] = set()
    for f in described:
        name = f.name.decode()
        parent, _, leaf = name.rpartition(".")
        if name in lengths:
            continue
        if parent:
            if parent not in optimizers:
                optimizers.add(parent)
                fields += optimizer_fields(_optimizer_prefix(parent), parent)
        elif f.length_of:
            fields.append(Hidden(name, f.length_of.decode(), name))
        elif f.choices:
            fields.append(Choice(name, {c: i for i, c in enumerate(f.choices.decode().split(","))}))
        else:
            fields.append(Scalar(name))
    return fields

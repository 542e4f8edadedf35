"""A small UCUM unit algebra for FHIRPath quantities: enough to compare, multiply and divide
quantities whose units are products of common UCUM units (FHIRPath §6.1 Quantity equality, §6.6
multiplication and division of quantities).

A unit such as ``kg.m/s2`` is read left to right as terms joined by ``.`` (multiply) and ``/``
(divide), each term an atom with an optional metric prefix and an integer exponent; ``{...}``
annotations count as 1. A unit is reduced to a factor and the exponents of the base dimensions
(length, mass, time, amount); two quantities are comparable when their dimensions agree. Atoms
outside the table make a unit unknown (None): then nothing is claimed about it.
"""

from __future__ import annotations

import re
from decimal import Decimal
from functools import lru_cache

Dims = tuple[int, int, int, int]  # L, M, T, N
_ONE: Dims = (0, 0, 0, 0)

# atom -> (factor to the base unit, dimensions); base units m, g, s, mol.
_ATOMS: dict[str, tuple[Decimal, Dims]] = {
    "1": (Decimal(1), _ONE),
    "%": (Decimal("0.01"), _ONE),
    "m": (Decimal(1), (1, 0, 0, 0)),
    "g": (Decimal(1), (0, 1, 0, 0)),
    "s": (Decimal(1), (0, 0, 1, 0)),
    "mol": (Decimal(1), (0, 0, 0, 1)),
    "L": (Decimal("0.001"), (3, 0, 0, 0)),
    "l": (Decimal("0.001"), (3, 0, 0, 0)),
    "min": (Decimal(60), (0, 0, 1, 0)),
    "h": (Decimal(3600), (0, 0, 1, 0)),
    "d": (Decimal(86400), (0, 0, 1, 0)),
    "wk": (Decimal(604800), (0, 0, 1, 0)),
    "mo": (Decimal(2629800), (0, 0, 1, 0)),  # mean Julian month
    "a": (Decimal(31557600), (0, 0, 1, 0)),  # mean Julian year
    "[in_i]": (Decimal("0.0254"), (1, 0, 0, 0)),
    "[ft_i]": (Decimal("0.3048"), (1, 0, 0, 0)),
    "[yd_i]": (Decimal("0.9144"), (1, 0, 0, 0)),
    "[mi_i]": (Decimal("1609.344"), (1, 0, 0, 0)),
    "[lb_av]": (Decimal("453.59237"), (0, 1, 0, 0)),
    "[oz_av]": (Decimal("28.349523125"), (0, 1, 0, 0)),
}
_PREFIXES: dict[str, Decimal] = {
    "Y": Decimal("1e24"), "Z": Decimal("1e21"), "E": Decimal("1e18"), "P": Decimal("1e15"),
    "T": Decimal("1e12"), "G": Decimal("1e9"), "M": Decimal("1e6"), "k": Decimal("1e3"),
    "h": Decimal("1e2"), "da": Decimal("1e1"), "d": Decimal("1e-1"), "c": Decimal("1e-2"),
    "m": Decimal("1e-3"), "u": Decimal("1e-6"), "n": Decimal("1e-9"), "p": Decimal("1e-12"),
    "f": Decimal("1e-15"),
}  # fmt: skip
_METRIC = frozenset({"m", "g", "s", "mol", "L", "l"})
_TERM = re.compile(r"(\{[^}]*\}|\[[^\]]+\]|[A-Za-z%]+|1)(-?\d+)?")


def _atom(text: str) -> tuple[Decimal, Dims] | None:
    if text.startswith("{"):
        return (Decimal(1), _ONE)
    if text in _ATOMS:
        return _ATOMS[text]
    for p in sorted(_PREFIXES, key=len, reverse=True):
        rest = text[len(p) :]
        if text.startswith(p) and rest in _METRIC:
            f, dims = _ATOMS[rest]
            return (_PREFIXES[p] * f, dims)
    return None


@lru_cache(maxsize=512)
def reduce(unit: str | None) -> tuple[Decimal, Dims] | None:
    """(factor, dimensions) of a UCUM unit (quotes allowed), or None when not understood."""
    u = (unit or "1").strip("'")
    if not u:
        u = "1"
    factor, dims = Decimal(1), [0, 0, 0, 0]
    sign, pos = 1, 0
    if u.startswith("/"):
        sign, pos = -1, 1
    while pos < len(u):
        m = _TERM.match(u, pos)
        if m is None:
            return None
        atom = _atom(m.group(1))
        if atom is None:
            return None
        exp = sign * int(m.group(2) or 1)
        f, d = atom
        factor *= f**exp
        for i in range(4):
            dims[i] += d[i] * exp
        pos = m.end()
        if pos < len(u):
            if u[pos] not in "./":
                return None
            sign = 1 if u[pos] == "." else -1
            pos += 1
    return factor, (dims[0], dims[1], dims[2], dims[3])


def canonical(value: Decimal, unit: str | None) -> tuple[Decimal, Dims] | None:
    r = reduce(unit)
    return None if r is None else (value * r[0], r[1])


def product_unit(a: str | None, b: str | None, divide: bool) -> str:
    """The unit of a product or quotient, written as UCUM (``cm.m``, ``g/m``)."""
    ua, ub = (a or "1").strip("'"), (b or "1").strip("'")
    if divide:  # a / (b.c/d) = a/b/c.d: the divisor's operators flip
        return ua if ub == "1" else ua + "/" + ub.translate(str.maketrans("./", "/."))
    if ua == "1":
        return ub
    return ua if ub == "1" else f"{ua}.{ub}"

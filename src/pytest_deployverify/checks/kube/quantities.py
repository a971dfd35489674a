"""Kubernetes resource quantities (``100m``, ``1``, ``512Mi``, ``1e3``, ``2k``) as exact numbers.

The grammar is the API's: an optionally signed decimal, then one suffix at most: a binary SI suffix
(``Ki`` .. ``Ei``), a decimal SI suffix (``n u m "" k M G T P E``) or a decimal exponent (``e3``,
``E-2``). ``Decimal`` keeps ``100m`` exact, so comparisons never suffer from float rounding.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

_BINARY = {"Ki": 1, "Mi": 2, "Gi": 3, "Ti": 4, "Pi": 5, "Ei": 6}
_DECIMAL = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
_QUANTITY = re.compile(r"^(?P<number>[+-]?(?:\d+(?:\.\d*)?|\.\d+))(?P<suffix>.*)$")
_EXPONENT = re.compile(r"^[eE](?P<exp>[+-]?\d+)$")


def parse_quantity(value: str | int | float | Decimal) -> Decimal:
    """The quantity as a number of base units (cores, bytes); ``ValueError`` names a bad input."""
    if isinstance(value, bool):
        raise ValueError(f"not a Kubernetes quantity: {value!r}")
    if isinstance(value, int | Decimal):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value))  # repr keeps 0.1 as 0.1, not its binary approximation
    text = value.strip()
    match = _QUANTITY.match(text)
    if not match:
        raise ValueError(f"not a Kubernetes quantity: {value!r} (expected e.g. 100m, 1, 512Mi)")
    try:
        number = Decimal(match["number"])
    except InvalidOperation:  # pragma: no cover - the regex admits only valid decimals
        raise ValueError(f"not a Kubernetes quantity: {value!r}") from None
    suffix = match["suffix"]
    if suffix in _BINARY:
        return number * (Decimal(1024) ** _BINARY[suffix])
    if suffix in _DECIMAL:
        return number.scaleb(_DECIMAL[suffix])
    exponent = _EXPONENT.match(suffix)
    if exponent:
        return number.scaleb(int(exponent["exp"]))
    raise ValueError(
        f"not a Kubernetes quantity: {value!r} (unknown suffix {suffix!r}; use one of "
        "Ki Mi Gi Ti Pi Ei, n u m k M G T P E, or an exponent such as e3)"
    )


def try_parse_quantity(value: object) -> Decimal | None:
    """``parse_quantity`` for data read from the cluster: ``None`` instead of an exception."""
    if not isinstance(value, str | int | float | Decimal) or isinstance(value, bool):
        return None
    try:
        return parse_quantity(value)
    except ValueError:
        return None


def format_cpu(cores: Decimal) -> str:
    """Cores as millicores when fractional (``250m``), else whole cores (``2``)."""
    if cores == cores.to_integral_value():
        return str(int(cores))
    return f"{int((cores * 1000).to_integral_value())}m"


def format_bytes(size: Decimal) -> str:
    """Bytes in the largest binary unit that keeps one decimal (``1.5Gi``)."""
    value = float(size)
    for unit in ("", "Ki", "Mi", "Gi", "Ti", "Pi"):
        if abs(value) < 1024 or unit == "Pi":
            return f"{value:.0f}{unit}" if unit == "" else f"{value:.1f}{unit}"
        value /= 1024
    return f"{value:.1f}Ei"  # pragma: no cover - the loop returns at Pi

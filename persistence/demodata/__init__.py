"""Deterministic demo/benchmark dataset for the patient portal (standard library only).

Typical use::

    from persistence.demodata import generate, check_dataset
    manifest = generate("data/", patients=1000, seed=1)
    assert check_dataset("data/") == []

From the command line: ``python -m persistence.demodata --patients 1000 --out data/portal``.
See README.md in this package for the file format.
"""

from .check import check_dataset
from .generator import (
    DEFAULT_NOW,
    DEFAULT_SEED,
    DEMO_PASSWORD,
    FORMAT_VERSION,
    KINDS,
    Generator,
    generate,
)

__all__ = [
    "DEFAULT_NOW",
    "DEFAULT_SEED",
    "DEMO_PASSWORD",
    "FORMAT_VERSION",
    "KINDS",
    "Generator",
    "check_dataset",
    "generate",
]

"""The demo data set: the committed file for scale 1, the generator beyond it."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

from seed.generator import DEFAULT_SEED, DEMO_PATH, generate_semester
from seed.truth import GroundTruth


def demo_path() -> Path:
    """seed/data/semester.jsonl.gz: one envelope per line, in arrival order."""
    return DEMO_PATH


def iter_demo_envelopes(scale: int = 1) -> Iterator[dict[str, Any]]:
    """The demo envelopes in arrival order. Scale 1 streams the committed file (it
    equals `generate_semester(DEFAULT_SEED, 1)`); larger scales are generated here."""
    if scale < 1:
        raise ValueError(f"scale must be >= 1, got {scale}")
    if scale > 1:
        yield from generate_semester(DEFAULT_SEED, scale).envelopes
        return
    with gzip.open(demo_path(), "rt", encoding="utf-8") as lines:
        for line in lines:
            if line.strip():
                yield json.loads(line)


@cache
def demo_truth(scale: int = 1) -> GroundTruth:
    """What the demo data set means (generated once per process: about a second)."""
    return generate_semester(DEFAULT_SEED, scale).truth

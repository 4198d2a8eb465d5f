"""The committed demo file and its loader."""

from __future__ import annotations

import gzip
import itertools
from types import SimpleNamespace

import pytest

import seed.loader
from seed.generator import DEFAULT_SEED, Semester, envelopes_to_jsonl
from seed.loader import demo_path, demo_truth, iter_demo_envelopes


def test_the_committed_file_equals_a_fresh_generation(semester: Semester) -> None:
    assert semester.seed == DEFAULT_SEED
    assert gzip.decompress(demo_path().read_bytes()) == envelopes_to_jsonl(semester.envelopes), (
        "seed/data/semester.jsonl.gz is stale: run `python -m seed.generator --write`"
    )


def test_the_committed_file_is_small_and_reproducible() -> None:
    raw = demo_path().read_bytes()
    assert len(raw) < 5_000_000
    # gzip header: magic, deflate, no flags (no file name), mtime 0.
    assert raw[:8] == b"\x1f\x8b\x08\x00\x00\x00\x00\x00"


def test_loader_streams_the_file_in_arrival_order(semester: Semester) -> None:
    assert demo_path().name == "semester.jsonl.gz"
    assert demo_path().parent.name == "data"
    first_three = list(itertools.islice(iter_demo_envelopes(), 3))
    assert first_three == semester.envelopes[:3]
    assert sum(1 for _ in iter_demo_envelopes()) == len(semester.envelopes) == 12164


def test_loader_generates_larger_scales_on_demand(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[int, int]] = []

    def fake_generate(seed: int, scale: int) -> SimpleNamespace:
        calls.append((seed, scale))
        return SimpleNamespace(envelopes=[{"data": []}, {"data": []}])

    # Generating scale 2 for real takes seconds; test_generator covers what it holds.
    monkeypatch.setattr(seed.loader, "generate_semester", fake_generate)
    envelopes = iter_demo_envelopes(scale=2)
    assert calls == []  # nothing happens until the first envelope is asked for
    assert list(envelopes) == [{"data": []}, {"data": []}]
    assert calls == [(DEFAULT_SEED, 2)]
    with pytest.raises(ValueError, match="scale"):
        next(iter_demo_envelopes(scale=0))


def test_demo_truth_is_the_truth_of_the_file(semester: Semester) -> None:
    assert demo_truth().counts == semester.truth.counts
    assert demo_truth() is demo_truth()  # generated once per process

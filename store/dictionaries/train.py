"""Train the zstd dictionary the store compresses raw events with.

    python -m store.dictionaries.train 2     # writes store/dictionaries/2.zdict

Samples: every event of the seed semester (Caliper 1.0 and 1.1, as Learn sends them)
and of bench/coursegen.py's semester, each in its stored form (canonical.dumps). A
dictionary, once shipped, is never changed: rows name theirs by id (store.codec), so a
better one is a new file under a new id, and store.codec.CURRENT moves to it."""

from __future__ import annotations

import argparse
import random
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

from app.caliper.canonical import dumps
from store.codec import DICTIONARY_FOLDER, dictionary_path, zstd

DICTIONARY_BYTES = 64 * 1024
SAMPLES = 40_000


def seed_events() -> Iterator[bytes]:
    from seed.loader import iter_demo_envelopes

    for envelope in iter_demo_envelopes():
        for item in envelope.get("data", []):
            yield dumps(item)


def generated_events(count: int) -> Iterator[bytes]:
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from bench.coursegen import semester

    for event in semester(count, big_course=False).events():
        yield dumps(event)


def training_samples(limit: int = SAMPLES) -> list[bytes]:
    samples = list(seed_events()) + list(generated_events(limit))
    random.Random(1).shuffle(samples)
    return samples[:limit]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("id", type=int, help="the new dictionary's id (>= 1, not shipped yet)")
    args = parser.parse_args(argv)
    path = dictionary_path(args.id)
    if args.id < 1 or path.exists():
        parser.error(f"{path} exists or the id is not >= 1: dictionaries are never replaced")
    samples = training_samples()
    trained = zstd.train_dict(samples, DICTIONARY_BYTES)
    DICTIONARY_FOLDER.mkdir(exist_ok=True)
    path.write_bytes(trained.dict_content)
    plain = sum(len(sample) for sample in samples)
    packed = sum(
        len(zstd.compress(sample, level=3, zstd_dict=trained)) for sample in samples[:5000]
    )
    share = packed / sum(len(sample) for sample in samples[:5000])
    print(f"{path.name}: {len(trained.dict_content)} bytes from {len(samples)} events ")
    print(f"({plain / len(samples):.0f} bytes each); compressed to {share:.1%} of their size")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

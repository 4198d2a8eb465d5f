"""How raw JSON is stored: zstd with a dictionary trained on Caliper events.

Every stored row names its codec (a small int), so that a better dictionary can come
later without rewriting the log: 0 is the UTF-8 text itself, N > 0 is zstd with the
shipped dictionary store/dictionaries/N.zdict. Dictionaries are never changed once
shipped; new rows use CURRENT."""

from __future__ import annotations

import functools
import sys
from pathlib import Path

if sys.version_info >= (3, 14):
    from compression import zstd
else:
    from backports import zstd

__all__ = ["CURRENT", "PLAIN", "UnknownCodec", "decode", "dictionary_path", "encode", "zstd"]

PLAIN = 0
CURRENT = 1
# Level 3 (zstd's default): with a dictionary, higher levels save ~2% for ~3x the time.
LEVEL = 3
DICTIONARY_FOLDER = Path(__file__).parent / "dictionaries"


class UnknownCodec(ValueError):
    """A row names a codec this version does not ship (a newer coursegraph wrote it)."""


def dictionary_path(codec: int) -> Path:
    return DICTIONARY_FOLDER / f"{codec}.zdict"


@functools.cache
def _dictionary(codec: int) -> zstd.ZstdDict:
    path = dictionary_path(codec)
    if codec < 1 or not path.is_file():
        raise UnknownCodec(f"codec {codec}: no dictionary {path.name} in this version")
    return zstd.ZstdDict(path.read_bytes())


@functools.cache
def _compressor(codec: int) -> zstd.ZstdCompressor:
    return zstd.ZstdCompressor(level=LEVEL, zstd_dict=_dictionary(codec))


def encode(raw: bytes) -> tuple[int, bytes]:
    """(codec, blob) of raw JSON bytes, with the current dictionary."""
    # ZstdCompressor keeps no state between FLUSH_FRAME calls: one frame per row.
    return CURRENT, _compressor(CURRENT).compress(raw, zstd.ZstdCompressor.FLUSH_FRAME)


def decode(codec: int, blob: bytes) -> bytes:
    """The raw bytes a row holds, exactly as encode was given them."""
    if codec == PLAIN:
        return bytes(blob)
    return zstd.decompress(blob, zstd_dict=_dictionary(codec))

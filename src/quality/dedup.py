"""Exact and near-duplicate removal: normalised-text hashes plus MinHash/LSH.

A sample's text is its question and answer (all turns), lower-cased with punctuation and spacing
removed. Exact duplicates share a hash of that text. Near duplicates are found with MinHash over
word pairs and an LSH index, so each sample is compared only with the few candidates of its LSH
buckets (linear, never pairwise); a candidate counts when the exact Jaccard similarity of the two
word-pair sets reaches the threshold (candidates far under it by their MinHash estimate are skipped
first). Shingles are hashed with CRC32: as accurate as SHA-1 for MinHash here, and 10x faster.

The MinHash signatures are datasketch's (2.0, its default "affine32" permutations, seed 1: the
same values, tests/test_dedup.py compares them) and so is the choice of bands and rows (the
weighted false positive and negative probabilities it minimises, integrated here with numpy).
datasketch itself is not imported: its package loads scipy (~40 MB of every run's memory) for
that one integral.

Samples are visited best first (accepted before rejected, then by overall score), so the kept one
of a group is the higher-scoring. Samples already stored for the dataset (`existing`) are never
displaced: they may already be exported, so a new sample that repeats one is the one dropped.
"""

from __future__ import annotations

import hashlib
import re
import zlib
from collections.abc import Iterable, Iterator, Sequence
from functools import lru_cache

import numpy as np

from src.models import Example

NUM_PERM = 128
# The LSH index looks for candidates below the threshold and favours recall: datasketch's balanced
# default misses about 60% of pairs right at the threshold (these settings: about 5%). Candidates
# are then checked with their exact Jaccard similarity, so a false candidate costs one comparison.
LSH_MARGIN = 0.1
LSH_WEIGHTS = (0.3, 0.7)  # (false positive, false negative)
INTEGRATION_POINTS = 2001  # trapezoid rule on this grid (differs from adaptive quadrature by < 1e-6)
ESTIMATE_MARGIN = 0.1  # candidates whose MinHash estimate is this far under the threshold are skipped
_WORD_RE = re.compile(r"\w+")
_KEY_MASK = (1 << 63) - 1


def normalise(text: str) -> str:
    """Lower case, words only, single spaces: the text exact duplicates are compared on."""
    return " ".join(_WORD_RE.findall(text.lower()))


def _digest(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).hexdigest()


def _shingles(normalised: str) -> list[bytes]:
    words = normalised.encode("utf-8").split()
    if len(words) < 2:
        return words
    return [b" ".join(pair) for pair in zip(words, words[1:])]


def jaccard(left: set[bytes], right: set[bytes]) -> float:
    """Exact Jaccard similarity of two shingle sets."""
    union = len(left | right)
    return len(left & right) / union if union else 1.0


_SEED = 1  # datasketch's default
_EMPTY = np.uint32(0xFFFFFFFF)  # the signature of an empty set


def _permutations(num_perm: int = NUM_PERM) -> tuple[np.ndarray, np.ndarray]:
    """datasketch's affine32 permutations h -> a * h + b (mod 2^32, a odd)."""
    gen = np.random.RandomState(_SEED)
    a = gen.randint(0, 1 << 31, num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    return a, gen.randint(0, 1 << 32, num_perm, dtype=np.uint32)


_A, _B = _permutations()


def _fmix32(hv: np.ndarray) -> np.ndarray:
    """The MurmurHash3 finalizer (a bijection on 32 bits) that premixes every shingle hash."""
    hv = hv ^ (hv >> np.uint32(16))
    hv = hv * np.uint32(0x85EBCA6B)
    hv = hv ^ (hv >> np.uint32(13))
    hv = hv * np.uint32(0xC2B2AE35)
    return hv ^ (hv >> np.uint32(16))


def signature(shingles: list[bytes]) -> np.ndarray:
    """The MinHash signature (NUM_PERM values) of a set of shingles."""
    if not shingles:
        return np.full(NUM_PERM, _EMPTY, dtype=np.uint32)
    hv = _fmix32(np.array([zlib.crc32(s) for s in shingles], dtype=np.uint32).reshape(-1, 1))
    return (hv * _A + _B).min(axis=0)


def _minhashes(texts: Iterable[str]) -> Iterator[np.ndarray]:
    """Signatures of texts, one at a time: the shingles of 100,000 texts at once took ~350 MB."""
    return (signature(_shingles(t)) for t in texts)


@lru_cache(maxsize=16)
def optimal_bands(threshold: float, num_perm: int = NUM_PERM,
                  weights: tuple[float, float] = LSH_WEIGHTS) -> tuple[int, int]:
    """(bands, rows) minimising the weighted chance of false positives below `threshold` and
    false negatives above it (datasketch's MinHashLSH choice)."""
    best, choice = float("inf"), (0, 0)
    for bands in range(1, num_perm + 1):
        for rows in range(1, num_perm // bands + 1):
            error = (_area(threshold, bands, rows, 0.0, threshold) * weights[0]
                     + (1 - threshold - _area(threshold, bands, rows, threshold, 1.0)) * weights[1])
            if error < best:
                best, choice = error, (bands, rows)
    return choice


def _area(threshold: float, bands: int, rows: int, low: float, high: float) -> float:
    """Integral over [low, high] of the chance that two sets of similarity s share a band."""
    s = np.linspace(low, high, INTEGRATION_POINTS)
    return float(np.trapezoid(1 - (1 - s ** rows) ** bands, s))


class _Bands:
    """The LSH buckets of the rows kept so far, in numpy: per band an open-addressing table from
    the band's hash to the last row that fell in that bucket, earlier rows of the bucket chained
    through `chain`. About 30 bytes per row and band, where datasketch's MinHashLSH (a dict of sets
    per band) took ~350, i.e. 350 MB for 60,000 samples; its banding (b, r) is kept."""

    def __init__(self, threshold: float):
        self.bands, self.width = optimal_bands(round(threshold, 6))
        self.keys = np.zeros((self.bands, 1024), dtype=np.uint64)  # 0: empty slot
        self.heads = np.zeros((self.bands, 1024), dtype=np.int64)
        self.chain = np.zeros((self.bands, 1024), dtype=np.int64)  # -1 ends a bucket
        self.rows = 0

    def _band_keys(self, hashvalues: np.ndarray) -> list[int]:
        w = self.width
        return [hash(hashvalues[i * w:(i + 1) * w].tobytes()) & _KEY_MASK | 1
                for i in range(self.bands)]

    def _slot(self, band: int, key: int) -> int:
        keys, mask = self.keys[band], self.keys.shape[1] - 1
        slot = key & mask
        while keys[slot] and keys[slot] != key:
            slot = (slot + 1) & mask
        return slot

    def query(self, hashvalues: np.ndarray) -> set[int]:
        """Rows sharing at least one band with these hash values."""
        found: set[int] = set()
        for band, key in enumerate(self._band_keys(hashvalues)):
            slot = self._slot(band, key)
            row = int(self.heads[band, slot]) if self.keys[band, slot] else -1
            while row >= 0:
                found.add(row)
                row = int(self.chain[band, row])
        return found

    def insert(self, hashvalues: np.ndarray) -> None:
        """Add the next row (rows are numbered 0, 1, 2... in insertion order)."""
        if 2 * (self.rows + 1) > self.keys.shape[1]:
            self._grow()
        if self.rows == self.chain.shape[1]:
            self.chain = np.concatenate([self.chain, np.empty_like(self.chain)], axis=1)
        row = self.rows
        for band, key in enumerate(self._band_keys(hashvalues)):
            slot = self._slot(band, key)
            self.chain[band, row] = self.heads[band, slot] if self.keys[band, slot] else -1
            self.keys[band, slot], self.heads[band, slot] = key, row
        self.rows += 1

    def _grow(self) -> None:
        old_keys, old_heads = self.keys, self.heads
        self.keys = np.zeros((self.bands, 2 * old_keys.shape[1]), dtype=np.uint64)
        self.heads = np.zeros_like(self.keys, dtype=np.int64)
        for band in range(self.bands):
            for slot in np.flatnonzero(old_keys[band]):
                key = int(old_keys[band, slot])
                new = self._slot(band, key)
                self.keys[band, new], self.heads[band, new] = key, old_heads[band, slot]


class _Index:
    """Exact hashes and an LSH index of the texts kept so far (LSH keys are row numbers)."""

    def __init__(self, threshold: float):
        self.threshold = threshold
        self.lsh = _Bands(max(0.1, threshold - LSH_MARGIN))
        self.exact: dict[str, str] = {}
        self.keys: list[str] = []
        self.texts: list[str] = []
        self.signatures = np.zeros((0, NUM_PERM), dtype=np.uint64)

    def match(self, normalised: str, minhash: np.ndarray) -> str | None:
        """The key of a kept text this one duplicates, or None."""
        known = self.exact.get(_digest(normalised))
        if known is not None or not normalised:
            return known
        shingles = set(_shingles(normalised))  # once, not once per candidate
        for row in self.candidates(minhash):
            if jaccard(shingles, set(_shingles(self.texts[row]))) >= self.threshold:
                return self.keys[row]
        return None

    def candidates(self, minhash: np.ndarray) -> list[int]:
        """Rows from the LSH buckets whose MinHash estimate is near enough to check exactly."""
        rows = np.fromiter(self.lsh.query(minhash), dtype=np.int64)
        if not rows.size:
            return []
        agree = np.count_nonzero(self.signatures[rows] == minhash, axis=1)
        return rows[agree >= (self.threshold - ESTIMATE_MARGIN) * NUM_PERM].tolist()

    def add(self, key: str, normalised: str, minhash: np.ndarray) -> None:
        self.exact.setdefault(_digest(normalised), key)
        if not normalised:
            return
        row = len(self.keys)
        if row == len(self.signatures):  # grow by doubling, in the dtype of the hash values
            grown = np.zeros((max(1024, 2 * row), NUM_PERM), dtype=minhash.dtype)
            grown[:row] = self.signatures
            self.signatures = grown
        self.signatures[row] = minhash
        self.lsh.insert(minhash)
        self.keys.append(key)
        self.texts.append(normalised)


def _rank(example: Example) -> tuple[bool, float]:
    return (example.rejected, -example.scores.get("overall", 0.0))


def deduplicate(examples: list[Example], threshold: float,
                existing: Sequence[Example] = ()) -> tuple[list[Example], list[Example]]:
    """(kept, dropped): dropped ones get reason "duplicate" and a note naming the kept id."""
    return Deduplicator(threshold, existing).add(examples)


class Deduplicator:
    """The index of what a dataset keeps, built once and grown by each batch added (a run that
    adds its samples work item by work item hashes every kept sample once, not once per item)."""

    def __init__(self, threshold: float, existing: Sequence[Example] = ()):
        self.index = _Index(threshold)
        old_texts = [normalise(e.text) for e in existing]
        for example, text, minhash in zip(existing, old_texts, _minhashes(old_texts)):
            self.index.add(example.id, text, minhash)

    def add(self, examples: list[Example]) -> tuple[list[Example], list[Example]]:
        """(kept, dropped) of a new batch, best first; the kept ones join the index."""
        texts = [normalise(e.text) for e in examples]
        order = sorted(range(len(examples)), key=lambda i: _rank(examples[i]))
        dropped_ids: set[str] = set()
        for i, minhash in zip(order, _minhashes(texts[i] for i in order)):
            example = examples[i]
            kept_id = self.index.match(texts[i], minhash)
            if kept_id is None or kept_id == example.id:
                self.index.add(example.id, texts[i], minhash)
                continue
            if "duplicate" not in example.reasons:
                example.reasons.append("duplicate")
            example.notes.append(f"duplicate of {kept_id}")
            dropped_ids.add(example.id)
        kept = [e for e in examples if e.id not in dropped_ids]
        return kept, [e for e in examples if e.id in dropped_ids]


class CrossIndex:
    """Texts to look others up against (exact or near duplicates), indexed once."""

    def __init__(self, texts: Sequence[str], threshold: float):
        self.threshold = threshold
        self._index = _Index(threshold)
        self._by_digest: dict[str, list[int]] = {}
        normalised = [normalise(t) for t in texts]
        for i, (text, minhash) in enumerate(zip(normalised, _minhashes(normalised))):
            self._by_digest.setdefault(_digest(text), []).append(i)
            self._index.add(str(i), text, minhash)

    def matches(self, texts: Sequence[str]) -> list[list[tuple[int, float]]]:
        """For each of `texts`: (row of an indexed text, Jaccard similarity) of its duplicates."""
        normalised = [normalise(t) for t in texts]
        found = []
        for text, minhash in zip(normalised, _minhashes(normalised)):
            hits = {i: 1.0 for i in self._by_digest.get(_digest(text), [])}
            if text:
                shingles = set(_shingles(text))
                for row in self._index.candidates(minhash):
                    similarity = jaccard(shingles, set(_shingles(self._index.texts[row])))
                    if similarity >= self.threshold:
                        hits.setdefault(int(self._index.keys[row]), similarity)
            found.append(sorted(hits.items()))
        return found


def find_cross_duplicates(left: Sequence[str], right: Sequence[str],
                          threshold: float) -> list[tuple[int, int]]:
    """(i, j) for every right[j] that is an exact or near duplicate of left[i], sorted."""
    found = CrossIndex(left, threshold).matches(right)
    return sorted((i, j) for j, hits in enumerate(found) for i, _ in hits)

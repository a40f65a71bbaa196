"""The ``learned`` router: a linear score over hashed n-grams (docs/protocol.md, LEARNED_MODEL).

It decides in microseconds with no network: one regex pass, one CRC32 per distinct n-gram and a
dict lookup per feature. A version-2 model carries several cross-fitted *members*; a prompt is
scored by member ``crc32(prompt) % len(members)``, exactly as the server evaluated it.
"""

from __future__ import annotations

import math
import re
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import pairwise


@dataclass(frozen=True, slots=True)
class Member:
    """One linear model: weights per feature index, a bias and two length weights."""

    weights: dict[int, float]
    bias: float
    log_chars: float
    log_words: float


@dataclass(frozen=True, slots=True)
class LearnedModel:
    """A compiled ``hashed_linear`` model; :meth:`score` is the whole decision."""

    n_buckets: int
    ngrams: tuple[int, ...]
    lowercase: bool
    pattern: re.Pattern[str]
    members: tuple[Member, ...]
    threshold: float
    prefixes: tuple[tuple[int, int], ...]  # (n, crc32(f"{n}:")) so a gram's hash continues from it

    @classmethod
    def build(
        cls,
        *,
        n_buckets: int,
        ngrams: Iterable[int],
        lowercase: bool,
        token_pattern: str,
        members: Iterable[Member],
        threshold: float,
    ) -> LearnedModel:
        ns = tuple(ngrams)
        return cls(
            n_buckets=n_buckets,
            ngrams=ns,
            lowercase=lowercase,
            pattern=re.compile(token_pattern),
            members=tuple(members),
            threshold=threshold,
            prefixes=tuple((n, zlib.crc32(f"{n}:".encode())) for n in ns),
        )

    def member_for(self, text: str) -> Member:
        """The member that scores ``text``: ``crc32(utf-8 text) % members`` (the only one in v1)."""
        members = self.members
        return members[zlib.crc32(text.encode()) % len(members)] if len(members) > 1 else members[0]

    def features(self, text: str) -> tuple[set[int], int]:
        """The set of hashed feature indices of ``text`` and its token count."""
        if self.lowercase:
            text = text.lower()
        tokens = self.pattern.findall(text)
        crc32 = zlib.crc32
        n_buckets = self.n_buckets
        indices: set[int] = set()
        for n, prefix in self.prefixes:
            if n == 1:
                grams: Iterable[str] = set(tokens)
            elif n == 2:
                grams = {f"{a} {b}" for a, b in pairwise(tokens)}
            else:
                grams = {" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1)}
            indices.update([crc32(gram.encode(), prefix) % n_buckets for gram in grams])
        return indices, len(tokens)

    def score(self, text: str) -> float:
        """``bias + Σ weights + log_chars·ln(1+chars) + log_words·ln(1+words)``."""
        indices, n_tokens = self.features(text)
        member = self.member_for(text)
        weights = member.weights  # a few hundred of the prompt's features have one: sum only those
        total = member.bias + math.fsum([weights[i] for i in indices if i in weights])
        return total + member.log_chars * math.log1p(len(text)) + member.log_words * math.log1p(n_tokens)

    def routes_to_target(self, text: str) -> bool:
        """Whether the prompt goes to the target (``score >= threshold``)."""
        return self.score(text) >= self.threshold

    def decide(self, text: str) -> tuple[bool, str | None]:
        """(route to the target?, no reason: this model always decides itself)."""
        return self.score(text) >= self.threshold, None

"""Turning Korean, English and mixed Slack text into match tokens.

Every way of writing a concept (사이드카, side-car, sidecars) becomes its canonical term first, so a
Korean question matches an English body and the reverse. Hangul words then lose their particles
and also yield character bigrams: Korean inflects by gluing endings on (전환하려면, 전환해도), and
bigrams match those forms without a morphological analyser (see benchmarks/compare_tokenizers.py).
"""

from __future__ import annotations

import re
import threading
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import Stemmer

from knowledge.schema import Vocabulary

HANGUL = re.compile(r"[\uac00-\ud7a3\u1100-\u11ff\u3130-\u318f]")
"""Syllables and jamo (ㅋㅋ, ㅠㅠ): any of them makes the question Korean."""
WORD = re.compile(r"[a-z0-9][a-z0-9_.]*[a-z0-9]|[a-z0-9]|[\uac00-\ud7a3]+")
LATIN_EDGE = "a-z0-9"
HYPHENATED = re.compile(r"(?<![a-z0-9.-])[a-z0-9]+(?:-[a-z0-9]+)+(?![a-z0-9-])")
"""A hyphen-joined Latin compound (use-waypoint, istio-cni-node), as typed."""


def has_hangul(text: str) -> bool:
    return HANGUL.search(text) is not None


def strip_junk(text: str) -> tuple[str, int]:
    """The text without control, format, private-use or unpaired-surrogate characters (kept case),
    whitespace collapsed, and how many such characters there were (binary junk shows as many)."""
    junk = 0
    kept: list[str] = []
    for ch in text:
        if (unicodedata.category(ch)[0] == "C" and ch not in "\t\n\r") or ch == "\ufffd":
            junk += 1
            kept.append(" ")
        else:
            kept.append(ch)
    return re.sub(r"\s+", " ", "".join(kept)).strip(), junk


def clean(text: str) -> str:
    """NFKC, lower case, and no control, format or unpaired-surrogate characters (binary junk)."""
    text = unicodedata.normalize("NFKC", text)
    kept = (" " if unicodedata.category(ch)[0] in "CZ" else ch for ch in text)
    return re.sub(r"\s+", " ", "".join(kept)).strip().lower()


@dataclass(frozen=True)
class Unit:
    """One word of the text: its written form, its stem, and character bigrams for Hangul words.

    The index holds all of them; a question uses the first that the index knows (see
    `knowledge.search.Index`), because stripping a particle can also cut a noun (차이 -> 차).
    """

    word: str
    stem: str
    grams: tuple[str, ...] = ()
    surface: str = ""
    """The Latin word before stemming, for typo correction (peerauthentcation stems badly)."""

    @property
    def tokens(self) -> tuple[str, ...]:
        forms = (self.word,) if self.stem == self.word else (self.word, self.stem)
        return forms + self.grams


class Analyzer:
    """Tokenizer shared by the index and the questions, driven by the vocabulary data file."""

    def __init__(self, vocab: Vocabulary, *, synonyms: bool = True, bigrams: bool = True) -> None:
        self.vocab = vocab
        self.synonyms = synonyms
        self.bigrams = bigrams
        self.canonical = {t.term for t in vocab.terms}
        self.strong = {t.term for t in vocab.terms if t.domain == "strong"}
        self.weak = {t.term for t in vocab.terms if t.domain == "weak"}
        off_topic = sorted({clean(w) for w in [*vocab.off_topic, *vocab.other_meshes]}, key=len, reverse=True)
        self._off_topic_re = re.compile(_any_pattern(off_topic)) if off_topic else None
        self.stop_en = {clean(w) for w in vocab.stopwords_en}
        self.stop_ko = {clean(w) for w in vocab.stopwords_ko}
        self.particle_set = {clean(p) for p in vocab.particles_ko}
        self.longest_particle = max((len(p) for p in self.particle_set), default=0)
        variants = {clean(v): t.term for t in vocab.terms for v in [t.term, *t.variants]}
        # A one-word hyphenated variant matches only hyphenated text: "waypoint-for" is a label key,
        # "a waypoint for my namespace" is plain English that must keep its waypoint.
        self.hyphenated = {v: term for v, term in variants.items() if HYPHENATED.fullmatch(v)}
        variants = {v: term for v, term in variants.items() if v not in self.hyphenated}
        self.strong_patterns = [re.compile(pattern) for pattern in vocab.strong_patterns]
        self.variant_term = {_squash("".join(WORD.findall(v))): term for v, term in variants.items()}
        self.longest_variant = max((len(WORD.findall(v)) for v in variants), default=1)
        self.phrase_starts = {_squash(w[0]) for v in variants if len(w := WORD.findall(v)) > 1}
        self.not_covered = self._topics(vocab.not_covered)
        self.other_meshes = self._topics(vocab.other_meshes)

    def _topics(self, names: list[str]) -> list[tuple[str, tuple[str, ...]]]:
        return [(name, tuple(u.word for u in self.units(name))) for name in names]

    def words(self, text: str) -> list[str]:
        """The text's words, each run of words that spells a known variant replaced by its term.

        Matching works on words and dictionary look-ups rather than one big regex (50x faster to
        index): a variant may span several words ("service mesh"), a Latin one may carry a plural s,
        and a Hangul one takes its word's glued-on ending with it (사이드카를 -> sidecar).
        """
        text = clean(text)
        if not self.synonyms:
            return [_squash(w) for w in WORD.findall(text)]
        found = [_squash(w) for w in WORD.findall(HYPHENATED.sub(self._hyphenated_term, text))]
        out: list[str] = []
        i = 0
        while i < len(found):
            term, used = self._variant_at(found, i)
            out.append(term if term else found[i])
            i += used
        return out

    def _hyphenated_term(self, match: re.Match[str]) -> str:
        compound = match[0]
        for form in (compound, compound.removesuffix("s")):
            if term := self.hyphenated.get(form):
                return term
        return compound

    def canonicalize(self, text: str) -> str:
        return " ".join(self.words(text))

    def _variant_at(self, words: list[str], i: int) -> tuple[str | None, int]:
        longest = min(self.longest_variant, len(words) - i) if words[i] in self.phrase_starts else 1
        for n in range(longest, 0, -1):
            head, last = "".join(words[i : i + n - 1]), words[i + n - 1]
            if has_hangul(last):
                forms = [last[:end] for end in range(len(last), 0, -1)]
            else:
                forms = [last, last.removesuffix("s"), last.removesuffix("es")]
            for form in forms:
                term = self.variant_term.get(head + form)
                if term:
                    return term, n
        return None, 1

    def mentions_off_topic(self, text: str) -> bool:
        """Whether the text names another product or field (kafka, nginx, 날씨 …)."""
        return self._off_topic_re is not None and self._off_topic_re.search(clean(text)) is not None

    def names_strong_pattern(self, text: str) -> bool:
        """Whether the text, case kept, spells something only Istio writes so (STRICT, IST0123, *.istio.io)."""
        typed = unicodedata.normalize("NFKC", text)
        return any(pattern.search(typed) for pattern in self.strong_patterns)

    def uncovered_topics(self, tokens: set[str]) -> list[tuple[str, tuple[str, ...]]]:
        """The `not_covered` topics whose every token is among `tokens`."""
        return [(topic, toks) for topic, toks in self.not_covered if toks and set(toks) <= tokens]

    def other_meshes_named(self, tokens: set[str]) -> list[tuple[str, tuple[str, ...]]]:
        """The `other_meshes` names whose every token is among `tokens`."""
        return [(name, toks) for name, toks in self.other_meshes if toks and set(toks) <= tokens]

    def units(self, text: str) -> list[Unit]:
        units: list[Unit] = []
        for word in self.words(text):
            unit = self._hangul(word) if has_hangul(word) else self._latin(word)
            if unit is not None:
                units.append(unit)
        return units

    def tokens(self, text: str) -> list[str]:
        return [token for unit in self.units(text) for token in unit.tokens]

    def _latin(self, word: str) -> Unit | None:
        if word in self.canonical:
            return Unit(word, word)
        if word in self.stop_en or (len(word) < 2 and not word.isdigit()):
            return None
        stem = stem_en(word)
        return Unit(stem, stem, surface=word)

    def _hangul(self, word: str) -> Unit | None:
        stem = self.strip_particles(word)
        if stem in self.stop_ko or word in self.stop_ko or word in self.particle_set:
            return None
        grams = tuple(word[i : i + 2] for i in range(len(word) - 1)) if self.bigrams and len(word) > 2 else ()
        return Unit(word, stem, grams)

    def strip_particles(self, word: str) -> str:
        """The word without its longest known ending, if a stem remains (설정을 -> 설정)."""
        for size in range(min(self.longest_particle, len(word) - 1), 0, -1):
            if word[-size:] in self.particle_set:
                return word[:-size]
        return word


_stemmer = Stemmer.Stemmer("english")
_stemmer_lock = threading.Lock()


@lru_cache(maxsize=50_000)
def stem_en(word: str) -> str:
    """Snowball stem (limiting -> limit, retries -> retri), so inflections match; PyStemmer is not thread-safe."""
    if not word.isalpha():
        return word
    with _stemmer_lock:
        stem: str = _stemmer.stemWord(word)
    return stem


def _pattern(variant: str) -> str:
    """A regex for a word or phrase from a word start; Latin ones may carry a plural s."""
    left, escaped, right = _pattern_parts(variant)
    return f"{left}{escaped}{right}"


def _pattern_parts(variant: str) -> tuple[str, str, str]:
    escaped = re.sub(r"(?:\\ |\\-|_)+", r"[\\s_-]*", re.escape(variant))
    left = f"(?<![{LATIN_EDGE}])" if re.match(f"[{LATIN_EDGE}]", variant) else r"(?<![\uac00-\ud7a3])"
    # A Hangul variant takes the rest of its word with it: the particles and endings glued on.
    right = f"(?:s|es)?(?![{LATIN_EDGE}])" if re.search(f"[{LATIN_EDGE}]$", variant) else "[\uac00-\ud7a3]*"
    return left, escaped, right


def _any_pattern(variants: list[str]) -> str:
    """One regex finding any of `variants` (as `_pattern` each), for a yes/no search.

    The word edges are written once per kind rather than once per variant: the same matches, and
    compiling it costs a fresh process ~1 ms instead of ~20 ms (the pattern is recompiled when the
    cached engine is unpickled).
    """
    groups: dict[tuple[str, str], list[str]] = {}
    for variant in variants:
        left, escaped, right = _pattern_parts(variant)
        groups.setdefault((left, right), []).append(escaped)
    return "|".join(f"{left}(?:{'|'.join(middles)}){right}" for (left, right), middles in groups.items())


def _squash(text: str) -> str:
    """A word or phrase as the variant table keys it: no spaces or hyphens. Underscores stay, so the
    spaced words "waypoint for" never spell the term `waypoint_for` that a hyphenated compound becomes."""
    return text.replace(" ", "").replace("-", "")

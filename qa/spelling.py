"""Typos in a question, corrected against the index's own vocabulary: "zelenksy" -> "zelensky".

A build counts the words of every article (title and text, lower case, accents kept out as the BM25
tokenizer folds them) into `vocabulary.json` in the generation folder, listed in the manifest with its
checksum like every other index file; an incremental build subtracts the words of removed and changed
articles and adds those of new ones, so only they are read again.

A question word is left alone when the archive knows it (the word, or its stem, is in the vocabulary),
when it is a common English word (a whole word of the embedding model's WordPiece vocabulary, 21,745 of
them: "lose" stays "lose" in an archive that only says "lost"), a stop word or a question word, when it
holds a digit, or when it is shorter than three letters. Any other word, capitalised names included, is
replaced by the vocabulary word nearest to it in
optimal string alignment distance (an edit is an insertion, a deletion, a substitution or a swap of two
neighbouring letters): at most one edit for a word of up to four letters, two for a longer one; among
words as near, the one the archive uses most. Common English words are candidates too, after the
archive's own at the same distance: "figther" is "fighter" (one swap), not "further" (two edits), in an
archive that only says "fighters". The word keeps its case pattern ("Zelenksy" -> "Zelensky").
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import cached_property, lru_cache
from pathlib import Path

from qa.errors import CorruptIndexError
from qa.lexical import fold, stemmer, stop_words, tokenize
from qa.models import Correction

VOCABULARY_FORMAT = 1
Support = Callable[[Sequence[str], Sequence[str]], list[int]]
"""support(candidate terms, question terms): for each candidate, how many question terms a passage holds with it."""
_WORD = re.compile(r"[^\W\d_]+")
_QUESTION_WORD = re.compile(r"[^\W_]+")  # "Chian's" is "Chian" and "s": the possessive stays as typed
# Words a question uses that an archive may lack: never corrected, and offered as corrections ("mny" -> "many").
QUESTION_WORDS = frozenset({
    "how", "many", "much", "who", "whom", "whose", "what", "which", "when", "where", "why", "did", "does", "do",
    "is", "are", "was", "were", "the", "name", "long", "old", "year", "date", "say", "said", "claim", "claimed",
})


def word_counts(texts: Iterable[str]) -> Counter[str]:
    """How often each word occurs in the texts, lower case and accents folded."""
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update(w for w in _WORD.findall(fold(text)) if len(w) > 1)
    return counts


class Vocabulary:
    """The words of an index with their counts; corrects the words of a question that it does not know."""

    def __init__(self, counts: dict[str, int]) -> None:
        self.counts = {w: c for w, c in counts.items() if c > 0}

    def __len__(self) -> int:
        return len(self.counts)

    def updated(self, removed: Iterable[str], added: Iterable[str]) -> Vocabulary:
        """A new vocabulary, less the words of the removed texts and plus those of the added ones."""
        counts = Counter(self.counts)
        counts.subtract(word_counts(removed))
        counts.update(word_counts(added))
        return Vocabulary(dict(counts))

    def save(self, path: Path) -> None:
        """Write it as JSON (into a build's staging folder, which is published whole)."""
        body = {"format": VOCABULARY_FORMAT, "words": dict(sorted(self.counts.items()))}
        Path(path).write_text(json.dumps(body, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> Vocabulary | None:
        """Read a vocabulary written by `save`; None when the index has none (built before qa kept one).

        Raises:
            CorruptIndexError: the file is truncated or not a vocabulary.
        """
        try:
            raw = json.loads(Path(path).read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
            raise CorruptIndexError(f"the vocabulary {path} is truncated or unreadable; run `qa index` to repair it") from exc
        words = raw.get("words") if isinstance(raw, dict) else None
        if raw.get("format") != VOCABULARY_FORMAT or not isinstance(words, dict) or not all(
            isinstance(w, str) and type(c) is int for w, c in words.items()
        ):
            raise CorruptIndexError(f"{path} is not a qa vocabulary; run `qa index --rebuild`")
        return cls(words)

    def correct(
        self, question: str, common: Mapping[str, int] | None = None, support: Support | None = None
    ) -> tuple[str, list[Correction]]:
        """The question with the words the archive does not know replaced by their nearest known word.

        Args:
            question: the question as asked.
            common: words never corrected although the archive lacks them, and offered as corrections after
                the archive's own: word -> rank, lower for a more common word (`common_words`).
            support: how well each candidate's BM25 term fits the question's other terms (the index's
                `cooccurrence`): among candidates as near, the best fitting wins ("Henry Cole Wign" is
                "Wing", not the more frequent "win").

        Returns:
            The corrected question (the question itself when nothing was corrected) and one Correction per
            replaced word, in question order, with the offsets of the word in the question as given.
        """
        common = common if common is not None else {}
        corrections: list[Correction] = []
        out, last = [], 0
        context: list[str] | None = None
        for match in _QUESTION_WORD.finditer(question):
            word = match.group(0)
            nearest = self._nearest(word, common)
            if not nearest:
                continue
            if len(nearest) > 1 and support is not None:
                if context is None:
                    context = tokenize([question])[0]
                terms = [tokenize([choice])[0] for *_, choice in nearest]
                fits = support([t[0] if t else "" for t in terms], context)
                nearest = [(-fit, *key) for fit, key in zip(fits, nearest)]
            replacement = _same_case(word, min(nearest)[-1])
            corrections.append(Correction(word=word, replacement=replacement, start=match.start(), end=match.end()))
            out += [question[last:match.start()], replacement]
            last = match.end()
        if not corrections:
            return question, []
        return "".join(out) + question[last:], corrections

    def _nearest(self, word: str, common: Mapping[str, int]) -> list[tuple]:
        """The candidates at the smallest distance, each as a sort key (tier, weight, word)."""
        folded = fold(word)
        if len(folded) < 3 or not folded.isalpha() or folded in common or self._known(folded):
            return []
        from rapidfuzz import process
        from rapidfuzz.distance import OSA

        limit = 1 if len(folded) <= 4 else 2
        found: list[tuple[int, int, int, str]] = []
        for tier, groups in enumerate((self._by_length, self._common_by_length(common))):
            for length in range(len(folded) - limit, len(folded) + limit + 1):
                choices = groups.get(length)
                if not choices:
                    continue
                for choice, distance, _ in process.extract(folded, choices, scorer=OSA.distance, score_cutoff=limit,
                                                           limit=None):
                    # at one distance the archive's words, most used first, then common words, most common
                    # (lowest WordPiece id) first
                    found.append((int(distance), tier, -self._weight(choice) if tier == 0 else common[choice], choice))
        if not found:
            return []
        nearest = min(f[0] for f in found)
        return sorted(f[1:] for f in found if f[0] == nearest)

    def _common_by_length(self, common: Mapping[str, int]) -> dict[int, list[str]]:
        cached = self.__dict__.get("_common_groups")
        if cached is None or cached[0] is not common:
            groups: dict[int, list[str]] = {}
            for word in common:
                if len(word) >= 3 and word not in self.counts:
                    groups.setdefault(len(word), []).append(word)
            cached = self.__dict__["_common_groups"] = (common, groups)
        return cached[1]

    def _known(self, word: str) -> bool:
        return (word in self.counts or word in QUESTION_WORDS or word in stop_words()
                or stemmer().stemWord(word) in self._stems)

    def _weight(self, word: str) -> int:
        return self.counts.get(word, 0) + (10**9 if word in QUESTION_WORDS else 0)

    @cached_property
    def _stems(self) -> frozenset[str]:
        return frozenset(stemmer().stemWords(list(self.counts)))

    @cached_property
    def _by_length(self) -> dict[int, list[str]]:
        groups: dict[int, list[str]] = {}
        for word in [*self.counts, *QUESTION_WORDS]:
            if len(word) >= 2:
                groups.setdefault(len(word), []).append(word)
        return groups


@lru_cache(maxsize=4)
def common_words(model_dir: Path) -> dict[str, int]:
    """The whole words of the embedding model's WordPiece vocabulary (tokenizer.json in its folder), with
    their id, lower for a more common word: English words a question may use although the archive does not."""
    from tokenizers import Tokenizer

    try:
        vocab = Tokenizer.from_file(str(Path(model_dir) / "tokenizer.json")).get_vocab()
    except Exception:  # tokenizers raises a bare Exception; the Embedder reports a bad file when it loads
        return {}
    return {t: i for t, i in vocab.items() if t.isalpha() and t.isascii() and t.islower()}


def _same_case(original: str, word: str) -> str:
    """`word` written the way `original` is: "Zelenksy" -> "Zelensky", "NATO"-like capitals stay capitals."""
    if sum(c.isupper() for c in original) > len(original) / 2:
        return word.upper()
    if original[:1].isupper():
        return word[:1].upper() + word[1:]
    return word

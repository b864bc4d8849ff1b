"""Lexical retrieval: BM25 over passages with bm25s.

bm25s cannot add documents to an index, so the store keeps each passage's tokens (from `tokenize`) and an
incremental build rebuilds the score matrix from them: only new passages are tokenized again.

On disk, a lexical index is a folder in bm25s's own layout (so `bm25s.BM25.load` opens it too) plus ids.npy:

    params.index.json        k1, b, method, ... and num_docs
    vocab.index.json         token -> column
    data/indices/indptr.csc.index.npy   the precomputed BM25 score matrix, column per token (CSC)
    ids.npy                  passage id of each row

Nothing is unpickled: arrays are read with `allow_pickle=False` and memory-mapped.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from qa.errors import CorruptIndexError

if TYPE_CHECKING:
    import bm25s

PARAMS_FILE = "params.index.json"
VOCAB_FILE = "vocab.index.json"
DATA_FILE = "data.csc.index.npy"
INDICES_FILE = "indices.csc.index.npy"
INDPTR_FILE = "indptr.csc.index.npy"
IDS_FILE = "ids.npy"

_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")
# Dotted abbreviations would split into dropped single letters: "U.S." must stay a word.
_ABBREVIATIONS = {"u.s.": "usa", "u.s": "usa", "u.k.": "uk", "u.n.": "un", "e.u.": "eu"}
_ABBREVIATION = re.compile(r"\b(?:u\.s\.?|u\.k\.|u\.n\.|e\.u\.)(?!\w)")
# News says "Chinese soldiers" where a question says "China": a demonym counts as its country.
DEMONYMS = {
    "afghan": "afghanistan", "african": "africa", "american": "america", "argentine": "argentina",
    "argentinian": "argentina", "armenian": "armenia", "australian": "australia", "austrian": "austria",
    "bangladeshi": "bangladesh", "belarusian": "belarus", "belgian": "belgium", "brazilian": "brazil",
    "british": "britain", "bulgarian": "bulgaria", "canadian": "canada", "chilean": "chile", "chinese": "china",
    "colombian": "colombia", "croatian": "croatia", "cuban": "cuba", "czech": "czechia", "danish": "denmark",
    "dutch": "netherlands", "egyptian": "egypt", "emirati": "emirates", "ethiopian": "ethiopia",
    "european": "europe", "filipino": "philippines", "finnish": "finland", "french": "france",
    "georgian": "georgia", "german": "germany", "greek": "greece", "hungarian": "hungary", "indian": "india",
    "indonesian": "indonesia", "iranian": "iran", "iraqi": "iraq", "irish": "ireland", "israeli": "israel",
    "italian": "italy", "japanese": "japan", "kenyan": "kenya", "korean": "korea", "lebanese": "lebanon",
    "malaysian": "malaysia", "mexican": "mexico", "nepalese": "nepal", "nigerian": "nigeria",
    "norwegian": "norway", "pakistani": "pakistan", "palestinian": "palestine", "peruvian": "peru",
    "polish": "poland", "portuguese": "portugal", "qatari": "qatar", "romanian": "romania", "russian": "russia",
    "saudi": "saudi", "serbian": "serbia", "singaporean": "singapore", "spanish": "spain", "swedish": "sweden",
    "swiss": "switzerland", "syrian": "syria", "taiwanese": "taiwan", "thai": "thailand", "turkish": "turkey",
    "ukrainian": "ukraine", "venezuelan": "venezuela", "vietnamese": "vietnam", "yemeni": "yemen",
}
# A decimal number ("3.5") or a run of letters and digits ("covid19", "5m", "2004").
_TOKEN = re.compile(r"\d+(?:\.\d+)+|[^\W_]+")


def tokenize(texts: Sequence[str]) -> list[list[str]]:
    """Split texts into BM25 terms; the same function serves passages and questions.

    Lowercase, accents removed; thousands separators dropped so that "1,028,610" is the term "1028610"
    and a question written "1028610" or "1,028,610" finds it; decimals stay whole ("3.5"); other
    characters split words; "U.S." is the word "usa", and a demonym is its country ("Chinese" -> "china").
    Then English stop words (NLTK's list, as bm25s ships it) and single letters ("s" of "Google's") go,
    and the rest is reduced by the Snowball English stemmer.

    Args:
        texts: the strings to tokenize.

    Returns:
        One list of terms per text, in text order.
    """
    stops, stem = stop_words(), stemmer()
    out: list[list[str]] = []
    for text in texts:
        folded = _ABBREVIATION.sub(lambda m: _ABBREVIATIONS[m.group(0)], _THOUSANDS.sub("", fold(text)))
        words = [_country(w) for w in _TOKEN.findall(folded)]
        kept = [w for w in words if w not in stops and (len(w) > 1 or w.isdigit())]
        out.append(stem.stemWords(kept))
    return out


def _country(word: str) -> str:
    """The country a demonym names ("chinese" -> "china", "russians" -> "russia"); other words unchanged."""
    if word in DEMONYMS:
        return DEMONYMS[word]
    if word.endswith("s") and word[:-1] in DEMONYMS:
        return DEMONYMS[word[:-1]]
    return word


def fold(text: str) -> str:
    """Lowercased, accents removed ("Pérez" -> "perez"): how every term is compared."""
    text = text.lower()
    if text.isascii():
        return text
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


@lru_cache(maxsize=1)
def stop_words() -> frozenset[str]:
    """The words BM25 leaves out of every text and question."""
    from bm25s.stopwords import STOPWORDS_EN_PLUS

    # Contractions never survive our split on apostrophes; "won" (of "won't") and "don" are news words.
    return frozenset(w for w in STOPWORDS_EN_PLUS if "'" not in w) - {"won", "don"}


@lru_cache(maxsize=1)
def stemmer() -> Any:
    """The Snowball English stemmer that reduces every term."""
    import Stemmer

    return Stemmer.Stemmer("english")


class LexicalIndex:
    """BM25 scores of passages for a question's terms.

    Build with `build` or open with `load`, not the constructor.
    """

    def __init__(self, ids: np.ndarray, model: bm25s.BM25 | None) -> None:
        self._ids = ids
        self._model = model  # None when no passage has any term

    @classmethod
    def build(
        cls,
        ids: Sequence[int],
        token_lists: Sequence[Sequence[str]],
        *,
        k1: float = 1.5,
        b: float = 0.75,
        method: str = "lucene",
        idf_method: str | None = None,
    ) -> LexicalIndex:
        """Index passages from their terms.

        Args:
            ids: passage ids, one per token list.
            token_lists: each passage's terms, from `tokenize`.
            k1, b: BM25 parameters.
            method, idf_method: bm25s's scoring variant. The default, Lucene's, never gives a negative
                score; `method="atire", idf_method="robertson"` reproduces rank_bm25's BM25Okapi with
                epsilon=0 exactly (bm25s's own comparison tests use that pair).

        Returns:
            The LexicalIndex.

        Raises:
            ValueError: ids and token_lists differ in length, or ids repeat.
        """
        import bm25s

        id_array = np.asarray(ids, dtype=np.int64).reshape(-1)
        if len(id_array) != len(token_lists):
            raise ValueError(f"{len(id_array)} ids for {len(token_lists)} token lists")
        if len(np.unique(id_array)) != len(id_array):
            raise ValueError("passage ids must be unique")
        vocab: dict[str, int] = {}
        corpus_ids = [[vocab.setdefault(t, len(vocab)) for t in tokens] for tokens in token_lists]
        if not vocab:
            return cls(id_array, None)
        model = bm25s.BM25(k1=k1, b=b, method=method, idf_method=idf_method)
        model.index((corpus_ids, vocab), create_empty_token=False, show_progress=False)
        return cls(id_array, model)

    def __len__(self) -> int:
        return len(self._ids)

    def search(self, query: str, k: int, allowed: np.ndarray | None = None) -> list[tuple[int, float]]:
        """Rank passages by BM25 score for a question.

        Args:
            query: the question, tokenized with `tokenize`; terms absent from every passage are ignored.
            k: the most results to return.
            allowed: if given, the passage ids that may be returned (a filter): the others score 0
                before the top k are taken, as bm25s's `weight_mask` does.

        Returns:
            (passage id, score) pairs, best first (ties by id), only scores above 0; empty when nothing matches.
        """
        if k < 1:
            raise ValueError(f"k must be at least 1, got {k}")
        if self._model is None:
            return []
        vocab = self._model.vocab_dict
        term_ids = [vocab[t] for t in tokenize([query])[0] if t in vocab]
        if not term_ids:
            return []
        scores = self._model.get_scores_from_ids(term_ids)
        if allowed is not None:
            scores = scores * np.isin(self._ids, allowed)
        hits = np.flatnonzero(scores > 0)
        if len(hits) > k:
            hits = hits[np.argpartition(-scores[hits], k - 1)[:k]]
        hits = hits[np.lexsort((self._ids[hits], -scores[hits]))]
        return [(int(self._ids[i]), float(scores[i])) for i in hits]

    def cooccurrence(self, candidates: Sequence[str], context: Sequence[str]) -> list[int]:
        """For each candidate term, the most of the context terms that one passage holds together with it
        (0 for a term no passage has): how well a candidate correction fits the rest of a question."""
        if self._model is None:
            return [0] * len(candidates)
        vocab, indptr, indices = self._model.vocab_dict, self._model.scores["indptr"], self._model.scores["indices"]
        rows = [indices[indptr[c]:indptr[c + 1]] for t in set(context) if (c := vocab.get(t)) is not None]
        support = np.bincount(np.concatenate(rows), minlength=len(self._ids)) if rows else np.zeros(len(self._ids), int)
        out = []
        for term in candidates:
            column = vocab.get(term)
            hits = indices[indptr[column]:indptr[column + 1]] if column is not None else []
            out.append(int(support[hits].max()) if len(hits) else 0)
        return out

    def idf(self, terms: Sequence[str]) -> list[float]:
        """Inverse document frequency of terms (already tokenized), by the index's idf variant.

        Args:
            terms: terms from `tokenize`.

        Returns:
            One weight per term. A term no passage contains weighs as much as one that a single passage
            contains: a question word the archive never uses is as telling as its rarest word.
        """
        if self._model is None:
            return [1.0] * len(terms)
        from bm25s.scoring import _select_idf_scorer

        score_idf = _select_idf_scorer(self._model.idf_method)
        indptr = self._model.scores["indptr"]
        vocab = self._model.vocab_dict
        out = []
        for term in terms:
            column = vocab.get(term)
            df = int(indptr[column + 1] - indptr[column]) if column is not None else 0
            out.append(float(score_idf(max(df, 1), N=len(self._ids))))
        return out

    def save(self, folder: Path) -> None:
        """Write the index into `folder` (created if needed).

        Files are written in place: point this at a staging folder, as the store does.

        Args:
            folder: the folder to write.
        """
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        np.save(folder / IDS_FILE, self._ids, allow_pickle=False)
        if self._model is None:
            (folder / PARAMS_FILE).write_text(json.dumps({"num_docs": len(self._ids), "empty": True}))
            return
        self._model.save(
            folder, data_name=DATA_FILE, indices_name=INDICES_FILE, indptr_name=INDPTR_FILE, vocab_name=VOCAB_FILE,
            params_name=PARAMS_FILE, show_progress=False,
        )  # the names `load` reads, named here too rather than left to bm25s's defaults

    @classmethod
    def load(cls, folder: Path) -> LexicalIndex:
        """Open an index written by `save`; its score arrays are memory-mapped.

        Args:
            folder: the folder written by `save`.

        Returns:
            The LexicalIndex.

        Raises:
            CorruptIndexError: a file is missing, truncated or inconsistent with the others.
        """
        import bm25s

        folder = Path(folder)
        params = _read_json(folder / PARAMS_FILE)
        ids = _read_npy(folder / IDS_FILE, np.int64)
        if params.get("num_docs") != len(ids):
            raise _corrupt(folder / IDS_FILE, f"holds {len(ids)} ids for {params.get('num_docs')} passages")
        if params.get("empty"):
            return cls(ids, None)
        vocab = _read_json(folder / VOCAB_FILE)
        data = _read_npy(folder / DATA_FILE, np.floating)
        indices = _read_npy(folder / INDICES_FILE, np.integer)
        indptr = _read_npy(folder / INDPTR_FILE, np.integer)
        if len(indptr) != len(vocab) + 1 or len(data) != len(indices) or int(indptr[-1]) != len(data):
            raise _corrupt(folder / INDPTR_FILE, "does not match the vocabulary and score files")
        if len(indptr) and (int(indptr[0]) != 0 or (np.diff(indptr) < 0).any()) or (
            len(indices) and not 0 <= int(indices.min()) <= int(indices.max()) < len(ids)
        ):
            raise _corrupt(folder / INDICES_FILE, "points at passages the index does not have")
        columns = list(vocab.values())
        if not all(type(c) is int and 0 <= c < len(vocab) for c in columns) or len(set(columns)) != len(columns):
            raise _corrupt(folder / VOCAB_FILE, "maps terms to columns the score matrix does not have")
        model = bm25s.BM25(**_checked_params(params, folder / PARAMS_FILE))
        model.scores = {"data": data, "indices": indices, "indptr": indptr, "num_docs": len(ids)}
        model.vocab_dict = vocab
        model.unique_token_ids_set = set(vocab.values())
        model.nonoccurrence_array = None
        return cls(ids, model)


_METHODS = ("robertson", "atire", "lucene")  # bm25l and bm25+ need a non-occurrence array qa does not keep


def _checked_params(params: dict[str, Any], path: Path) -> dict[str, Any]:
    """The BM25 settings of params.index.json, each checked: a crafted value is a corrupt file, not a traceback."""
    out = {}
    for key in ("k1", "b", "delta"):
        value = params.get(key)
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < 1e6:
            raise _corrupt(path, f"has a bad {key} ({str(value)[:40]!r})")
        out[key] = float(value)
    for key, allowed in (("method", _METHODS), ("idf_method", (*_METHODS, None)),
                         ("dtype", ("float32", "float64")), ("int_dtype", ("int32", "int64"))):
        if params.get(key) not in allowed:
            raise _corrupt(path, f"has a {key} qa does not use ({str(params.get(key))[:40]!r})")
        out[key] = params[key]
    return out


def _corrupt(path: Path, problem: str) -> CorruptIndexError:
    return CorruptIndexError(f"the lexical index file {path} {problem}; rebuild the index (`qa index --rebuild`)")


def _read_json(path: Path) -> dict[str, Any]:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise _corrupt(path, "is missing") from exc
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise _corrupt(path, "is truncated or unreadable") from exc
    if not isinstance(value, dict):
        raise _corrupt(path, "is not a JSON object")
    return value


def _read_npy(path: Path, kind: type) -> np.ndarray:
    try:
        array = np.load(path, mmap_mode="r", allow_pickle=False)
    except FileNotFoundError as exc:
        raise _corrupt(path, "is missing") from exc
    except (OSError, ValueError, EOFError) as exc:
        raise _corrupt(path, "is truncated or unreadable") from exc
    if array.ndim != 1 or not np.issubdtype(array.dtype, kind):
        raise _corrupt(path, f"holds {array.dtype} of shape {array.shape}, not a list of {kind.__name__}")
    return array

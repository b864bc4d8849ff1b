"""Loaders for the development sets in /work/shared/evaldev/, turned into one shape: articles + questions.

The data is read where it lies (it must not be copied into the repo); bench/answers/evaluate.py writes the
articles as a JSONL corpus under bench/out/<set>/corpus/ and indexes that.
Run `python -m bench.common.evalsets [--data DIR]` to print the size of every set.
"""

from __future__ import annotations

import glob
import hashlib
import json
import random
import re
from dataclasses import dataclass, field
from pathlib import Path

from bench import REPO
from bench.common.metrics import contains_answer

DEFAULT_DATA = Path("/work/shared/evaldev")


@dataclass
class Question:
    """One question. `answers` empty on an answerable question means: counts for the answered rate only."""

    qid: str
    question: str
    answers: list[str]
    docs: list[str]
    answerable: bool
    kind: str = "answerable"


@dataclass
class EvalSet:
    """Articles (dicts written one per JSONL line) or an existing corpus folder, and the questions on them."""

    name: str
    questions: list[Question]
    articles: list[dict] = field(default_factory=list)
    corpus_dir: Path | None = None
    # seed names gold articles by doc_id prefix ("001"); generated sets by full id and url
    prefix_docs: bool = False
    doc_urls: dict[str, str] = field(default_factory=dict)
    notes: dict = field(default_factory=dict)

    def is_gold(self, q: Question, doc_id: str | None, url: str | None = None) -> bool:
        """Is this article one of the question's gold articles (by id, id prefix for seed, or url)?"""
        if doc_id is None:
            return False
        if self.prefix_docs:
            return any(doc_id.startswith(g) for g in q.docs)
        return doc_id in q.docs or (url is not None and url in {self.doc_urls.get(g) for g in q.docs})

    def is_right(self, q: Question, text: str, doc_id: str | None) -> bool:
        """Does this text (a sentence or a passage) hold a gold answer and come from a gold article?"""
        return contains_answer(text, q.answers) and self.is_gold(q, doc_id)


def short_hash(text: str, n: int = 12) -> str:
    """A short, stable hex id for a string (sha1 prefix)."""
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:n]


def _read_jsonl(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def load_seed(data: Path, corpus: Path | None = None) -> EvalSet:
    """The five default articles with 15 answerable and 4 unanswerable hand-written questions."""
    if corpus is None:
        corpus = REPO / "corpus" if (REPO / "corpus").is_dir() else Path("/work/shared/corpus")
    questions = [
        Question(f"seed-{i}", r["q"], list(r["answers"]), list(r["docs"]), True)
        for i, r in enumerate(_read_jsonl(data / "seed" / "seed_questions.jsonl"))
    ]
    questions += [
        Question(f"seed-u{i}", r["q"], [], [], False, "unanswerable")
        for i, r in enumerate(_read_jsonl(data / "seed" / "seed_unanswerable.jsonl"))
    ]
    return EvalSet("seed", questions, corpus_dir=corpus, prefix_docs=True)


def _iso(date: str | None) -> str | None:
    return date.replace("/", "-") if date else None


def _slug_title(url: str) -> str:
    parts = [p for p in url.split("#")[0].split("?")[0].rstrip("/").split("/") if p]
    while parts and (parts[-1].startswith("index.") or parts[-1].isdigit()):
        parts.pop()
    slug = parts[-1] if parts else url
    return re.sub(r"\.html?$", "", slug).replace("-", " ").replace("_", " ").strip()


def _rtqa_title(text: str, url: str) -> str:
    first = text.strip().split("\n", 1)[0].strip()
    # CNN pages open with a dateline ("New York CNN Business —") or the lead sentence, neither a title
    if 4 <= len(first.split()) <= 15 and not first.endswith(("—", "-")):
        return first[:200]
    return _slug_title(url)


def load_realtimeqa(data: Path) -> EvalSet:
    """RealTimeQA weeks: gold search-result articles as the corpus; multiple-choice answers made extractive.

    A question is kept only when its correct choice occurs verbatim (case-insensitive) in one of its
    gold articles; those articles are its gold docs.
    """
    folder = data / "realtimeqa"
    articles: dict[str, dict] = {}
    questions: list[Question] = []
    notes = {"questions_total": 0, "no_gold_article": 0, "choice_not_in_article": 0,
             "choice_only_inside_a_word": 0, "empty_gold_text": 0}
    for qa_path in sorted(glob.glob(str(folder / "*_qa.jsonl"))):
        gold_rows = {r["question_id"]: r for r in _read_jsonl(Path(qa_path.replace("_qa.jsonl", "_gold.jsonl")))}
        for row in _read_jsonl(Path(qa_path)):
            notes["questions_total"] += 1
            qdate = _iso(row.get("question_date"))
            gold_ids = []
            for res in gold_rows.get(row["question_id"], {}).get("search_result", []):
                text = res.get("text") or ""
                if not text.strip():
                    notes["empty_gold_text"] += 1
                    continue
                url = res["url"].split("#")[0]
                doc_id = "rtqa-" + short_hash(url)
                if doc_id not in articles:
                    articles[doc_id] = {
                        "id": doc_id,
                        "title": _rtqa_title(text, url),
                        "text": text,
                        "date": _iso(res.get("publish_date")) or qdate,
                        "url": url,
                        "source": row.get("question_source"),
                        "authors": res.get("authors") or [],
                    }
                gold_ids.append(doc_id)
            if not gold_ids:
                notes["no_gold_article"] += 1
                continue
            choice = row["choices"][int(row["answer"][0])].strip()
            docs = [d for d in dict.fromkeys(gold_ids) if choice.lower() in articles[d]["text"].lower()]
            if not docs:
                notes["choice_not_in_article"] += 1
                continue
            # "Europe" inside "European": no quoted sentence could ever be scored right
            docs = [d for d in docs if contains_answer(articles[d]["text"], [choice])]
            if not docs:
                notes["choice_only_inside_a_word"] += 1
                continue
            questions.append(Question(row["question_id"], row["question_sentence"], [choice], docs, True))
    arts = list(articles.values())
    return EvalSet("realtimeqa", questions, arts, doc_urls={a["id"]: a["url"] for a in arts}, notes=notes)


def load_squad(data: Path, n: int = 300, seed: int = 13) -> EvalSet:
    """SQuAD v1.1 dev half: each Wikipedia title is one article; a seeded sample of n questions."""
    raw = json.loads((data / "squad" / "dev-half-v1.1.json").read_text(encoding="utf-8"))
    articles, questions = [], []
    for entry in raw["data"]:
        title = entry["title"].replace("_", " ")
        url = "https://en.wikipedia.org/wiki/" + entry["title"]
        doc_id = "squad-" + short_hash(entry["title"])
        articles.append({"id": doc_id, "title": title, "text": "\n\n".join(p["context"] for p in entry["paragraphs"]),
                         "url": url, "source": "Wikipedia"})
        for para in entry["paragraphs"]:
            for qa in para["qas"]:
                golds = list(dict.fromkeys(a["text"] for a in qa["answers"]))
                questions.append(Question(qa["id"], qa["question"], golds, [doc_id], True))
    total = len(questions)
    if n and n < total:
        questions = random.Random(seed).sample(questions, n)
    return EvalSet("squad", questions, articles, doc_urls={a["id"]: a["url"] for a in articles},
                   notes={"questions_total": total, "sample_seed": seed})


def load_quail(data: Path) -> EvalSet:
    """QuAIL news: Factual questions (scored when the answer text is verbatim in the article) and
    Unanswerable ones (declining is right); the other reasoning types are left out."""
    articles, questions = [], []
    notes = {"factual": 0, "factual_verbatim": 0, "unanswerable": 0}
    for rec in _read_jsonl(data / "quail" / "news-dev-half.jsonl"):
        doc_id = "quail-" + rec["id"]
        text = rec["text"].strip()
        url = rec["url"].strip()
        articles.append({"id": doc_id, "title": " ".join(rec["title"].split()), "text": text, "url": url,
                         "source": "VOA", "authors": [" ".join(rec["author"].split())]})
        for q in rec["questions"]:
            qid = f"{rec['id']}-{q['id']}"
            if q["type"] == "Factual":
                notes["factual"] += 1
                gold = q["answer"].strip()
                if gold.lower() in text.lower() and contains_answer(text, [gold]):
                    notes["factual_verbatim"] += 1
                    questions.append(Question(qid, q["question"], [gold], [doc_id], True, "factual"))
                else:
                    questions.append(Question(qid, q["question"], [], [doc_id], True, "factual-paraphrased"))
            elif q["type"] == "Unanswerable":
                notes["unanswerable"] += 1
                questions.append(Question(qid, q["question"], [], [], False, "unanswerable"))
    return EvalSet("quail", questions, articles, doc_urls={a["id"]: a["url"] for a in articles}, notes=notes)


@dataclass
class TrecQuestion:
    """A TrecQA question with its candidate sentences and 0/1 labels."""

    qid: str
    question: str
    sentences: list[str]
    labels: list[int]


def trecqa_question(qid: str, body: str) -> str:
    """The question of one TrecQA <QApairs> block, its tokens joined by spaces.

    Raises:
        ValueError: the block has no <question>.
    """
    found = re.search(r"<question>\n(.*?)\n", body)
    if found is None:
        raise ValueError(f"TrecQA pair {qid} has no <question>")
    return " ".join(found.group(1).split("\t"))


def load_trecqa(data: Path, split: str = "DEV") -> list[TrecQuestion]:
    """TrecQA answer-sentence selection: tokens joined by spaces (the files are PTB-tokenised)."""
    text = (data / "trecqa" / f"{split}.xml").read_text(encoding="utf-8")
    out = []
    for m in re.finditer(r"<QApairs id='([^']*)'>(.*?)</QApairs>", text, re.S):
        body = m.group(2)
        sents, labels = [], []
        for tag, content in re.findall(r"<(positive|negative)>\n(.*?)\n", body):
            sents.append(" ".join(content.split("\t")))
            labels.append(int(tag == "positive"))
        out.append(TrecQuestion(m.group(1), trecqa_question(m.group(1), body), sents, labels))
    return out


def load_trecqa_set(data: Path, split: str = "DEV") -> EvalSet:
    """TrecQA as a retrieval set: each question's candidate sentences become one article (in the file's
    order), all questions' articles one corpus; the gold answers are the answer tokens of its positive
    sentences. A question with no positive sentence is unanswerable (declining it is right)."""
    text = (data / "trecqa" / f"{split}.xml").read_text(encoding="utf-8")
    articles, questions = [], []
    for m in re.finditer(r"<QApairs id='([^']*)'>(.*?)</QApairs>", text, re.S):
        qid, body = m.group(1), m.group(2)
        question = trecqa_question(qid, body)
        sentences, answers = [], []
        for tag, content in re.findall(r"<(positive|negative)>\n(.*?)</(?:positive|negative)>", body, re.S):
            lines = content.split("\n")
            sentences.append(" ".join(lines[0].split("\t")))
            if tag == "positive" and len(lines) >= 6 and lines[5].strip():
                answers.append(" ".join(lines[5].split("\t")).strip())
        doc_id = "trecqa-" + qid
        articles.append({"id": doc_id, "title": f"TREC question {qid}", "text": "\n\n".join(sentences),
                         "source": "TREC QA"})
        answers = list(dict.fromkeys(a for a in answers if a))
        questions.append(Question(qid, question, answers, [doc_id], bool(answers),
                                  "answerable" if answers else "unanswerable"))
    return EvalSet("trecqa", questions, articles, notes={"split": split})


LOADERS = {"seed": load_seed, "realtimeqa": load_realtimeqa, "squad": load_squad, "quail": load_quail,
           "trecqa": load_trecqa_set}


def load_set(name: str, data: Path, squad_n: int = 300) -> EvalSet:
    """Load a set by name (one of LOADERS)."""
    if name == "squad":
        return load_squad(data, squad_n)
    return LOADERS[name](data)


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="Print the size of each development set.")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    args = parser.parse_args()
    for name in LOADERS:
        s = load_set(name, args.data)
        answerable = sum(q.answerable for q in s.questions)
        scored = sum(bool(q.answers) for q in s.questions)
        print(f"{name:11s} articles={len(s.articles) or '(folder ' + str(s.corpus_dir) + ')'} "
              f"questions={len(s.questions)} answerable={answerable} scored={scored} "
              f"unanswerable={len(s.questions) - answerable} {s.notes}")
    trec = load_trecqa(args.data)
    print(f"trecqa      questions={len(trec)} with_positive={sum(any(t.labels) for t in trec)} "
          f"pairs={sum(len(t.labels) for t in trec)}")

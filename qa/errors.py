"""The errors qa raises for problems with the user's data or machine.

    QAError
    ├── CorpusError                 the corpus folder is missing, not a folder, or holds no article
    ├── DocumentError               one article file cannot be read (it is skipped, the build goes on)
    │   ├── UnsupportedFormatError  a file type qa does not read (.pptx, .xlsx, ...)
    │   ├── EncodingError           bytes that decode as no known text encoding
    │   ├── MalformedRecordError    a JSONL line that is not a JSON article (names file and line)
    │   └── EmptyDocumentError      nothing left once boilerplate is removed
    ├── IndexStoreError
    │   ├── IndexNotFoundError      no index in the folder: build one with `qa index`
    │   ├── CorruptIndexError       an index file is missing, truncated or unreadable
    │   ├── IndexVersionError       written by another schema version or embedding model
    │   ├── IndexLockedError        another build holds the index
    │   └── IndexClosedError        the QA was closed: open the index again
    ├── ArticleNotFoundError        no article with this id (also a KeyError)
    ├── QuestionError
    │   ├── EmptyQuestionError      an empty or whitespace-only question
    │   └── FilterError             a date, source or `undated` filter qa cannot read
    └── ModelUnavailableError       the embedding model cannot be found or loaded offline

A caller's programming mistake (a negative `k`, a wrong type) stays a ValueError or TypeError.
"""

from __future__ import annotations


class QAError(Exception):
    """Base class of every error qa raises about the user's data or machine."""


class CorpusError(QAError):
    """The corpus folder is missing, is not a folder, or holds no readable article."""


class DocumentError(QAError):
    """One article file cannot be read; a build skips it and reports why."""


class UnsupportedFormatError(DocumentError):
    """A file whose type qa does not read."""


class EncodingError(DocumentError):
    """A file whose bytes decode as no known text encoding."""


class MalformedRecordError(DocumentError):
    """A JSONL line that is not a valid article record."""


class EmptyDocumentError(DocumentError):
    """An article with no text left once boilerplate is removed."""


class IndexStoreError(QAError):
    """Something is wrong with the index folder."""


class IndexNotFoundError(IndexStoreError):
    """There is no index in the folder."""


class CorruptIndexError(IndexStoreError):
    """An index file is missing, truncated or unreadable."""


class IndexVersionError(IndexStoreError):
    """The index was written by another schema version or embedding model."""


class IndexLockedError(IndexStoreError):
    """Another build is writing the index."""


class IndexClosedError(IndexStoreError):
    """The QA was closed; open the index again with `qa.open_index`."""


class ArticleNotFoundError(QAError, KeyError):
    """No article of the index has this id; a KeyError too, as a mapping lookup would raise."""

    def __str__(self) -> str:  # KeyError's str() would print the message in quotes
        return str(self.args[0]) if self.args else ""


class QuestionError(QAError):
    """The question cannot be asked as given."""


class EmptyQuestionError(QuestionError):
    """An empty or whitespace-only question."""


class FilterError(QuestionError):
    """A filter of `ask` or `search` that qa cannot read: a date that is not ISO, since after until, ..."""


class ModelUnavailableError(QAError):
    """The embedding model cannot be found or loaded without the network."""

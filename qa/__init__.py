"""qa: ask questions of a local archive of news articles; every answer is a quoted, cited sentence."""

from qa.api import QA, build_index, open_index, verify_index
from qa.indexer import BUILD_STAGES
from qa.errors import (
    CorpusError,
    CorruptIndexError,
    DocumentError,
    EmptyDocumentError,
    EmptyQuestionError,
    EncodingError,
    IndexLockedError,
    IndexNotFoundError,
    IndexStoreError,
    IndexVersionError,
    MalformedRecordError,
    ModelUnavailableError,
    QAError,
    QuestionError,
    UnsupportedFormatError,
)
from qa.models import (
    Answer,
    Article,
    Candidate,
    Citation,
    IndexCheck,
    IndexReport,
    Passage,
    Sentence,
    ShortAnswer,
    SkippedFile,
)

__all__ = [
    "QA", "build_index", "open_index", "verify_index", "BUILD_STAGES",
    "Answer", "Article", "Candidate", "Citation", "IndexCheck", "IndexReport", "Passage", "Sentence", "ShortAnswer",
    "SkippedFile",
    "QAError", "CorpusError", "DocumentError", "UnsupportedFormatError", "EncodingError", "MalformedRecordError",
    "EmptyDocumentError", "IndexStoreError", "IndexNotFoundError", "CorruptIndexError", "IndexVersionError",
    "IndexLockedError", "QuestionError", "EmptyQuestionError", "ModelUnavailableError",
]

"""qa: ask questions of a local archive of news articles; every answer is a quoted, cited sentence."""

__version__ = "0.2.0"

from qa.api import QA, build_index, open_index, verify_index
from qa.indexer import BUILD_STAGES
from qa.watch import watch_index
from qa.errors import (
    ArticleNotFoundError,
    CorpusError,
    CorruptIndexError,
    DocumentError,
    EmptyDocumentError,
    EmptyQuestionError,
    EncodingError,
    FilterError,
    IndexClosedError,
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
from qa.conversation import Conversation, Turn
from qa.models import (
    Account,
    Answer,
    Article,
    ArticleInfo,
    Candidate,
    Citation,
    CorpusChanges,
    Correction,
    IndexCheck,
    IndexReport,
    Passage,
    Sentence,
    ShortAnswer,
    SkippedFile,
    Speaker,
)

__all__ = [
    "QA", "build_index", "open_index", "verify_index", "watch_index", "BUILD_STAGES",
    "Answer", "Article", "ArticleInfo", "Candidate", "Citation", "CorpusChanges", "IndexCheck", "IndexReport", "Passage", "Sentence", "ShortAnswer",
    "SkippedFile", "Account", "Speaker", "Conversation", "Turn",
    "QAError", "CorpusError", "DocumentError", "UnsupportedFormatError", "EncodingError", "MalformedRecordError",
    "EmptyDocumentError", "IndexStoreError", "IndexNotFoundError", "CorruptIndexError", "IndexVersionError",
    "IndexLockedError", "IndexClosedError", "ArticleNotFoundError", "QuestionError", "EmptyQuestionError", "ModelUnavailableError",
    "FilterError", "Correction",
]

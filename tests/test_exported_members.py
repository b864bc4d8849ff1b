"""The public names of qa: what the README and users import. A change here is an API change."""

from __future__ import annotations

import inspect
from types import ModuleType

import pydantic

import qa
import qa.errors
import qa.models


def test_public_names():
    assert sorted(qa.__all__) == sorted([
        "QA", "build_index", "open_index", "verify_index", "watch_index", "BUILD_STAGES",
        "Answer", "Article", "ArticleInfo", "Candidate", "Citation", "CorpusChanges", "IndexCheck", "IndexReport",
        "Passage", "Sentence", "ShortAnswer",
        "SkippedFile", "Account", "Speaker", "Conversation", "Turn",
        "QAError", "CorpusError", "DocumentError", "UnsupportedFormatError", "EncodingError", "MalformedRecordError",
        "EmptyDocumentError", "IndexStoreError", "IndexNotFoundError", "CorruptIndexError", "IndexVersionError",
        "IndexLockedError", "IndexClosedError", "ArticleNotFoundError", "QuestionError", "EmptyQuestionError", "ModelUnavailableError",
        "FilterError", "Correction",
    ])


def test_every_name_bound_in_qa_is_listed_in_all():
    bound = {name for name, value in vars(qa).items() if not name.startswith("_") and not isinstance(value, ModuleType)}

    assert bound == set(qa.__all__)


def test_every_error_and_result_model_is_exported():
    errors = {name for name, value in vars(qa.errors).items() if inspect.isclass(value) and issubclass(value, Exception)}
    models = {name for name, value in vars(qa.models).items()
              if inspect.isclass(value) and issubclass(value, pydantic.BaseModel) and value.__module__ == "qa.models"
              and not name.startswith("_")}

    assert errors <= set(qa.__all__) and models <= set(qa.__all__)
    assert all(issubclass(getattr(qa.errors, name), qa.QAError) for name in errors)

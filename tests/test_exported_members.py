"""The public names of qa: what the README and users import. A change here is an API change."""

from __future__ import annotations

import qa


def test_public_names():
    assert sorted(qa.__all__) == sorted([
        "QA", "build_index", "open_index", "BUILD_STAGES",
        "Answer", "Article", "Candidate", "Citation", "IndexReport", "Passage", "Sentence", "ShortAnswer",
        "SkippedFile",
        "QAError", "CorpusError", "DocumentError", "UnsupportedFormatError", "EncodingError", "MalformedRecordError",
        "EmptyDocumentError", "IndexStoreError", "IndexNotFoundError", "CorruptIndexError", "IndexVersionError",
        "IndexLockedError", "QuestionError", "EmptyQuestionError", "ModelUnavailableError",
    ])
    for name in qa.__all__:
        assert getattr(qa, name) is not None


def test_every_error_is_a_qa_error():
    errors = [getattr(qa, name) for name in qa.__all__ if name.endswith("Error")]

    assert all(issubclass(error, qa.QAError) for error in errors)

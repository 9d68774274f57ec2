from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from streams.contracts.schemas import NewsArticle, PatentFiling, SocialPost, is_dependent_claim
from streams.validation import Invalid, validate_record

NEWS = {
    "id": "n-1",
    "url": "https://example.com/a",
    "source": "example.com",
    "title": "Acme beats forecasts",
    "body": "Record profit.",
    "published_at": "2026-11-01T10:00:00+02:00",
}
SOCIAL = {
    "id": "p-1",
    "platform": "mastodon",
    "author": "@ann",
    "text": "Loving the new Acme drone",
    "created_at": "2026-11-01T10:00:00Z",
    "engagement": {"likes": 3},
}
PATENT = {
    "publication_number": "US-2026-0000001-A1",
    "title": "Battery electrode",
    "abstract": "An electrode.",
    "claims": ["1. An electrode comprising silicon.", "2. The electrode of claim 1."],
    "cpc_codes": ["H01M4/38"],
    "filing_date": "2025-01-02",
    "publication_date": "2026-07-02T00:00:00-05:00",
}


def raw(d: dict) -> bytes:
    return json.dumps(d).encode()


def test_dates_become_utc() -> None:
    a = NewsArticle.model_validate(NEWS)
    assert a.published_at == datetime(2026, 11, 1, 8, 0, tzinfo=UTC)
    p = PatentFiling.model_validate(PATENT)
    assert p.filing_date.tzinfo == UTC  # a bare date is taken as UTC midnight
    assert p.publication_date.hour == 5


def test_record_ids_and_scoring_text() -> None:
    assert NewsArticle.model_validate(NEWS).record_id == "n-1"
    assert SocialPost.model_validate(SOCIAL).scoring_text() == SOCIAL["text"]
    p = PatentFiling.model_validate(PATENT)
    assert p.record_id == "US-2026-0000001-A1"
    assert "silicon" in p.scoring_text() and "claim 1." not in p.scoring_text()


@pytest.mark.parametrize(
    ("claim", "dependent"),
    [
        ("2. The electrode of claim 1.", True),
        ("The scheduler of claim 1, wherein slots are short.", True),
        ("A device according to claim 1, wherein the housing is steel.", True),
        ("The method as claimed in any one of claims 1 to 3, wherein", True),
        ("根据权利要求1所述的电池，其中所述电极包含硅。", True),
        # Another category that uses an earlier claim's subject sets scope of its own.
        ("A method of charging, comprising operating the battery of claim 1.", False),
        ("一种充电方法，包括操作权利要求1所述的电池。", False),
        ("A battery comprising an electrode of silicon.", False),
    ],
)
def test_dependent_claims_name_the_claim_they_narrow_in_the_preamble(
    claim: str, dependent: bool
) -> None:
    assert is_dependent_claim(claim) is dependent


def test_a_patent_is_read_whole_and_passages_traced_to_their_claim() -> None:
    p = PatentFiling.model_validate(
        PATENT
        | {
            "title": "Cell",
            "claims": [
                "An electrode comprising silicon.",
                "The electrode of claim 1, coated with carbon.",
                "A method of charging, comprising cooling the electrode of claim 1 below zero.",
            ],
        }
    )
    assert [n for n, _ in p.independent_claims()] == [1, 3]
    assert "coated" not in p.scoring_text() and "cooling" in p.scoring_text()
    assert p.section_of("A method of charging, comprising cooling the electrode") == "claim 3"
    assert p.section_of("An electrode.") == "abstract"
    # A short title is joined to the abstract's first sentence: the rest says where it is.
    assert p.section_of("Cell An electrode.") == "abstract"
    assert p.section_of("unrelated text") is None
    assert NewsArticle.model_validate(NEWS).section_of("Record profit.") is None


def test_unknown_fields_are_rejected() -> None:
    with pytest.raises(ValidationError):
        NewsArticle.model_validate({**NEWS, "platform": "x"})


@pytest.mark.parametrize(
    ("source", "value", "key", "reason"),
    [
        ("news", b"", None, "empty record"),
        ("news", b"   ", None, "empty record"),
        ("news", b"{not json", None, "not JSON"),
        ("news", b"[1, 2]", None, "expected a JSON object, got list"),
        ("news", b"\xff\xfe{}", None, "not UTF-8"),
        ("news", raw({**NEWS, "published_at": "yesterday"}), None, "published_at"),
        (
            "news",
            raw({k: v for k, v in NEWS.items() if k != "title"}),
            None,
            "title: Field required",
        ),
        ("news", raw({**NEWS, "title": "   "}), None, "title"),
        ("news", raw(SOCIAL), None, "not a valid news record"),
        ("social", raw({**SOCIAL, "engagement": {"likes": -5}}), None, "engagement.likes"),
        ("social", raw({**SOCIAL, "text": 42}), None, "text"),
        ("news", raw(NEWS), b"other-id", "does not match the record id"),
        ("news", b"[" * 100_000 + b"]" * 100_000, None, "not JSON"),
    ],
)
def test_invalid_records_get_a_reason(source, value, key, reason) -> None:
    out = validate_record(source, value, key, max_bytes=1_000_000)
    assert isinstance(out, Invalid)
    assert reason in out.reason


def test_oversized_record() -> None:
    out = validate_record("news", raw({**NEWS, "body": "x" * 5000}), None, max_bytes=2048)
    assert isinstance(out, Invalid) and "over the 2048-byte limit" in out.reason


def test_valid_records_with_matching_key() -> None:
    assert isinstance(validate_record("news", raw(NEWS), b"n-1", 10_000), NewsArticle)
    assert isinstance(validate_record("social", raw(SOCIAL), None, 10_000), SocialPost)
    assert isinstance(validate_record("patents", raw(PATENT), None, 10_000), PatentFiling)


def test_committed_json_schemas_are_current() -> None:
    from pathlib import Path

    from streams.contracts.schemas import json_schemas

    folder = Path(__file__).resolve().parents[2] / "docs" / "schemas"
    for name, schema in json_schemas().items():
        committed = json.loads((folder / f"{name}.schema.json").read_text())
        assert committed == schema, f"docs/schemas/{name}.schema.json is stale: run `make docs`"


def test_poison_corpus_gets_the_documented_answer() -> None:
    from tests.poison import corpus

    cases = corpus()
    assert len(cases) >= 30
    for case in cases:
        out = validate_record(case.source, case.value, case.key, max_bytes=1_048_576)
        if case.expect == "dlq":
            assert isinstance(out, Invalid), case.name
            assert case.reason in out.reason, (case.name, out.reason)
        else:
            assert not isinstance(out, Invalid), (case.name, out)


def test_an_event_carries_its_text_once() -> None:
    from streams.contracts.schemas import NewsArticle, PatentFiling, SocialPost

    article = NewsArticle(
        id="n1", url="https://x.example/1", source="x", title="Title", body="Body words.",
        published_at="2026-01-01T00:00:00Z",
    )  # fmt: skip
    assert "body" not in article.event_record() and article.event_record()["title"] == "Title"
    post = SocialPost(
        id="p1", platform="x", author="a", text="Post words.", created_at="2026-01-01T00:00:00Z"
    )
    assert "text" not in post.event_record() and post.event_record()["author"] == "a"
    filing = PatentFiling(
        publication_number="US-1", title="T", abstract="An abstract.",
        claims=["1. A thing.", "2. The thing of claim 1, wherein it is red."],
        filing_date="2025-01-01T00:00:00Z", publication_date="2026-01-01T00:00:00Z",
    )  # fmt: skip
    # A dependent claim is not in the text: the claims stay whole.
    assert "abstract" not in filing.event_record() and len(filing.event_record()["claims"]) == 2

from __future__ import annotations

from pathlib import Path

import pytest

from models.engine import ScoringEngine
from models.topics import load_taxonomy, mask_names
from streams.contracts.settings import ConfigError, Settings
from streams.watchlist import Entity, Watchlist

REPO = Path(__file__).resolve().parents[2]

TAXONOMY = """\
topics:
  - name: deals
    description: Mergers and acquisitions.
    examples: ["Acme buys a rival", "the company agrees a takeover"]
  - name: other
    description: Anything else.
    examples: ["the weather was fine"]
"""


def test_the_shipped_taxonomy_loads() -> None:
    names = [t.name for t in load_taxonomy(REPO / "topics.yaml").topics]
    assert len(names) == 11 and names[0] == "earnings-guidance" and names[-1] == "other"


@pytest.mark.parametrize(
    ("text", "error"),
    [
        (TAXONOMY.replace("name: other", "name: deals"), "repeated: ['deals']"),
        (TAXONOMY.replace("name: other", "name: Other Things"), ":5: topics.1.name"),
        (
            TAXONOMY.replace('examples: ["the weather was fine"]', "examples: []"),
            ":7: topics.1.examples",
        ),
    ],
)
def test_a_bad_taxonomy_is_one_clear_error(tmp_path: Path, text: str, error: str) -> None:
    path = tmp_path / "topics.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=error.replace("[", r"\[").replace("]", r"\]")):
        load_taxonomy(path)


def test_company_names_are_masked_in_examples() -> None:
    tagger = Watchlist(entities=[Entity(name="Acme", aliases=["宁德时代"])]).tagger()
    assert mask_names("Acme buys a rival; 宁德时代收购", tagger.mentions) == (
        "the company buys a rival; the company收购"
    )
    assert mask_names("Acme", None) == "Acme"


def test_workers_label_topics_from_the_file_and_an_edit_changes_them(
    tiny_models: dict[str, Path], tmp_path: Path
) -> None:
    path = tmp_path / "topics.yaml"
    path.write_text(TAXONOMY)
    settings = Settings(encoder_path=tiny_models["encoder"], device="cpu", topics_path=path)
    engine = ScoringEngine.from_settings(settings)
    (scores,) = engine.score_texts(["the company agrees a takeover"])
    assert scores.topic is not None and set(scores.topic.probabilities) == {"deals", "other"}
    before = engine.versions["topic"]
    assert before.startswith("topics-prototypes@")
    path.write_text(TAXONOMY.replace("name: other", "name: rest"))
    after = ScoringEngine.from_settings(settings)
    assert after.topic.labels == ["deals", "rest"] and after.versions["topic"] != before
    with pytest.raises(ConfigError, match="does not exist"):
        ScoringEngine.from_settings(settings.model_copy(update={"topics_path": tmp_path / "no"}))

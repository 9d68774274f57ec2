"""Scripts written without spaces between words, as regex character-class bodies.

Word boundaries, sentence lengths and word counts treat these characters apart: one of them
is about a word, and a name inside running text has no space beside it.
"""

HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
KANA = "\u3040-\u30ff"
HANGUL = "\uac00-\ud7af"

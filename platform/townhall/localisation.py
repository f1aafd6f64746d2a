"""Languages and localised text: a map of language code to text."""

from collections.abc import Iterable, Mapping

LANGUAGES: tuple[str, ...] = ("nl", "fr", "de", "en")
"""The languages the platform speaks: Belgium's three official languages and English."""

LocalisedText = dict[str, str]


def pick(text: Mapping[str, str], preferred: Iterable[str]) -> tuple[str, str]:
    """The first language of `preferred` that `text` has, with its text; else any language it has."""
    for language in preferred:
        if text.get(language):
            return language, text[language]
    for language in LANGUAGES:
        if text.get(language):
            return language, text[language]
    return "", ""

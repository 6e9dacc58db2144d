"""Plate text rules shared by reads, hotlists and search: normalising, and the confusable characters."""

from __future__ import annotations

import re

_NOT_PLATE = re.compile(r"[^A-Z0-9]")
# Characters readers (and people) confuse; a fuzzy match allows one substitution inside a class.
CONFUSION_CLASSES = ("0ODQ", "1IL", "2Z", "5S", "6G", "8B", "UV", "4A")
CONFUSABLE: dict[str, str] = {}
for _group in CONFUSION_CLASSES:
    for _char in _group:
        CONFUSABLE[_char] = CONFUSABLE.get(_char, "") + _group.replace(_char, "")

# US states and territories, Canadian provinces, and the codes NCIC uses for US government plates.
REGION_CODES = frozenset(
    "AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ NM NY NC ND OH OK OR "
    "PA RI SC SD TN TX UT VT VA WA WV WI WY PR GU VI AS MP "
    "AB BC MB NB NL NS NT NU ON PE QC SK YT US".split()
)
MAX_PLATE = 10


def normalise_plate(text: str) -> str:
    """Upper case, letters and digits only ("7abc-123 " -> "7ABC123")."""
    return _NOT_PLATE.sub("", (text or "").upper())


def one_substitution_variants(plate: str) -> list[tuple[str, int]]:
    """Every plate one confusable substitution away, with the position substituted."""
    variants = []
    for index, char in enumerate(plate):
        for other in CONFUSABLE.get(char, ""):
            variants.append((plate[:index] + other + plate[index + 1:], index))
    return variants


# Every character of a confusion class maps to the class's first character: two plates one
# confusable substitution apart share this canonical form (classes are disjoint, so it is well defined).
_CANONICAL = str.maketrans({char: group[0] for group in CONFUSION_CLASSES for char in group})


def canonical_form(plate: str) -> str:
    """The plate with each confusable character replaced by its class representative."""
    return plate.translate(_CANONICAL)

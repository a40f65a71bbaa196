"""Reading an answer's final answer as a person would: the number a worked answer commits to, or
the option a multiple-choice answer picks. Pure functions over text; no Django.

Numbers: after `####` (GSM8K), inside `\\boxed{}`, after "the (final) answer is" or "Answer:",
else the last number (a trailing aside in parentheses is skipped). On a line or sentence with an
equation the number after its last "=" counts. Normalised: `$`/`€`/`£`, thousands commas, `%`,
trailing zeros, the Unicode minus, fractions (`3/4`, `4 1/2`, `\\frac{9}{2}`).

Options: the lettered options a question lists ("A. …", "(B) …", "C) …", "D: …"), and the letter
an answer picks: the whole answer ("B", "(B)", "**B**"), a leading "B) text", "the answer is B",
"Answer: B", "option (B)", `\\boxed{B}`, the text of one option ("Mercury", "4"), a trailing
"…, so B.", or the one letter it puts in parentheses.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from fractions import Fraction

_NUMBER = re.compile(
    r"(?<![\w.,/])(?P<sign>[-+\u2212])?(?P<cur>[$\u20ac\u00a3])?(?P<int>\d{1,3}(?:,\d{3})+(?!\d)|\d+)"
    r"(?:\.(?P<dec>\d+))?(?: (?P<num>\d+)/(?P<den>[1-9]\d*)(?![\d/])|/(?P<over>[1-9]\d*)(?![\d/]))?"
)
_FRAC = re.compile(r"\\[dt]?frac\s*\{\s*([^{}]+?)\s*\}\s*\{\s*([^{}]+?)\s*\}")
_BOXED = re.compile(r"\\(?:boxed|fbox)\s*\{")
_HASHES = re.compile(r"####\s*")
_ANSWER_IS = re.compile(
    r"\b(?:the\s+)?(?:final\s+|correct\s+)?answer\s*(?:is|would\s+be|will\s+be|=|:)\s*(?::\s*)?"
    r"|\bfinal\s+answer\s*\**\s*:\s*",
    re.IGNORECASE,
)
_END = re.compile(r"\n|(?<=[^\d\s])\.(?:\s|$)|(?<=\d)\.(?=\s|$)|;")
_BARE_NUMBER = re.compile(
    r"^\W*[-+\u2212]?[$\u20ac\u00a3]?\d[\d,]*(?:\.\d+)?(?:/\d+)?\s?%?(?:\s+[a-z\u00b0]{1,12}){0,2}\W*$",
    re.IGNORECASE,
)
_ARITHMETIC = re.compile(r"\d\s*[-+*/\u00d7\u00f7x\u2212]\s*\$?\d[\d,.]*\s*=\s*\$?[-\u2212]?\d")


@dataclass(frozen=True)
class Reading:
    """What an answer commits to and how it was found (shown in the verdict's rationale)."""

    value: Fraction | str  # a number, or an option letter
    how: str  # "####", "\\boxed{}", "'the answer is'", "the last number", "an option's text", …
    written: str  # as the answer wrote it

    @property
    def number(self) -> float:
        return float(self.value) if isinstance(self.value, Fraction) else float("nan")


def _clean(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).replace("\u2212", "-")
    text = _FRAC.sub(r"\1/\2", text)
    return text.replace("**", "").replace("\\$", "$").replace("\\%", "%").replace("\\,", "")


def _value(match: re.Match[str]) -> Fraction:
    whole = Fraction(match["int"].replace(",", "") + ("." + match["dec"] if match["dec"] else ""))
    if match["over"]:
        whole /= int(match["over"])
    elif match["num"]:
        whole += Fraction(int(match["num"]), int(match["den"]))
    return -whole if match["sign"] in ("-", "\u2212") else whole


def _numbers(text: str) -> list[re.Match[str]]:
    return list(_NUMBER.finditer(text))


def _committed(segment: str) -> re.Match[str] | None:
    """The number a segment (after a marker, up to its line or sentence end) commits to."""
    end = _END.search(segment)
    part = segment[: end.start()] if end else segment
    if "=" in part:
        after = _numbers(part.rsplit("=", 1)[1])
        if after:
            return after[0]
    found = _numbers(part)
    return found[0] if found else None


def _boxed(text: str) -> str | None:
    """The contents of the last \\boxed{…}, braces balanced."""
    starts = list(_BOXED.finditer(text))
    if not starts:
        return None
    depth, begin = 1, starts[-1].end()
    for i in range(begin, len(text)):
        depth += {"{": 1, "}": -1}.get(text[i], 0)
        if depth == 0:
            return text[begin:i]
    return text[begin:]


def _without_trailing_aside(text: str) -> str:
    """ "136 flowers in total (91 tulips and 45 daffodils)." → "136 flowers in total"."""
    stripped = text.rstrip(" .!\n")
    if not stripped.endswith(")"):
        return text
    open_at = stripped.rfind("(")
    before = stripped[:open_at]
    if open_at > 1 and before.endswith(" ") and before.rstrip()[-1:].isalnum() and _numbers(before):
        return before
    return text


def read_number(text: str) -> Reading | None:
    """The number an answer commits to, or None when it has none."""
    clean = _clean(text)
    boxed = _boxed(clean)
    marked = [(m.end(), "####") for m in _HASHES.finditer(clean)]
    marked += [(m.end(), "'the answer is'" if "is" in m.group(0).lower() else "'Answer:'")
               for m in _ANSWER_IS.finditer(clean)]  # fmt: skip
    for at, how in sorted(marked, reverse=True)[:1]:
        found = _committed(clean[at:])
        if found is not None and not (boxed is not None and clean.rfind("\\boxed", at) >= 0):
            return Reading(_value(found), how, found.group(0))
    if boxed is not None and (found := _committed(boxed)) is not None:
        return Reading(_value(found), "\\boxed{}", found.group(0))
    if _BARE_NUMBER.match(clean.strip()) and (found := _committed(clean)) is not None:
        return Reading(_value(found), "the whole answer", found.group(0))
    found_all = _numbers(_without_trailing_aside(clean))
    if not found_all:
        return None
    last = found_all[-1]
    before = clean[: last.start()].rstrip()
    how = (
        "'= X' at the end"
        if before.endswith("=") and not clean[last.end() :].strip(" .")
        else "the last number"
    )
    return Reading(_value(last), how, last.group(0))


def number_shape(text: str) -> str | None:
    """How an answer ends in a final number, for choosing an evaluator: a marker, a bare number,
    or a worked answer (with arithmetic) whose last sentence holds a number; None otherwise."""
    reading = read_number(text)
    if reading is None:
        return None
    if reading.how in ("the last number", "'= X' at the end"):
        clean = _clean(text).strip()
        last_sentence = re.split(r"(?<=[^\d\s])[.!?]\s+|\n+", clean.rstrip(". \n"))[-1]
        if not (_ARITHMETIC.search(clean) and _numbers(last_sentence)):
            return None
    return reading.how


# --- multiple choice ------------------------------------------------------------------------

_OPTION_LINE = re.compile(r"^\s*\(?([A-J])[).:]\s+(\S.*?)\s*$", re.MULTILINE)
_LETTERS = "ABCDEFGHIJ"


def question_options(question: str) -> dict[str, str]:
    """The lettered options a question lists ({"A": "Venus", …}); empty unless A and B at least."""
    found: dict[str, str] = {}
    for letter, text in _OPTION_LINE.findall(question):
        expected = _LETTERS[len(found)] if len(found) < len(_LETTERS) else ""
        if letter == expected:
            found[letter] = text
        elif letter == "A":
            found = {"A": text}  # a new list starts
    return found if len(found) >= 2 else {}


def _norm(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold().replace("**", "")
    return re.sub(r"\s+", " ", text).strip(" \t\n.,;:!?\"'`*_")


def read_choice(text: str, options: dict[str, str] | None = None) -> Reading | None:
    """The option an answer picks, or None. Without `options`, letters A–J are read alone."""
    options = options or {}
    letters = "".join(options) or _LETTERS
    body = unicodedata.normalize("NFKC", text).strip()
    flat = body.replace("**", "").replace("__", "")
    patterns = (
        (rf"^\W*([{letters}{letters.lower()}])\W*$", "the whole answer", 0),
        (rf"^\W*\(?([{letters}])\s*[).:](?:\s|$)", "a leading letter", 0),
        (rf"^\W*\(?([{letters}])\)?\s+(?:is|would\s+be)\s", "a leading letter", 0),
        (rf"\\boxed\s*\{{\s*\(?([{letters}])\)?\s*\}}", "\\boxed{}", -1),
        (rf"(?i:\b(?:answer|option|choice|choose|pick|select|go\s+with)\s*(?:is|would\s+be|=)?\s*:?)\s*\(?([{letters}])\)?(?![\w'])",
         "'the answer is'", -1),
    )  # fmt: skip
    for pattern, how, which in patterns:
        found = re.findall(pattern, flat)
        if found:
            letter = found[which].upper()
            if letter in letters:
                return Reading(letter, how, letter)
    if options:
        by_text = {_norm(t): k for k, t in options.items()}
        if (key := by_text.get(_norm(flat))) is not None:
            return Reading(key, "an option's text", flat)
        number = read_number(flat) if _BARE_NUMBER.match(flat) or "=" in flat else None
        if number is not None:
            same = [k for k, t in options.items() if (r := read_number(t)) and r.value == number.value]
            if len(same) == 1:
                return Reading(same[0], "an option's number", number.written)
    trailing = re.search(rf"(?:^|[\s:(\-\u2014\u2013>])\(?([{letters}])\)?\s*[.!)]?\s*$", flat)
    if trailing:
        return Reading(trailing.group(1), "a letter at the end", trailing.group(1))
    parenthesised = set(re.findall(rf"\(([{letters}])\)", flat))
    if len(parenthesised) == 1:
        letter = parenthesised.pop()
        return Reading(letter, "a letter in parentheses", f"({letter})")
    return None

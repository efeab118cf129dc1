"""The style card: measurable habits of the owner's writing, computed without an LLM.

It is recomputed from every stored mail exemplar after each ingest (cheap, and never double-counts a
message ingested twice), saved as JSON in the home, and turned into a few system-prompt lines.
`style_features` measures one text the same way, for the voice-fidelity eval.
"""

from __future__ import annotations

import re
import statistics
from collections import Counter
from pathlib import Path

from pydantic import BaseModel, ValidationError

_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9'’\-]*")
_CONTRACTION = re.compile(r"\b[A-Za-z]+['’](?:s|t|re|ve|ll|d|m)\b", re.IGNORECASE)
_EMOJI = re.compile("[\U0001f300-\U0001faff\u2600-\u27bf\U0001f000-\U0001f2ff]|:\\)|:-\\)|;\\)|:D")
_GREETING = re.compile(
    r"^(hi|hello|hey|heya|hiya|dear|good (?:morning|afternoon|evening)|morning|greetings|yo)\b(.*)$",
    re.IGNORECASE,
)
GROUP_WORDS = {"all", "team", "everyone", "folks", "guys", "there", "both", "y'all", "everybody", "again"}
_CLOSINGS = (
    "thanks|thank you|thx|ta|cheers|best|all the best|regards|best regards|kind regards|warm regards|"
    "warmly|sincerely|talk soon|speak soon|see you|later|love|xo|many thanks|thanks again|best wishes|"
    "thanks so much|thank you so much|thanks in advance|thank you in advance|thanks a lot|kindest regards|"
    "warmest regards|with regards|yours sincerely|yours truly|sincerely yours|respectfully|all best"
)
# A closing phrase at the start of a line; longest first, so "thanks again" is one phrase, not "thanks".
SIGNOFF = re.compile(
    r"^(" + "|".join(sorted(_CLOSINGS.split("|"), key=len, reverse=True)) + r")\b", re.IGNORECASE
)
_STOP = frozenset(
    "a an and are as at be but by for from has have i if in is it its me my of on or our so that the "
    "this to was we were will with you your he she they them their i'm it's just can do not".split()
)


class Share(BaseModel):
    text: str
    share: float  # fraction of samples


class StyleCard(BaseModel):
    samples: int = 0
    greetings: list[Share] = []
    signoffs: list[Share] = []
    words_median: float = 0
    words_p25: float = 0
    words_p75: float = 0
    words_p10: float = 0  # 0 in cards saved before these were kept
    words_p90: float = 0
    language: str = ""  # ISO 639-1 code of the language most of the mail is in; "" when unclear
    contraction_rate: float = 0  # contractions per word
    exclamation_rate: float = 0  # sentences ending in "!"
    question_rate: float = 0  # sentences ending in "?"
    emoji_rate: float = 0  # samples with an emoji or emoticon
    lowercase_start_rate: float = 0  # sentences starting in lowercase
    punctuation: dict[str, float] = {}  # habit -> share of samples using it
    phrases: list[str] = []

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.model_dump_json(indent=2), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> StyleCard | None:
        """The saved card, or None when there is none yet or it is unreadable (it is recomputable)."""
        try:
            return cls.model_validate_json(path.read_text(encoding="utf-8"))
        except (OSError, ValidationError):
            return None

    def prompt_lines(self) -> list[str]:
        if not self.samples:
            return []
        lines = []
        if self.greetings:
            lines.append("Greets with: " + _shares(self.greetings))
        if self.signoffs:
            lines.append("Signs off: " + _shares(self.signoffs))
        lines.append(f"Typical length: {self.words_p25:.0f}–{self.words_p75:.0f} words")
        if self.language and self.language != "en":
            lines.append(f"Writes in: {LANGUAGE_NAMES[self.language]}")
        lines.append("Tone: " + _tone(self))
        if self.phrases:
            lines.append("Often writes: " + ", ".join(f"'{p}'" for p in self.phrases[:5]))
        return lines


def _shares(items: list[Share]) -> str:
    return "; ".join(f"'{s.text}' ({s.share:.0%})" for s in items[:2])


def _tone(card: StyleCard) -> str:
    parts = [
        "uses contractions" if card.contraction_rate >= 0.02 else "avoids contractions",
        "exclamation marks often" if card.exclamation_rate >= 0.15 else "few exclamation marks",
    ]
    if card.emoji_rate >= 0.1:
        parts.append("emoji sometimes")
    if card.lowercase_start_rate >= 0.3:
        parts.append("often starts sentences in lowercase")
    return ", ".join(parts)


def compute_style_card(texts: list[str], owner_name: str) -> StyleCard:
    samples = [t.strip() for t in texts if t.strip()]
    if not samples:
        return StyleCard()
    greetings = Counter(g for g in (greeting_of(t) for t in samples) if g)
    signoffs = Counter(s for s in (signoff_of(t, owner_name) for t in samples) if s)
    lengths = sorted(word_count(t) for t in samples)
    deciles = statistics.quantiles(lengths, n=20, method="inclusive") if len(lengths) > 1 else lengths * 19
    q10, q25, q50, q75, q90 = (deciles[i] for i in (1, 4, 9, 14, 17))
    feats = [style_features(t) for t in samples]
    total_words = sum(f["words"] for f in feats) or 1
    total_sentences = sum(f["sentences"] for f in feats) or 1
    return StyleCard(
        samples=len(samples),
        greetings=_top(greetings, len(samples)),
        signoffs=_top(signoffs, len(samples)),
        words_median=q50,
        words_p25=q25,
        words_p75=q75,
        words_p10=q10,
        words_p90=q90,
        language=language_of("\n".join(body_of(t, owner_name) for t in samples), min_hits=20),
        contraction_rate=sum(f["contraction_rate"] * f["words"] for f in feats) / total_words,
        exclamation_rate=sum(f["exclamation_rate"] * f["sentences"] for f in feats) / total_sentences,
        question_rate=sum(f["question_rate"] * f["sentences"] for f in feats) / total_sentences,
        emoji_rate=sum(1 for f in feats if f["emoji"]) / len(samples),
        lowercase_start_rate=sum(f["lowercase_start_rate"] * f["sentences"] for f in feats) / total_sentences,
        punctuation={
            habit: round(sum(1 for t in samples if pattern.search(t)) / len(samples), 3)
            for habit, pattern in _PUNCTUATION.items()
        },
        phrases=common_phrases([body_of(t, owner_name) for t in samples]),
    )


_PUNCTUATION = {
    "em dash": re.compile(r"—| -- | - "),
    "ellipsis": re.compile(r"\.\.\.|…"),
    "semicolon": re.compile(r";"),
    "parentheses": re.compile(r"\("),
    "exclamation": re.compile(r"!"),
    "multiple !/?": re.compile(r"[!?]{2,}"),
}


def _top(counts: Counter[str], total: int, limit: int = 5) -> list[Share]:
    return [Share(text=text, share=round(n / total, 3)) for text, n in counts.most_common(limit)]


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.split("\n") if line.strip()]


def greeting_of(text: str) -> str:
    """The first line as a template ("Hi Sam," -> "Hi {name},"), or "" when it is no greeting."""
    lines = _lines(text)
    if not lines:
        return ""
    first = lines[0]
    match = _GREETING.match(first)
    if not match or len(first.split()) > 6:
        return ""
    rest = match.group(2).strip()
    trailing = re.search(r"\s*[,!.:\u2014\u2013-]*$", rest).group(0)  # type: ignore[union-attr]
    trailing = trailing if trailing.strip() else ""  # "Hi Sam -" keeps its space: "Hi {name} -"
    words = rest[: len(rest) - len(trailing)].split()
    if words and all(w.lower() in GROUP_WORDS for w in words):
        middle = " " + " ".join(words)
    else:
        middle = " {name}" if words else ""
    return f"{match.group(1)}{middle}{trailing}"


def signoff_of(text: str, owner_name: str = "") -> str:
    """The closing ("Thanks,\\nDana" -> "Thanks, Dana"), or "" when the text ends without one."""
    return _closing(_lines(text), owner_name)[0]


def _closing(lines: list[str], owner_name: str) -> tuple[str, int]:
    """(closing, how many final lines it spans)."""
    if len(lines) < 2:
        return "", 0
    last, before = lines[-1], lines[-2]
    if is_name(last, owner_name):
        if len(before.split()) <= 4 and (before.endswith(",") or SIGNOFF.match(before)):
            return f"{before} {last}", 2
        return last, 1
    if len(last.split()) <= 4 and SIGNOFF.match(last):
        return last, 1
    return "", 0


def is_name(line: str, owner_name: str) -> bool:
    """The owner's name, first name or initial, possibly dashed ("-D", "— Dana")."""
    bare = line.strip(" -—–~.").lower()
    if not bare:
        return False
    if not owner_name:  # unknown owner: a capitalised one- or two-word line is most likely a name
        return len(line.split()) <= 2 and line.strip(" -—–~")[:1].isupper() and not SIGNOFF.match(line)
    parts = owner_name.lower().split()
    return bare in {owner_name.lower(), parts[0], parts[0][0], "".join(p[0] for p in parts)}


def body_of(text: str, owner_name: str) -> str:
    """The text without a greeting line ("Hi Sam,") and its closing lines ("Thanks,\nDana"); the
    blank lines between paragraphs stay."""
    lines = [line.rstrip() for line in text.strip().split("\n")]
    filled = [i for i, line in enumerate(lines) if line.strip()]
    content = _lines(text)  # the filled lines' text
    dropped = set(filled[len(filled) - _closing(content, owner_name)[1] :])
    if content and greeting_of(content[0]) and content[0][-1] in ",!:":  # a line of its own, not "Hi, yes."
        dropped.add(filled[0])
    return "\n".join(line for i, line in enumerate(lines) if i not in dropped).strip()


def common_phrases(texts: list[str], limit: int = 10) -> list[str]:
    """Frequent 2–4-word phrases (counted once per text) that are not just stopwords."""
    counts: Counter[str] = Counter()
    for text in texts:
        seen: set[str] = set()
        for sentence in re.split(r"[.!?\n]+", text.lower()):
            words = _WORD.findall(sentence.replace("’", "'"))
            for n in (2, 3, 4):
                for i in range(len(words) - n + 1):
                    gram = words[i : i + n]
                    if gram[0] in _STOP or gram[-1] in _STOP:
                        continue
                    seen.add(" ".join(gram))
        counts.update(seen)
    min_count = max(2, len(texts) // 20)
    frequent = [(g, n) for g, n in counts.most_common() if n >= min_count]
    # drop a phrase when a longer one containing it is just as frequent
    kept = [g for g, n in frequent if not any(g != h and g in h and m >= n for h, m in frequent)]
    return kept[:limit]


def style_features(text: str) -> dict[str, float]:
    """Measurable habits of one text (values are floats; booleans are 0/1)."""
    words = _WORD.findall(text)
    sentences = [s.strip() for s in re.split(r"(?<=[.!?])\s+|\n+", text) if s.strip()]
    n_sent = len(sentences) or 1
    return {
        "words": float(len(words)),
        "sentences": float(len(sentences)),
        "greeting": float(bool(greeting_of(text))),
        "signoff": float(bool(signoff_of(text))),
        "exclamation_rate": sum(1 for s in sentences if s.endswith("!")) / n_sent,
        "question_rate": sum(1 for s in sentences if s.endswith("?")) / n_sent,
        "contraction_rate": len(_CONTRACTION.findall(text)) / (len(words) or 1),
        "emoji": float(bool(_EMOJI.search(text))),
        "lowercase_start_rate": sum(1 for s in sentences if s[0].islower()) / n_sent,
    }


def word_count(text: str) -> int:
    """Words as the card counts them (its length percentiles are in these)."""
    return len(_WORD.findall(text))


LANGUAGE_NAMES = {
    "en": "English",
    "de": "German",
    "fr": "French",
    "es": "Spanish",
    "it": "Italian",
    "nl": "Dutch",
    "pt": "Portuguese",
}
_FUNCTION_WORDS = {
    "en": "the and you that is are was with for this have will not but would please what which there your "
    "been from they we our thanks",
    "de": "und der die das ist nicht ich sie mit auf für ein eine zu wir es den dem auch bitte danke wie "
    "noch aber sind habe wird",
    "fr": "le la les et est je vous nous pas pour une des du que qui avec sur dans ce merci bien mais sont "
    "au avez",
    "es": "el los las y es que por con una para del pero como está gracias muy sus nos estoy hola también "
    "usted",
    "it": "il di che è per non una sono con della anche come ma grazie ciao questo gli sei siamo",
    "nl": "het een en van niet ik je dat zijn op voor met maar ook wij bedankt graag dank jullie deze wordt",
    "pt": "o os não uma com para obrigado obrigada você mas muito são também isso ele ela eu nós",
}
_SHARED = Counter(w for words in _FUNCTION_WORDS.values() for w in set(words.split()))
# Only words that belong to one language count: "de", "que", "en", "die" say little on their own.
_MARKERS = {w: lang for lang, words in _FUNCTION_WORDS.items() for w in words.split() if _SHARED[w] == 1}
_LETTERS = re.compile(r"[^\W\d_]+")


def language_of(text: str, min_hits: int = 3) -> str:
    """The language (ISO 639-1 code, one of LANGUAGE_NAMES) the text is written in, from its common function
    words; "" when fewer than `min_hits` of them are found or no language has twice the next one's."""
    hits = Counter(_MARKERS[w] for w in _LETTERS.findall(text.lower()) if w in _MARKERS)
    (top, n), (_, second) = [*hits.most_common(2), ("", 0), ("", 0)][:2]
    return top if n >= min_hits and n >= 2 * second else ""

"""The owner's form applied to a drafted reply after the model wrote it: greeting, sign-off, length.

A small model asked to open with "Hi Maria," writes "Hi maria mitchell/enron-"; asked for the owner's
sign-off it adds its own beside it ("Best regards, Dani — D", "Best regards,\\n[Your Name]"). Asking is
not enough, so the form is made here whatever the model wrote: one greeting, the owner's usual one, naming
the person by first name (from the display name, the profile, the address or how they sign); the model's
sign-offs and signature lines removed; exactly one sign-off, the owner's; and a reply far longer than the
owner ever writes cut at the end by whole sentences. Pure text functions: no model, no I/O.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

from persona.memory.style import GROUP_WORDS, SIGNOFF, is_name, signoff_of, word_count

if TYPE_CHECKING:
    from persona.memory.style import StyleCard
    from persona.profile import Person

_TITLES = frozenset(
    ["dr", "mr", "mrs", "ms", "miss", "mx", "prof", "professor", "sir", "dame", "rev", "fr", "hon"]
)
_SUFFIXES = frozenset(["jr", "sr", "ii", "iii", "iv", "phd", "md", "mba", "esq", "cpa"])
# Mailboxes no person answers, and the first word of display names that are no person ("Sales Team").
_ROLE_WORDS = frozenset(
    [
        "info",
        "sales",
        "support",
        "help",
        "helpdesk",
        "admin",
        "administrator",
        "office",
        "team",
        "noreply",
        "no-reply",
        "donotreply",
        "do-not-reply",
        "newsletter",
        "newsletters",
        "news",
        "updates",
        "notifications",
        "notification",
        "alerts",
        "alert",
        "billing",
        "accounts",
        "marketing",
        "hr",
        "service",
        "services",
        "contact",
        "hello",
        "mail",
        "mailer",
        "postmaster",
        "webmaster",
        "enquiries",
        "inquiries",
        "reception",
        "customer",
        "announcements",
        "community",
        "feedback",
        "orders",
        "the",
    ]
)
_TEAM_WORDS = frozenset(
    [
        "team",
        "support",
        "service",
        "services",
        "newsletter",
        "news",
        "updates",
        "notifications",
        "alerts",
        "announcements",
        "desk",
        "office",
        "department",
    ]
)
_NAME_TOKEN = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")
_INITIAL = re.compile(r"(?:[^\W\d_]\.)+|[^\W\d_]")
_DAY_OR_MONTH = re.compile(
    r"(?:mon|tues?|wed(?:nes)?|thu(?:rs)?|fri|sat(?:ur)?|sun)(?:day)?"
    r"|jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:tember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?|today|tomorrow",
    re.IGNORECASE,
)

# How a model opens and closes: a greeting word, a placeholder where a name belongs, a preamble line.
_GREETING_WORD = re.compile(
    r"^(hi|hello|hey|heya|hiya|dear|good (?:morning|afternoon|evening)|greetings)(?![\w'’])", re.IGNORECASE
)
_I = frozenset(["I", "I'm", "I'll", "I've", "I'd"])  # capitalised, yet no name
_PLACEHOLDER = re.compile(r"(?:\[[^\]\n]{1,40}\]|<[^>\n@]{1,40}>|\byour name\b)", re.IGNORECASE)
_PREAMBLE = re.compile(
    r"^(?:(?:sure|certainly|okay|ok|of course)[,!.]?\s*)?here(?:'s| is)\b.{0,60}"
    r"\b(?:reply|response|draft|e-?mail|mail|message)\b.*:$",
    re.IGNORECASE,
)
_RULE = re.compile(r"\s*(?:[-—–_=*~]\s*){2,}")
_POSTSCRIPT = re.compile(r"^p\.?\s?s\b\.?", re.IGNORECASE)
_CONTACT = re.compile(r"\S+@\S+\.\w+|https?://|www\.|^[+(]?\d[\d\s().-]{6,}$")
_ABBREVIATIONS = frozenset(
    [
        "dr",
        "mr",
        "mrs",
        "ms",
        "mx",
        "prof",
        "st",
        "vs",
        "e.g",
        "i.e",
        "approx",
        "no",
        "jr",
        "sr",
        "inc",
        "ltd",
        "corp",
        "co",
    ]
)
_SENTENCE_END = re.compile(r"[.!?]+[\"'”’)\]]*(?=\s|$)|\n")
# The owner greets (or signs off) in at least this share of their mail: it is a habit. Low, because the
# card sees all sent mail (forwards, one-line notes) and misses unusual forms: an assistant's real mail
# signed "Rosalee" in most replies scored 0.3. Writing the owner's usual form beats leaving it out.
_GREET_THRESHOLD = 0.2


def greeting_name(display: str, address: str = "", known: Iterable[Person] = (), *, text: str = "") -> str:
    """The first name to greet a sender by, or "" when there is none to trust (then greet without a name).

    In order: the profile's person with this address; the display name ("Lay, Kenneth", "maria
    mitchell/enron", "Maria Mitchell/HOU/ECT@ECT", "'Smith, John A.'", "Dr. Priya Raman" all give the
    first name, case normalised; "Dr. Raman" stays as it is); the address when it is first.last
    ("kenneth.lay@…" -> "Kenneth"; "klay@…", "info@…", "noreply@…" give ""); and, given the mail's
    `text`, the name the sender signs with when it fits the address ("Thanks,\\nKen" from klay@… ->
    "Ken")."""
    address = address.strip().lower()
    person = next((p for p in known if address and address in p.emails), None)
    if person is not None and (name := _from_display(person.name)):
        return name
    return _from_display(display) or _from_address(address) or _signed_name(text, address)


def _from_display(display: str) -> str:
    name = display.strip().strip("\"'“”‘’` ").strip()
    if "@" in name and " " not in name:  # the address as the display name
        return _from_address(name)
    name = re.sub(r"\([^)]*\)|\[[^\]]*\]|<[^>]*>", " ", name)  # "(Legal)", "<addr>", "[Name]"
    name = re.split(r"\s*(?:/|@|\bvia\b)", name, maxsplit=1, flags=re.IGNORECASE)[0]  # "/HOU/ECT", "@ENRON"
    if "," in name:  # "Lay, Kenneth" / "Smith, John A." / but "John Smith, PhD"
        surname, _, given = name.partition(",")
        given_words = [w for w in given.replace(",", " ").split() if w.strip(".").lower() not in _SUFFIXES]
        name = " ".join(given_words) or surname
    words = [w.strip("\"'“”‘’`,;:") for w in name.split()]
    words = [w for w in words if w and w not in {"-", "—", "–"}]
    titles = []
    while words and words[0].rstrip(".").lower() in _TITLES:
        titles.append(words.pop(0))
    if len(words) == 1 and re.fullmatch(r"\w+(?:[._]\w+)+", words[0]):  # "kenneth.lay" as a display name
        return _from_address(words[0])
    if titles and len(words) == 1:  # "Dr. Raman": no first name to use, the title keeps it polite
        return f"{titles[-1]} {_cased(words[0])}" if _NAME_TOKEN.fullmatch(words[0]) else ""
    while len(words) > 2 and _INITIAL.fullmatch(words[0]):  # "J. Robert Smith" -> "Robert"
        words.pop(0)
    if not words or _INITIAL.fullmatch(words[0]) or not _NAME_TOKEN.fullmatch(words[0]):
        return ""
    if words[0].lower() in _ROLE_WORDS or words[-1].lower() in _TEAM_WORDS:
        return ""
    return _cased(words[0])


def _from_address(address: str) -> str:
    """A first name from a first.last address; "" for anything else (klay@, info@, j.smith@)."""
    local = address.partition("@")[0].partition("+")[0].lower()
    parts = [p for p in re.split(r"[._-]+", local) if p]
    if local in _ROLE_WORDS or len(parts) < 2 or any(p in _ROLE_WORDS for p in parts):
        return ""
    first = re.sub(r"\d+$", "", parts[0])
    return _cased(first) if len(first) > 1 and first.isalpha() else ""


def _signed_name(text: str, address: str) -> str:
    """The name the sender signs with ("Thanks,\\nKen"), when the address could be theirs (it starts with
    the name's initial or holds the name)."""
    closing = signoff_of(text) if text else ""
    match = SIGNOFF.match(closing)
    rest = (closing[match.end() :] if match else closing).strip(" ,.!-—–")
    local = address.partition("@")[0]
    if not (_NAME_TOKEN.fullmatch(rest) and rest[:1].isupper() and 2 <= len(rest) <= 15 and local):
        return ""
    return rest if local.startswith(rest[0].lower()) or rest.lower() in local else ""


def _cased(word: str) -> str:
    """ "MARIA" and "maria" -> "Maria", "jean-luc" -> "Jean-Luc"; "McKenzie" as written."""
    if word.isupper() or word.islower():
        return "-".join(part[:1].upper() + part[1:].lower() for part in word.split("-"))
    return word


def usual_greeting(style: StyleCard | None, them: str) -> str:
    """The owner's usual greeting line for `them` ("Hi {name}," -> "Hi Maria,"), "Hi Maria," without a card,
    "" when the owner mostly writes none. Greetings to a group ("Hi all,") are not used for one person."""
    template = "Hi {name},"
    if style is not None and style.samples:
        if sum(share.share for share in style.greetings) < _GREET_THRESHOLD:
            return ""
        personal = [g.text for g in style.greetings if not _is_group(g.text)]
        template = personal[0] if personal else _for_one(style.greetings[0].text)
    if them:
        return template.replace("{name}", them)
    if template.lower().startswith("dear"):  # "Dear," names nobody
        return "Hello,"
    return re.sub(r"\s*\{name\}", "", template)


def _is_group(template: str) -> bool:
    words = re.findall(r"[\w']+", template.lower())
    return "{name}" not in template and any(w in GROUP_WORDS for w in words)


def _for_one(template: str) -> str:
    """A greeting to a group made one to a person: "Morning team," -> "Morning {name},"."""
    words = template.split()
    group = next(i for i, w in enumerate(words) if w.strip(",!.:—–-").lower() in GROUP_WORDS)
    trailing = re.search(r"[,!.:—–-]*$", template).group(0)  # type: ignore[union-attr]
    return f"{' '.join(words[:group]) or 'Hi'} {{name}}{trailing or ','}"


def usual_signoff(style: StyleCard | None, owner_name: str) -> str:
    """The owner's usual closing as lines ("Thanks, Dana" -> "Thanks,\\nDana"); "Best,\\n<first name>" without
    a card; "" when the owner mostly signs off with nothing."""
    if style is None or not style.samples:
        first = owner_name.split()[0] if owner_name.strip() else ""
        return f"Best,\n{first}".strip()
    if not style.signoffs or sum(share.share for share in style.signoffs) < _GREET_THRESHOLD:
        return ""
    text = style.signoffs[0].text
    words = text.split()
    for k in range(1, len(words)):  # the card keeps "Thanks,\nDana" as "Thanks, Dana": the name goes below
        head = " ".join(words[:k])
        if is_name(" ".join(words[k:]), owner_name) and (head.endswith(",") or SIGNOFF.match(head)):
            return head + "\n" + " ".join(words[k:])  # not "— D", which is one line
    return text


def usual_language(style: StyleCard | None) -> str:
    """The ISO 639-1 code of the language the owner's mail is mostly in ("" when unknown). Not a translator:
    a caller may check a draft with `persona.memory.style.language_of` against it."""
    return style.language if style is not None else ""


def length_range(style: StyleCard | None) -> tuple[int, int] | None:
    """The owner's usual length in words of a whole mail (10th–90th percentile; 25th–75th on cards saved
    before those were kept); None without a card of at least 5 mails."""
    if style is None or style.samples < 5:
        return None
    low, high = (style.words_p10, style.words_p90) if style.words_p90 else (style.words_p25, style.words_p75)
    return math.floor(low), math.ceil(high)


def within_length(text: str, style: StyleCard | None) -> bool:
    """Whether a finished mail (greeting and sign-off included, as the card counts) is of the owner's usual
    length; True when the card cannot say."""
    usual = length_range(style)
    return usual is None or usual[0] <= word_count(text) <= usual[1]


def finish_reply(body: str, *, them: str, owner_name: str, style: StyleCard | None) -> str:
    """The reply as it goes out: the owner's usual greeting for `them` (or none), the model's text without
    any greeting, sign-off or signature it wrote, and the owner's usual sign-off; a "P.S." stays after it.
    A text more than twice the owner's usual maximum length is cut to it at the end, by whole sentences,
    never below the first. "" when the model wrote nothing but greeting and sign-off."""
    them = greeting_name(them) if them else ""
    content, postscript = reply_content(body, owner_name=owner_name, them=them, style=style)
    if not content:
        return ""
    greeting, signoff = usual_greeting(style, them), usual_signoff(style, owner_name)
    usual = length_range(style)
    if usual is not None:
        form = word_count(greeting) + word_count(signoff) + word_count(postscript)
        if form + word_count(content) > 2 * usual[1]:
            content = trim_to(content, usual[1] - form)
    return "\n\n".join(part for part in (greeting, content, signoff, postscript) if part)


def reply_content(
    body: str, *, owner_name: str, them: str = "", style: StyleCard | None = None
) -> tuple[str, str]:
    """(what the model wrote without a preamble, greeting, sign-offs or signature lines; a trailing "P.S."
    paragraph). A mid-body "Thanks!" stays; at the very end it is a sign-off, unless it is all there is."""
    lines = [line.rstrip() for line in body.strip().split("\n")]
    if lines and _PREAMBLE.match(lines[0].strip()):
        lines = lines[1:]
    lowercase = style is not None and style.lowercase_start_rate >= 0.3  # "hi sam, yes" stays "yes"
    signs = (
        [owner_name, *(share.text for share in style.signoffs if "\n" not in share.text)]
        if style
        else [owner_name]
    )
    lines = _without_greeting(_name_on_its_own_line(lines, signs), them, owner_name, lowercase=lowercase)
    starts = [i for i, line in enumerate(lines) if _POSTSCRIPT.match(line.strip())]
    postscript = "\n".join(_without_closings(lines[starts[-1] :], owner_name)).strip() if starts else ""
    lines = lines[: starts[-1]] if starts else lines
    kept = _without_closings(lines, owner_name)
    content = "\n".join(kept).strip()
    if not content:  # "Thanks!\nDani": the thanks is the message
        content = next((t for line in lines if (t := _bare_thanks(line.strip()))), "")
    return content, postscript if content else ""


def _name_on_its_own_line(lines: list[str], signs: list[str]) -> list[str]:
    """ "…get together again. Rosalee" or "…better? — D" near the end: the owner's name (whole or first) or
    one of their sign-offs run into the last sentence is a signature, put on its own line."""
    names = sorted(
        {n.strip() for sign in signs for n in (sign, *sign.split()[:1]) if len(n.strip()) > 1}
        | {s.strip() for s in signs if s.strip()},
        key=len,
        reverse=True,
    )
    text = [i for i, line in enumerate(lines) if line.strip()]
    for i in reversed(text[-2:]):  # the last line, or the one above a name on its own
        for name in names:
            if run_in := re.match(rf"^(.*[.!?])\s+{re.escape(name)}\s*$", lines[i]):
                return [*lines[:i], run_in.group(1), name, *lines[i + 1 :]]
    return lines


def _without_greeting(lines: list[str], them: str, owner_name: str, *, lowercase: bool) -> list[str]:
    for _ in range(2):  # a model sometimes greets twice
        filled = next((i for i, line in enumerate(lines) if line.strip()), None)
        if filled is None:
            return lines
        rest = _after_greeting(lines[filled].strip(), them, owner_name)
        if rest is None:
            return lines
        if rest and not lowercase:
            rest = rest[0].upper() + rest[1:]
        lines = ([rest] if rest else []) + lines[filled + 1 :]
    return lines


def _after_greeting(line: str, them: str, owner_name: str) -> str | None:
    """What follows a greeting that opens the line ("Hi Sam, yes." -> "yes.", "Hi maria mitchell/enron-" ->
    ""), or None when the line opens with no greeting."""
    opening = _GREETING_WORD.match(line)
    if not opening:
        return None
    rest = line[opening.end() :]
    tokens = list(re.finditer(r"\S+", rest))[:4]
    known = {w.lower() for w in (them, *owner_name.split()) if w} | GROUP_WORDS | {"and", "or", "&"}
    for n, token in enumerate(tokens, 1):  # a name of up to four words, then the greeting's punctuation
        if _ends_greeting(token.group()):
            said = [t.group() for t in tokens[:n]]
            return rest[token.end() :].strip() if n == 1 or _names_someone(said, known) else None
    named = 0
    for i, token in enumerate(tokens):
        word = token.group()
        # an address or a directory name runs to here
        if re.search(r"[@/\]>]", word) or (named == i and _names_someone([word], known)):
            named = i + 1
    if named == 0 and tokens:
        return None  # "Hello from the team": no greeting to take off
    return rest[tokens[named - 1].end() :].strip() if named else ""


def _ends_greeting(word: str) -> bool:
    if word[-1] in ",:;!—–-" or word in {"-", "—", "–"}:
        return True
    bare = word.rstrip(".").lower()
    return word.endswith(".") and bare not in _TITLES and not _INITIAL.fullmatch(bare)


def _names_someone(words: list[str], known: set[str]) -> bool:
    """Whether the words after a greeting word are whom it greets: an address, a directory name or a
    placeholder anywhere, else only names, titles and known words ("Mr. and Mrs. Smith", "there")."""
    if any(re.search(r"[@/\]>]", w) for w in words):
        return True
    bare = [w.strip(".,:;!-—–") for w in words]
    return all(not w or w.lower() in known or (w[:1].isupper() and w not in _I) for w in bare)


def _without_closings(lines: list[str], owner_name: str) -> list[str]:
    """`lines` without the sign-offs and signature lines at the end, however many blocks of them."""
    while True:
        filled = [i for i, line in enumerate(lines) if line.strip()]
        texts = [lines[i].strip() for i in filled]
        start = next(
            (
                j
                for j in range(max(0, len(texts) - 6), len(texts))
                if _is_closing(texts[j], owner_name)
                and all(_is_signature(t, owner_name) for t in texts[j + 1 :])
            ),
            None,
        )
        if start is None:
            return lines
        lines = lines[: filled[start]]


def _is_closing(line: str, owner_name: str) -> bool:
    """A sign-off line: "Best regards,", "Thanks!", "Sincerely, Dani Kim", "— D", "[Your Name]", or the rule
    ("---", "-- ") a signature starts with."""
    if is_name(line, owner_name) or _PLACEHOLDER.fullmatch(line.strip(" ,.-—–")) or _RULE.fullmatch(line):
        return True
    phrase = SIGNOFF.match(line)
    if not phrase:
        return False
    rest = line[phrase.end() :].strip(" ,.!:;-—–")
    return not rest or _signs_as(rest, owner_name)


def _signs_as(rest: str, owner_name: str) -> bool:
    """A name after a closing phrase: the owner's ("Dani — D"), a placeholder, up to three capitalised words
    the model signs with, or the recipient's ("Thanks, Maria"); never a day ("See you Tuesday")."""
    chunks = [c for c in re.split(r"\s*[—–,|]\s*|\s+-\s*", rest) if c]
    return all(is_name(c, owner_name) or _PLACEHOLDER.fullmatch(c) or _a_name(c) for c in chunks)


def _a_name(words: str) -> bool:
    names = words.split()
    return len(names) <= 3 and all(
        _NAME_TOKEN.fullmatch(w) and w[:1].isupper() and w not in _I and not _DAY_OR_MONTH.fullmatch(w)
        for w in names
    )


def _is_signature(line: str, owner_name: str) -> bool:
    """A line of a signature block: a closing, a name, a job title ("Head of Ops"), a company, contact
    details or a placeholder; not a sentence."""
    if _is_closing(line, owner_name) or _CONTACT.search(line) or _PLACEHOLDER.search(line):
        return True
    words = line.split()
    if len(words) > 6 or line[-1] in "?!:":
        return False
    if line.endswith(".") and words[-1].rstrip(".").lower() not in _ABBREVIATIONS:
        return False
    small = {"of", "and", "&", "at", "for", "the", "de", "van", "von", "-", "—", "–", "|"}
    return all(w[:1].isupper() or w.lower() in small for w in words) and words[0] not in _I


def _bare_thanks(line: str) -> str:
    """ "Thanks!" from a closing that thanks ("Thanks!", "Many thanks, Dani"); "" otherwise."""
    phrase = SIGNOFF.match(line)
    if not phrase or "thank" not in phrase.group(1).lower():
        return ""
    said = phrase.group(1)
    return said[0].upper() + said[1:] + ("!" if "!" in line else ".")


def trim_to(content: str, max_words: int) -> str:
    """`content` cut at the end by whole sentences to at most `max_words` words, never below its first
    sentence; a cut that would end on a colon (a list's lead-in) goes one sentence further back."""
    ends = [m.end() for m in _SENTENCE_END.finditer(content) if not _abbreviation_before(content, m.start())]
    ends = [e for e in ends if content[:e].strip()] or [len(content)]
    fitting = [e for e in ends if word_count(content[:e]) <= max_words] or ends[:1]
    cut = fitting[-1]
    while content[:cut].rstrip().endswith(":") and fitting.index(cut) > 0:
        cut = fitting[fitting.index(cut) - 1]
    return content[:cut].strip()


def _abbreviation_before(text: str, dot: int) -> bool:
    """Whether the "." at `dot` ends an abbreviation ("Dr.", "e.g.") or an initial rather than a sentence."""
    if text[dot] != ".":
        return False
    word = re.findall(r"[\w.]+$", text[:dot])
    return bool(word) and (word[0].lower() in _ABBREVIATIONS or (len(word[0]) == 1 and word[0].isalpha()))

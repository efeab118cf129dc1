"""Reading a request before any model sees it: which skills its words point to, and how surely.

What people say to an assistant has strong surface cues: a verb (book, move, push, cancel, tell, let
X know, remember, approve, drop it), an object (a meeting, a mail, a draft), a person, a time. Each
cue below names the skill it points to and how sure it is: `strong` is enough to act on alone;
`weak` needs the model's agreement (persona.agent.choose). The cues are about the language of
delegation in general, not about any one owner's data: people are matched against the profile, days
and times by the scheduling skill's parser, later, in the skill that needs them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import IntEnum

from pydantic import BaseModel

from persona.events import Principal
from persona.profile import Profile
from persona.skills.people import Named, people_named
from persona.skills.prompt import first_name


class Sure(IntEnum):
    WEAK = 1
    STRONG = 2


# Skill names: what the chooser picks among and the toolbox registers.
RECALL = "recall"
AGENDA = "agenda"
FREE_TIME = "free_time"
BOOK = "book_meeting"
MOVE = "move_meeting"
CANCEL = "cancel_meeting"
WRITE_MAIL = "write_mail"
REPLY_MAIL = "reply_mail"
FORWARD_MAIL = "forward_mail"
APPROVALS = "approvals"
REMEMBER = "remember"
BRIEF = "brief"
MESSAGES = "messages"
CORRECT_TRIAGE = "correct_triage"
AVAILABILITY = "availability"
REQUEST_MEETING = "request_meeting"
LEAVE_MESSAGE = "leave_message"

_MEETING = (
    r"(?:meeting|meet|mtg|call|sync|catch[- ]?up|1:1|1-1|1on1|one[- ]on[- ]one|chat|coffee|lunch|session|"
    r"review|demo|interview|appointment|standup|stand-up|workshop|huddle|check[- ]in|hold|slot|time|"
    r"focus(?: time| block)?|block|invite|sesh)"
)
_LENGTH = (
    r"(?:\d+\s*(?:-\s*)?(?:m\b|min|mins|minutes?|h\b|hr|hrs|hours?)|half an hour|an hour|one hour|"
    r"two hours|(?:fifteen|twenty|thirty|forty[- ]five|ninety) minutes|quarter of an hour|"
    r"\b(?:15|20|30|45|60|90)\b(?! ?(?:am|pm|:)))"
)
_DAYS = (
    r"(?:today|tonight|tomorrow|tmrw|tmr|monday|tuesday|wednesday|thursday|friday|saturday|sunday|"
    r"\bmon\b|\btue\b|\btues\b|\bwed\b|\bthu\b|\bthur\b|\bthurs\b|\bfri\b|weekend|this week|next week|"
    r"morning|afternoon|evening|\bam\b|\bpm\b|\d{1,2}(?::\d{2})?\s*(?:am|pm)|\d{1,2}:\d{2})"
)
_WHEN = r"(?:" + _DAYS + r"|\d{1,2}(?::\d{2})?\s*(?:am|pm)|later|earlier|back|forward|next week)"
_WITH = r"(?:with\b|w/|w\b)"
_MAIL_NOUN = r"(?:note|line|message|mail|e-?mail|word|reminder|heads[- ]up|msg)"
_DRAFT = r"(?:draft|reply|response|answer|mail|e-?mail|message|invite|invitation|request|meeting request)"
_QUESTION = re.compile(
    r"\?\s*$|^\s*(?:what|who|whom|when|where|why|how|which|whose|did|do|does|is|are|was|were|has|have|had|"
    r"can you tell|could you tell|tell me|any idea|remind me)\b"
)
# How to answer, not what is asked: read past, so "…? Be specific." is the same question ("be brief" is
# no request for the brief)
_MANNER = re.compile(
    r"\b(?:please\s+)?(?:be\s+(?:more\s+|very\s+|as\s+)?(?:specific|precise|concise|brief|detailed|thorough|"
    r"exact|explicit|clear)(?:\s+as\s+(?:you\s+can|possible))?|in\s+(?:more\s+|full\s+|great\s+|some\s+)?"
    r"detail|with\s+(?:more\s+|full\s+|all\s+the\s+)?details|(?:keep|make)\s+it\s+(?:short|brief|quick|"
    r"concise)|briefly|in short|in a nutshell|step by step|tl;?dr)\b(?:\s*,?\s*please)?[.!,;:]?",
    re.IGNORECASE,
)
# A sentence that asks about something done, not for it to be done: "did I book…?", "have you sent…?"
_PAST = re.compile(r"^\s*(?:did|have|had|was|were|has)\s+(?:i|we|you)\b")
# The owner asking about their own doing: a question whose subject is "I" or "we" ("by when do I have to
# reply…", "should I accept…", "what should I tell…", "is it ok to decline…", "tell me whether I…"). A
# request put politely ("could you reply…", "can you book…", "can I get 30 min with…") is not one.
_ASKS = re.compile(
    r"^\s*(?:(?:and|so|but|ok|okay|also|hmm|quick question)[,:\s]+)*(?:"
    r"(?:(?:by|until|till|before|from|for|at|since)\s+)?(?:what|when|which|who|whom|whose|where|why|how)\b"
    r"(?:\s+[\w':]+){0,3}?\s+(?:do|does|did|should|shall|must|have|has|had|need|am|was|were|will|would|can|"
    r"could|ought)\s+(?:i|we)\b"
    r"|(?:do|did|should|shall|must|need|ought|have|had|am|was|were|will)\s+(?:i|we)\b"
    r"|(?:did|have|has|had)\s+you\b"
    r"|(?:is|was|would|will)\s+it\s+(?:\w+\s+){0,2}?(?:ok|okay|fine|alright|wise|worth|a good idea|too late|"
    r"necessary|rude|better|urgent)\b"
    r"|(?:(?:can|could|would) you\s+)?(?:tell me|remind me|any idea|do you know)\s*,?\s+(?:if|whether|when|"
    r"what|which|who|by when|how)\b"
    r")"
)
_WH = re.compile(
    r"^\s*(?:(?:by|until|till|before|from|for|since)\s+)?(?:what|when|which|who|whom|whose|where|why|how)\b"
)
_SENTENCE = re.compile(r"[^.?!]+[.?!]*")
_YES = re.compile(
    r"^\s*(?:(?:yes|yep|yeah|yup|sure|ok|okay|k|fine|go ahead|do it|please do|please|correct|right|"
    r"sounds good|that works|works for me|perfect|great|confirm(?:ed)?|book it|send it|approved?|"
    r"lgtm|ship it|go for it|absolutely|definitely|thanks|thank you)\b[\s.!,]*)+$"
)
_SOCIAL = re.compile(
    r"^\s*(?:hi|hello|hey|thanks|thank you|cheers|good (?:morning|afternoon|evening)|bye|ok|okay|"
    r"great|cool|nice)\b[\s\w,!.']{0,30}$"
)
_NO = re.compile(
    r"^\s*(?:no|nope|nah|cancel|never ?mind|forget it|don'?t|do not|stop|leave it|not now|skip it|"
    r"drop it|scratch that)\b"
)
_ORDINALS = {
    "first": 1,
    "1st": 1,
    "one": 1,
    "second": 2,
    "2nd": 2,
    "two": 2,
    "third": 3,
    "3rd": 3,
    "three": 3,
    "fourth": 4,
    "4th": 4,
    "four": 4,
    "fifth": 5,
    "5th": 5,
    "last": -1,
}
_ORDINAL = re.compile(r"^\s*(?:the\s+|option\s+|number\s+|#)?(" + "|".join(_ORDINALS) + r"|\d)\b(?:\s+one)?")


@dataclass(frozen=True)
class Cue:
    skill: str
    sure: Sure
    pattern: re.Pattern[str]


def _cue(skill: str, sure: Sure, pattern: str) -> Cue:
    return Cue(skill, sure, re.compile(pattern))


# The owner's cues. Order does not decide: every cue that matches counts (see choose.py).
OWNER_CUES = [
    # the calendar, read
    _cue(
        AGENDA,
        Sure.STRONG,
        r"\b(?:what'?s|what is|what do i have|what have i got|anything|what does)\b[^.?!]*"
        r"\b(?:on|planned|scheduled|booked|happening|look like|calendar|schedule|agenda|diary|meetings?)\b",
    ),
    _cue(AGENDA, Sure.STRONG, r"\b(?:my|the)\s+(?:calendar|schedule|agenda|diary)\b[^.!]*(?:\?|$)"),
    _cue(
        AGENDA,
        Sure.STRONG,
        r"\b(?:how does|how's|how is)\s+(?:my\s+|this\s+|next\s+|the\s+)*" + _DAYS + r"[^.!]*\blook",
    ),
    _cue(
        AGENDA,
        Sure.STRONG,
        r"^\s*(?:is there\s+)?anything\s+(?:on\s+|for\s+|planned\s+)?(?:this\s+|next\s+)?" + _DAYS,
    ),
    _cue(
        AGENDA,
        Sure.STRONG,
        r"\bwalk me through\b|\b(?:what'?s|what is)\s+(?:my\s+)?(?:this\s+|next\s+)?"
        + _DAYS
        + r"\s+(?:like|looking like)\b",
    ),
    _cue(AGENDA, Sure.WEAK, r"\b(?:what'?s|what is|anything)\b[^.?!]*\b(?:this\s+|next\s+)?" + _DAYS),
    _cue(
        AGENDA,
        Sure.STRONG,
        r"\bwhen(?:'s| is| are| do i have| am i (?:seeing|meeting))\b[^.!]*\b(?:my|the|next)\b[^.!]*"
        + _MEETING,
    ),
    _cue(
        AGENDA,
        Sure.STRONG,
        r"\b(?:do|will|am) i\s+(?:see|meet|meeting|seeing|talk to|have anything with)\s+\w+[^.!]*"
        r"(?:\?|$)",
    ),
    _cue(
        AGENDA,
        Sure.STRONG,
        r"\b(?:who am i|who do i)\s+(?:meeting|seeing|have)\b|\bhow many meetings\b|"
        r"\bdo i have (?:any |a |an )?(?:meetings?|calls?|anything|something)\b",
    ),
    _cue(FREE_TIME, Sure.STRONG, r"\b(?:am i|are we)\s+(?:free|available|busy|open)\b"),
    _cue(
        FREE_TIME,
        Sure.STRONG,
        r"\bwhen\s+(?:am i|could i|can i|do i have|would i be|will i be)\b[^.!]*"
        r"\b(?:free|time|fit|squeeze|available|slot|gap|room)\b",
    ),
    _cue(
        FREE_TIME,
        Sure.STRONG,
        r"\b(?:free|open|available)\s+(?:time|slots?|windows?|gaps?|hours?)\b|"
        r"\bwhere (?:could|can|would) i (?:fit|squeeze|put)\b|\bdo i have (?:time|room|space|a gap) for\b",
    ),
    _cue(
        FREE_TIME,
        Sure.STRONG,
        r"\b(?:is there|are there|any|do i have|have i got|got)\b[^.?!]*\b(?:gap|room|space|window"
        r"|opening|free slot|hole|breathing room)s?\b|\bwhere(?:'s| is)?\b[^.?!]*\b(?:room|space|gap|window)\b",
    ),
    _cue(
        FREE_TIME,
        Sure.STRONG,
        r"\b(?:is there|are there|any)\s+(?:any\s+|a\s+|an\s+)?(?:day|days|time|morning|afternoon|"
        r"evening|slot)s?\b[^.?!]*\b(?:could|can|free|fit|open|available|nothing on|clear)\b",
    ),
    _cue(FREE_TIME, Sure.STRONG, r"^\s*(?:am i\s+)?free\b|\b(?:got|have|with)\s+nothing\s+on\b"),
    _cue(FREE_TIME, Sure.WEAK, r"\bfind me (?:an?|some|\d+)\b"),
    # the calendar, changed
    _cue(
        BOOK,
        Sure.STRONG,
        r"\b(?:book|schedule|set up|setup|arrange|organi[sz]e|pencil in|pencil|lock in|slot in|"
        r"put in|block(?: out| off)?|reserve|add|put|plan)\b[^.?!]*\b" + _MEETING + r"\b",
    ),
    _cue(
        BOOK,
        Sure.STRONG,
        r"\b(?:book|schedule|set up|arrange|block(?: out| off)?|reserve|pencil in|hold)\s+" + _LENGTH,
    ),
    _cue(
        BOOK,
        Sure.STRONG,
        r"\bon the (?:books|calendar|diary|schedule)\b|\bin (?:my|the) (?:calendar|diary)\b",
    ),
    _cue(
        BOOK,
        Sure.WEAK,
        r"\b(?:find|get|grab|make|carve out)\b[^.?!]*\b(?:" + _LENGTH + r"|time|a slot|a meeting|"
        r"a call|some time)\b[^.?!]*\b" + _WITH,
    ),
    _cue(
        BOOK,
        Sure.STRONG,
        r"^\s*(?:(?:please|pls|can you|could you)\s+)?(?:get me\s+|give me\s+)?(?:a\s+)?"
        + _LENGTH
        + r"\s+(?:\w+\s+){0,2}?"
        + _WITH
        + r"\s+\w",
    ),
    _cue(
        BOOK,
        Sure.STRONG,
        r"\b(?:find|get|grab|make|carve out)\b[^.?!]*\b(?:"
        + _LENGTH
        + r"|time|a slot)\b[^.?!]*\b"
        + _WITH
        + r"[^.?!]*\b"
        + _WHEN,
    ),
    _cue(
        BOOK,
        Sure.STRONG,
        r"\b(?:pop|popping|stick|slot|squeeze|fit|put|book|pencil|get|block)\s+(?:me|us|something|"
        r"some time|a (?:meeting|call|chat|slot)|(?:a |an )?"
        + _LENGTH
        + r"|it|\w+)?\s*in\s+(?:"
        + _WITH
        + r"|for|on|the|my|"
        r"her|his)\b",
    ),
    _cue(BOOK, Sure.STRONG, r"^\s*(?:a\s+)?" + _MEETING + r"\s+" + _WITH + r"\s*\w+"),
    _cue(BOOK, Sure.WEAK, r"\b(?:meet|meeting|call|sync|catch up|1:1) " + _WITH),
    _cue(
        MOVE,
        Sure.STRONG,
        r"\b(?:move|push|reschedule|re-schedule|shift|postpone|bump|delay|rebook|re-book|slide|"
        r"swap)\b[^.?!]*\b(?:" + _MEETING + r"|" + _WHEN + r")",
    ),
    _cue(
        MOVE, Sure.STRONG, r"\b(?:bring|pull)\b[^.?!]*\b(?:forward|in|earlier)\b|\b(?:reschedule|postpone)\b"
    ),
    _cue(MOVE, Sure.WEAK, r"\b(?:change|make)\b[^.?!]*\b(?:earlier|later|time of)\b|\binstead\b"),
    _cue(
        CANCEL,
        Sure.STRONG,
        r"\b(?:cancel|call off|scrap|scratch|delete|remove|axe|kill|clear)\b[^.?!]*\b(?:"
        + _MEETING
        + r"|\d{1,2}(?::\d{2})?\s*(?:am|pm)|\d{1,2}:\d{2}|"
        + _DAYS
        + r")",
    ),
    _cue(
        CANCEL,
        Sure.STRONG,
        r"\b(?:drop|skip|ditch|bin)\s+(?:my|the|our|this|that|\w+'s)\s+(?:\w+\s+){0,3}?" + _MEETING + r"\b",
    ),
    _cue(CANCEL, Sure.WEAK, r"\b(?:drop|skip|ditch|won'?t make|can'?t make)\b[^.?!]*\b" + _MEETING),
    # mail
    _cue(
        WRITE_MAIL,
        Sure.STRONG,
        r"\b(?:e-?mail|mail|write(?: to)?|send|shoot|drop|message|ping|text)\b[^.?!]*\b" + _MAIL_NOUN + r"\b",
    ),
    _cue(
        WRITE_MAIL,
        Sure.STRONG,
        r"^\s*(?:please\s+|can you\s+|could you\s+|pls\s+)?(?:e-?mail|write to|mail|ping)\s+"
        r"(?!from\b)\w",
    ),
    _cue(
        WRITE_MAIL,
        Sure.STRONG,
        r"\b(?:tell|telling|let|letting)\s+\w+(?:\s+\w+)?\s+(?:know|that)\b|\b(?:tell|inform|notify|remind|"
        r"warn|thank|update|ask)\s+(?!me\b|you\b)\w+",
    ),
    _cue(
        REPLY_MAIL,
        Sure.STRONG,
        r"(?<!the )(?<!a )(?<!my )(?<!your )(?<!that )\b(?:reply|respond|write back|get back)\s+to\b|\b(?:reply|answer)\s+(?:\w+'s|her|his|"
        r"their)\b|^\s*(?:(?:ok|okay|please|pls|yes)[,\s]+)*(?:reply|answer)\b",
    ),
    _cue(
        FORWARD_MAIL,
        Sure.STRONG,
        r"^\s*(?:(?:please|pls|can you|could you)\s+)?(?:forward|fwd|fw)\b|\b(?:forward|fwd)"
        r"\b[^.?!]*\b(?:mail|e-?mail|message|note|invoice|thread|it|this|that|them)\b[^.?!]*\bto\b",
    ),
    _cue(
        FORWARD_MAIL,
        Sure.WEAK,
        r"\bpass (?:it|that|this|the [\w\s']*(?:mail|e-?mail|message)) (?:on |along )?to\b",
    ),
    # the approvals queue
    _cue(
        APPROVALS,
        Sure.STRONG,
        r"\b(?:approve|approval|approvals|reject|sign[- ]?off on|pending|queued|"
        r"waiting (?:for|on) (?:me|my))\b",
    ),
    _cue(
        APPROVALS,
        Sure.STRONG,
        r"\b(?:draft|reply|response|mail|e-?mail|invite|request)\s+(?:\w+\s+)?(?:looks|is|seems)"
        r"\s+(?:fine|good|great|ok|okay|right|perfect)\b",
    ),
    _cue(
        APPROVALS,
        Sure.STRONG,
        r"\b(?:send|ship|go ahead with|accept|confirm|decline|discard|bin|trash|scrap|"
        r"don'?t send|do not send|drop|cancel|kill)\s+(?:the|that|this|my|it|\w+'s)?\s*(?:\w+\s+)?"
        + _DRAFT
        + r"\b",
    ),
    _cue(
        APPROVALS,
        Sure.STRONG,
        r"\b(?:edit|change|reword|rewrite|shorten|update)\s+(?:the|that|this|my)\s+"
        r"(?:\w+\s+)?(?:draft|reply|response)\b",
    ),
    _cue(
        APPROVALS,
        Sure.STRONG,
        r"\b(?:go ahead with|green[- ]light|turn down|say no to|decline|accept)\b|\b(?:can|may) go"
        r" out\b|\bgood to go\b|\b(?:send|go out) (?:it |them )?as (?:it|they) (?:is|are)\b|\bas it is\b|"
        r"\b(?:asked for|requested|proposed|drafted|queued)\b[^.?!]*\b(?:approve|go|ok|fine|send)\b",
    ),
    _cue(APPROVALS, Sure.WEAK, r"\b(?:go ahead|send it|ship it|do it|book it)\b"),
    # notes, messages, the brief, triage
    _cue(
        REMEMBER,
        Sure.STRONG,
        r"^\s*(?:please\s+|pls\s+)?(?:remember|note(?: down)?|make a note|take a note|"
        r"keep in mind|don'?t forget|jot down|save (?:this|that|a note)|for the record|fyi)\b(?!\s+(?:when|what|"
        r"who|where|if|whether)\b)",
    ),
    _cue(
        REMEMBER,
        Sure.STRONG,
        r"\b(?:remember|note|make a note|keep in mind) that\b|\b(?:add|make|take|put|pop|jot|"
        r"leave)\s+(?:down\s+)?(?:a\s+|this\s+as\s+a\s+)?note\b|\bnote for the team\b",
    ),
    _cue(
        BRIEF,
        Sure.STRONG,
        r"\b(?:brief|briefing|rundown|run-down|daily summary|morning summary|catch me up|"
        r"what did i miss|summary of (?:my|the|today)|overview of (?:my|the) day)\b",
    ),
    _cue(
        MESSAGES,
        Sure.STRONG,
        r"\bdid\s+\w+\s+(?:leave|send)\s+(?:me\s+)?(?:anything|a message|a note|word|something)\b|"
        r"\b(?:messages?|notes?|word)\b[^.!]*\b(?:for me|left|waiting|from anyone)\b|"
        r"\bdid (?:anyone|anybody|someone|somebody)\b[^.!]*\b(?:leave|call|write|message|ask|say|ping|get in touch)|"
        r"\bany(?:thing| new)?\s+(?:new\s+)?messages?\b|\bwho (?:called|wrote|asked|left|pinged|messaged)\b|"
        r"\bmy messages\b",
    ),
    _cue(
        MESSAGES,
        Sure.WEAK,
        r"^\s*(?:anything|any news|heard anything|news) from \w+|\bwhat did \w+ (?:want|need|"
        r"ask|leave)\b",
    ),
    _cue(
        CORRECT_TRIAGE,
        Sure.STRONG,
        r"\b(?:mail|e-?mails?|messages?|newsletters?|stuff|notifications?|anything)\s+"
        r"from\s+\S+[^.?!]*\b(?:is|are|isn'?t|aren'?t|should|can|go|goes|needs?)\b[^.?!]*\b(?:important|unimportant|"
        r"spam|junk|noise|ignor\w*|urgent|reply|answer|response|skip\w*|fyi|notif\w*)\b",
    ),
    _cue(
        CORRECT_TRIAGE,
        Sure.STRONG,
        r"\b(?:mails?|e-?mails?|newsletters?|notifications?|updates?|digests?|alerts?)\b"
        r"[^.?!]*\b(?:don'?t|doesn'?t|do not|does not|never|no)\s+(?:need|want|require)s?\b|\b(?:is|are)\s+(?:just\s+)?"
        r"(?:noise|spam|junk)\b",
    ),
    _cue(
        CORRECT_TRIAGE,
        Sure.STRONG,
        r"\b(?:stick|put|move|file|send|mark|treat)\b[^.?!]*\b(?:in|into|to|as)\s+(?:the\s+)?"
        r"(?:ignore|ignored|spam|junk|not important)\b|\bfrom now on\b[^.?!]*\b(?:ignor\w*|spam|junk|not important)\b|"
        r"\b(?:ignor\w*|spam|junk)\b[^.?!]*\bfrom now on\b",
    ),
    _cue(
        CORRECT_TRIAGE,
        Sure.STRONG,
        r"\b(?:always|never|stop|don'?t)\s+(?:ignore|ignoring|show|showing|reply(?:ing)? "
        r"to|answer(?:ing)?|notify(?:ing)? me about|flag(?:ging)?|bother(?:ing)? me with|draft(?:ing)? replies to)\b|"
        r"\bmute\b",
    ),
]

# What colleagues, contacts and strangers say. `{me}` is the owner's first name.
OTHERS_CUES = [
    _cue(
        REQUEST_MEETING,
        Sure.STRONG,
        r"\b(?:can|could|shall|may|should|would)\s+(?:we|i|{me} and i|i and {me})\b[^.?!]*\b"
        r"(?:meet|find|get|grab|book|schedule|set up|setup|have|catch up|chat|talk|sync|squeeze|steal|borrow|sit down|"
        r"get together|go over|run through)\b",
    ),
    _cue(
        REQUEST_MEETING,
        Sure.STRONG,
        r"\b(?:pop|stick|slot|squeeze|fit|put|book|pencil|get)\s+(?:me|us|something|"
        r"some time|(?:a |an )?"
        + _LENGTH
        + r"|a (?:meeting|call|chat|slot))?\s*in\s+(?:"
        + _WITH
        + r"\s*)?(?:{me}|her|him|"
        r"them|with|for|on)\b",
    ),
    _cue(
        REQUEST_MEETING,
        Sure.STRONG,
        r"\b(?:book|schedule|set up|setup|arrange|put|pencil|find|grab|get|request|"
        r"reserve|organi[sz]e)\b[^.?!]*\b" + _MEETING + r"\b",
    ),
    _cue(
        REQUEST_MEETING,
        Sure.STRONG,
        r"\b(?:i'?d|i would|we'?d|we would) (?:like|love|want) to (?:meet|talk|chat|"
        r"schedule|book|set up|catch up|sync)\b|\b(?:meeting|call|time|chat) with (?:{me}|you|her|him|them)\b",
    ),
    _cue(
        REQUEST_MEETING,
        Sure.STRONG,
        r"\b(?:need|want|would like|'d like|'d love|would love)\b[^.?!]*\b(?:"
        + _LENGTH
        + r"|time|meeting|call|chat|slot|catch[- ]up|1:1)\b",
    ),
    _cue(REQUEST_MEETING, Sure.STRONG, _LENGTH + r"\s+" + _WITH + r"\s*(?:{me}|you|her|him|them)\b"),
    _cue(
        REQUEST_MEETING,
        Sure.STRONG,
        r"\b(?:can|could|would|will)\s+(?:{me}|she|he|they|you)\b[^.?!]*\b(?:spare|meet|"
        r"make time|fit|squeeze|join|see|give)\b[^.?!]*\b(?:"
        + _LENGTH
        + r"|"
        + _MEETING
        + r"|"
        + _WHEN
        + r")\b",
    ),
    _cue(
        REQUEST_MEETING,
        Sure.STRONG,
        r"\b(?:put|pencil|book|block|get|grab|find|set up|hold|reserve)\b[^.?!]*\b" + _LENGTH + r"\b",
    ),
    _cue(
        AVAILABILITY,
        Sure.STRONG,
        r"\b(?:is|are|will)\s+(?:{me}|she|he|they|you)\b[^.?!]*\b(?:free|available|busy|"
        r"around|in|booked|open)\b",
    ),
    _cue(
        AVAILABILITY,
        Sure.STRONG,
        r"\bwhen (?:is|'s|are|will)\s+(?:{me}|she|he|they|you)\b[^.?!]*\b(?:free|"
        r"available|around|back)\b|\b(?:{me}'?s?|her|his|their|your) (?:availability|calendar|schedule|diary)\b|"
        r"\bwhat (?:does|is|'s) (?:{me}|she|he|they)\b[^.?!]*\b(?:doing|have|up to|on)\b",
    ),
    _cue(
        LEAVE_MESSAGE,
        Sure.STRONG,
        r"\b(?:tell|inform|remind|warn|notify|update)\s+(?:{me}|her|him|them)\b|"
        r"\blet (?:{me}|her|him|them) know\b|\bpass (?:it|this|that|on|along|the message)\b|"
        r"\bleave (?:a |her |him |them )?(?:message|note|word)\b|\bask (?:{me}|her|him|them) to\b|"
        r"\bgive (?:{me}|her|him|them) a heads[- ]up\b|\b(?:message|note|word) for (?:{me}|her|him|them)\b",
    ),
    _cue(LEAVE_MESSAGE, Sure.WEAK, r"\b(?:tell|let|ask|remind)\b(?!\s+(?:me|us)\b)|\bheads[- ]up\b|\bfyi\b"),
]
# What only the owner may have done; said by anyone else it becomes a message for the owner.
OWNER_ONLY_CUES = [
    c
    for c in OWNER_CUES
    if c.skill in (MOVE, CANCEL, WRITE_MAIL, FORWARD_MAIL, APPROVALS, REMEMBER) and c.sure is Sure.STRONG
]


class Reading(BaseModel):
    """What the rules see in one message."""

    text: str
    request: str = ""  # the text without how to answer ("be specific", "in detail"): what the model reads
    cues: dict[str, Sure] = {}  # skill -> the surest cue that points to it
    positions: dict[str, int] = {}  # skill -> where its first sure cue starts: the first said leads
    people: list[Named] = []  # named people other than the speaker and the owner
    question: bool = False
    asked: set[str] = set()  # skills whose every cue is in a sentence asking about it, not for it
    asks: bool = False  # every sentence of the owner's is a question: an answer, nothing done
    social: bool = False  # a greeting or thanks: nothing to do
    yes: bool = False
    no: bool = False
    ordinal: int | None = None  # "the second one" -> 2; "the last" -> -1
    owner_only: bool = False  # a non-owner asks for something only the owner may have done

    def strong(self) -> list[str]:
        return [s for s, sure in self.cues.items() if sure is Sure.STRONG]


def read(text: str, principal: Principal, profile: Profile) -> Reading:
    """The cues of `text` said by `principal`; skills outside what they may use are not considered here."""
    request = " ".join(_MANNER.sub(" ", text).split())
    lowered = request.lower()
    me = re.escape(first_name(profile.owner.name).lower())
    named = [
        n
        for n in people_named(profile, text)
        if not any(profile.is_owner(c) or c == principal.address for c in n.candidates)
    ]
    cues: dict[str, Sure] = {}
    positions: dict[str, int] = {}
    if principal.is_owner:
        table = OWNER_CUES
    else:
        table = [Cue(c.skill, c.sure, re.compile(c.pattern.pattern.replace("{me}", me))) for c in OTHERS_CUES]
    asking = _ASKS if principal.is_owner else _PAST  # others' "when could we meet?" asks for a meeting
    sentences = [(m.start(), m.end(), bool(asking.match(m.group(0)))) for m in _SENTENCE.finditer(lowered)]
    asking_spans = [(start, end) for start, end, asks_here in sentences if asks_here]
    ordered: set[str] = set()  # skills some cue points to outside the asking sentences
    for cue in table:
        if match := cue.pattern.search(lowered):
            cues[cue.skill] = max(cues.get(cue.skill, Sure.WEAK), cue.sure)
            if cue.sure is Sure.STRONG:  # where it starts; at one start, the longer cue is the more specific
                at = match.start() * 1000 - min(len(match.group(0)), 999)
                positions[cue.skill] = min(positions.get(cue.skill, at), at)
            if asking_spans and any(
                not any(start <= m.start() < end for start, end in asking_spans)
                for m in cue.pattern.finditer(lowered)
            ):
                ordered.add(cue.skill)
    # every sentence a question: the model may pick only what reads ("what did Sam ask me?")
    asks = (
        principal.is_owner
        and bool(sentences)
        and all(asks_here or _WH.match(lowered[start:end]) for start, end, asks_here in sentences)
    )
    owner_only = (
        not principal.is_owner
        and any(c.pattern.search(lowered) for c in OWNER_ONLY_CUES)
        and not (cues.get(REQUEST_MEETING) is Sure.STRONG or cues.get(LEAVE_MESSAGE) is Sure.STRONG)
    )
    ordinal = None
    if match := _ORDINAL.match(lowered):
        word = match.group(1)
        ordinal = _ORDINALS.get(word) or (int(word) if word.isdigit() else None)
    return Reading(
        text=text,
        request=request,
        cues=cues,
        positions=positions,
        people=named,
        question=asks or bool(_QUESTION.search(lowered)),
        asked=set(cues) - ordered if asking_spans else set(),
        asks=asks,
        social=bool(_SOCIAL.match(lowered)) and not cues,
        yes=bool(_YES.match(lowered)),
        no=bool(_NO.match(lowered)) and not _YES.match(lowered),
        ordinal=ordinal,
        owner_only=owner_only,
    )

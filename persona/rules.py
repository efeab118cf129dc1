"""The owner's triage and approval rules as rows of a form, and back into the profile's YAML.

A triage row is one sender (an address or a domain) or one keyword and the label it gives, i.e. one entry of
the profile's `triage.<label>_<by>s` lists; an approval row is a profile `ApprovalRule` as it stands. The
rows are checked by the profile's own models, and the YAML text is changed only in those two sections, so
the owner's comments elsewhere stay.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal, get_args

import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from persona.errors import ConfigError
from persona.profile import ApprovalRule, Profile
from persona.skills.triage import Label

Match = Literal["sender", "keyword"]
SECTIONS = ("triage", "approval_rules")  # the top-level keys of the profile that a rules save rewrites
DECISIONS = list(get_args(ApprovalRule.model_fields["decision"].annotation))
_TOP_KEY = re.compile(r"""(["']?)(?P<name>[A-Za-z_][\w-]*)\1\s*:""")


class TriageRow(BaseModel):
    model_config = ConfigDict(extra="forbid")

    match: Match
    value: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=320)]
    label: Label


class Rules(BaseModel):
    """All of them: a save replaces both lists, so neither may be left out."""

    model_config = ConfigDict(extra="forbid")

    triage: list[TriageRow] = Field(max_length=1000)
    approval_rules: list[ApprovalRule] = Field(max_length=1000)


def rules_of(profile: Profile) -> Rules:
    rows = [
        TriageRow(match=match, value=value, label=label)
        for label in Label
        for match in ("sender", "keyword")
        for value in getattr(profile.triage, _field(label, match))
    ]
    return Rules(triage=rows, approval_rules=profile.approval_rules)


def read_rules(data: Any) -> Rules:
    """The rules a form sent, checked by the profile's models; a ConfigError naming the rule and field."""
    try:
        return Rules.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_one_line(exc)) from None


def with_rules(text: str, rules: Rules) -> str:
    """The profile's YAML text with its `triage` and `approval_rules` written from `rules`: only those
    sections change when the file's layout allows it, else the whole mapping is written anew."""
    triage = {k: v for k, v in _triage_lists(rules.triage).items() if v}
    approval = [r.model_dump(mode="json", exclude_defaults=True) for r in rules.approval_rules]
    sections: dict[str, object] = {k: v for k, v in (("triage", triage), ("approval_rules", approval)) if v}
    wanted = {k: v for k, v in yaml.safe_load(text).items() if k not in SECTIONS} | sections
    edited = replace_sections(text, dict(sections))
    try:
        if yaml.safe_load(edited) == wanted:
            return edited
    except yaml.YAMLError:
        pass  # a layout the line-wise edit does not know (a flow mapping at the top)
    return _dump(wanted)


def replace_sections(text: str, sections: dict[str, object]) -> str:
    """`text` with each top-level key in SECTIONS rewritten from `sections` where it stood (dropped when
    `sections` has none; added at the end when new). Everything else is kept as written; comments inside a
    rewritten section go with it, those above the next key stay."""
    kept: list[str] = []
    held: list[str] = []  # blank and comment lines met while dropping: kept if a top-level key follows
    dropping = False
    for line in text.splitlines(keepends=True):
        key = _TOP_KEY.match(line)
        loose = line.strip() == "" or line.startswith("#")
        if key or not (loose or line[0] in " \t-"):
            dropping = key is not None and key["name"] in SECTIONS
            kept, held = kept + held, []
            if dropping:
                kept.append(
                    _dump({key["name"]: sections.pop(key["name"])}) if key["name"] in sections else ""
                )
                continue
        elif dropping:
            held = [*held, line] if loose else []
            continue
        kept.append(line)
    kept += held
    if sections and kept and not kept[-1].endswith("\n"):
        kept[-1] += "\n"
    return "".join(kept) + (_dump(sections) if sections else "")


def _dump(data: dict[str, object]) -> str:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, default_flow_style=None)


def _field(label: Label, match: Match) -> str:
    return f"{label.value}_{match}s"


def _triage_lists(rows: list[TriageRow]) -> dict[str, list[str]]:
    lists: dict[str, list[str]] = {
        _field(label, match): [] for label in Label for match in ("sender", "keyword")
    }
    for row in rows:
        lists[_field(row.label, row.match)].append(row.value)
    return lists


def _one_line(exc: ValidationError) -> str:
    """'approval rule 2, `to`: List should have at least 1 item…' for the first problem."""
    err = exc.errors()[0]
    loc = list(err["loc"])
    if len(loc) >= 2 and isinstance(loc[1], int):
        section, index, *field = loc
        what = f"{'triage' if section == 'triage' else 'approval'} rule {index + 1}"
    else:
        what, field = "rules", loc
    where = f", `{'.'.join(map(str, field))}`" if field else ""
    more = f" (and {len(exc.errors()) - 1} more)" if len(exc.errors()) > 1 else ""
    return f"{what}{where}: {err['msg']}{more}"

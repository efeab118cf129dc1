"""The scheduling eval harness, run with a scripted model through the real LLM class."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from langchain_core.messages import BaseMessage

from persona.evals.scheduling import run_scheduling_eval
from persona.llm.client import LLM
from persona.llm.scripted import ScriptedChatModel

DATASET = Path(__file__).resolve().parents[2] / "evals" / "scheduling" / "dataset.json"


KNOWN = {
    "in a fortnight": "2025-03-20",
    "first monday of april": "2025-04-07",
    "in four days": "2025-03-10",
    "the wednesday after next": "2025-03-19",
}


def date_reader(messages: list[BaseMessage]) -> str:
    """A stand-in model that understands exactly one phrase, and says 'unclear' otherwise."""
    request = messages[-1].text
    for phrase, day in KNOWN.items():
        if phrase in request.lower():
            return json.dumps({"when_phrase": phrase, "dates": [day], "part_of_day": "any", "clear": True})
    return json.dumps({"when_phrase": "", "dates": [], "part_of_day": "any", "clear": False})


def test_dataset_has_enough_varied_items():
    data = json.loads(DATASET.read_text(encoding="utf-8"))
    items = data["items"]
    assert len(items) >= 30
    assert sum(item["expect"] == "clarify" for item in items) >= 5
    assert {item["owner"] for item in items} == set(data["owners"]) == {"berlin", "newyork"}
    assert len({item["id"] for item in items}) == len(items)


def test_full_dataset_with_scripted_model():
    model = ScriptedChatModel(replies=[date_reader] * 10)
    seen: list[tuple[int, int]] = []
    report = run_scheduling_eval(
        DATASET, LLM(model, local=True), progress=lambda done, total, _: seen.append((done, total))
    )
    assert report.total == len(seen) == seen[-1][1]
    wrong = [item for item in report.items if not item.correct]
    assert wrong == [], wrong
    assert report.accuracy == 1.0
    by_id = {item.id: item for item in report.items}
    assert {i.id for i in report.items if i.understood_by == "llm"} == {
        "in-a-fortnight",
        "first-monday-of-april",
        "in-four-days",
        "wednesday-after-next",
    }
    assert by_id["ny-monday-morning-after-dst"].got == "Mon 2025-03-10 10:30 (30 min)"
    assert by_id["vague-sometime"].got.startswith("clarify:")


def test_scoring_counts_wrong_slots_and_missed_clarifications(tmp_path):
    data = json.loads(DATASET.read_text(encoding="utf-8"))
    shutil.copytree(DATASET.parent / "calendars", tmp_path / "calendars")
    pick = {item["id"]: item for item in data["items"]}
    wrong_slot = dict(
        pick["tomorrow-between"],
        expect={"duration_minutes": 30, "starts": [["2025-03-07T11:15", "2025-03-07T11:30"]]},
    )
    wrong_length = dict(
        pick["tomorrow-between"],
        id="length",
        expect={"duration_minutes": 45, "starts": [["2025-03-07T10:00", "2025-03-07T11:00"]]},
    )
    missed = dict(pick["tomorrow-between"], id="missed", expect="clarify")
    data["items"] = [wrong_slot, wrong_length, missed, pick["vague-sometime"]]
    path = tmp_path / "dataset.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    report = run_scheduling_eval(path, llm=None)
    assert [item.correct for item in report.items] == [False, False, False, True]
    assert (report.correct, report.total, report.accuracy) == (1, 4, 0.25)

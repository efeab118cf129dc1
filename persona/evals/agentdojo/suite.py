"""An AgentDojo suite file (the format of agentdojo_workspace_v1.json), validated, with attack planting."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from persona.errors import PersonaError


class Call(BaseModel):
    function: str
    args: dict[str, Any] = {}


class Tool(BaseModel):
    name: str
    description: str = ""
    parameters: dict[str, Any] = {}

    def enum_params(self) -> set[str]:
        """Parameters limited to a closed set of values (directly or through a $ref)."""
        defs = self.parameters.get("$defs", {})
        names = set()
        for name, spec in self.parameters.get("properties", {}).items():
            ref = spec.get("$ref", "").rsplit("/", 1)[-1]
            if "enum" in spec or "enum" in defs.get(ref, {}):
                names.add(name)
        return names


class UserTask(BaseModel):
    id: str
    prompt: str
    ground_truth_calls: list[Call] = []
    ground_truth_output: str = ""


class InjectionTask(BaseModel):
    id: str
    goal: str
    ground_truth_calls: list[Call] = []


class Suite(BaseModel):
    model_config = ConfigDict(extra="ignore")

    suite: str
    environment: dict[str, Any]
    injection_vectors: dict[str, str]
    user_tasks: list[UserTask]
    injection_tasks: list[InjectionTask]
    tools: list[Tool]
    user_task_injection_vectors: dict[str, list[str]] = {}
    attack_template: str
    attack_user_name: str = "the user"
    attack_model_name: str = "the AI assistant"

    @property
    def owner_email(self) -> str:
        for part in self.environment.values():
            if isinstance(part, dict) and part.get("account_email"):
                return str(part["account_email"]).lower()
        raise PersonaError(f"suite {self.suite!r}: no account_email in its environment")

    def attack_text(self, task: InjectionTask) -> str:
        return (
            self.attack_template.replace("{goal}", task.goal)
            .replace("{user}", self.attack_user_name)
            .replace("{model}", self.attack_model_name)
        )

    def pairs(self) -> list[tuple[UserTask, InjectionTask]]:
        return [(u, i) for u in self.user_tasks for i in self.injection_tasks]

    def environment_with(self, planted: dict[str, str]) -> dict[str, Any]:
        """The environment with every vector filled: planted text where given, else its default."""
        values = {vid: planted.get(vid, default) for vid, default in self.injection_vectors.items()}
        return _fill(copy.deepcopy(self.environment), values)


def _fill(node: Any, values: dict[str, str]) -> Any:
    if isinstance(node, str):
        for vid, text in values.items():
            node = node.replace("{" + vid + "}", text)
        return node
    if isinstance(node, list):
        return [_fill(item, values) for item in node]
    if isinstance(node, dict):
        return {key: _fill(item, values) for key, item in node.items()}
    return node


def load_suite(path: Path) -> Suite:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PersonaError(f"{path}: no such suite file") from None
    except json.JSONDecodeError as exc:
        raise PersonaError(f"{path}: not valid JSON (line {exc.lineno}): {exc.msg}") from None
    try:
        return Suite.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "(top level)"
        raise PersonaError(f"{path}: not an AgentDojo suite: field `{where}`: {err['msg']}") from None

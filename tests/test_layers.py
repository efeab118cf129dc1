"""The layers of `persona/`, lowest first: a module imports only from its own layer and those below it.

Every import counts, at the top of a module or inside a function; only those under `if TYPE_CHECKING:`
do not (a skill may name `App`, its dependencies object, in a type hint). ARCHITECTURE.md shows the same
list, and the last test checks that it still does.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "persona"

# (layer, the modules and packages in it, below `persona.`); "" is the package itself
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "core",
        (
            "",
            "errors",
            "profile",
            "events",
            "settings",
            "input_limits",
            "home",
            "db",
            "store",
            "policy",
            "payloads",
            "approval_edits",
            "actions",
        ),
    ),
    ("channels", ("channels",)),
    ("memory", ("memory",)),
    ("llm", ("llm",)),
    ("skills", ("skills",)),
    ("agent", ("agent",)),
    ("app", ("app",)),
    (
        "surfaces",
        (
            "__main__",
            "cli",
            "server",
            "scheduler",
            "evals",
            "bench",
            "approval_detail",
            "calendar_view",
            "rules",
        ),
    ),
)


def layer_of(module: str) -> int | None:
    """The index in LAYERS of a dotted `persona...` name (a module, or a name imported from one)."""
    best: tuple[int, int] | None = None  # (length of the matching prefix, layer)
    for index, (_, members) in enumerate(LAYERS):
        for member in members:
            prefix = f"persona.{member}" if member else "persona"
            if (module == prefix or module.startswith(prefix + ".")) and (
                best is None or len(prefix) > best[0]
            ):
                best = (len(prefix), index)
    return None if best is None else best[1]


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imports(path: Path) -> Iterator[tuple[int, str]]:
    """(line, imported name) of every `persona` import in the file, outside `if TYPE_CHECKING:` blocks."""
    module = module_name(path)
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]

    def walk(node: ast.AST) -> Iterator[tuple[int, str]]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _type_checking(child):
                for other in child.orelse:
                    yield from walk_one(other)
            else:
                yield from walk_one(child)

    def walk_one(node: ast.AST) -> Iterator[tuple[int, str]]:
        if isinstance(node, ast.Import):
            yield from ((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join([*package[: len(package) - node.level + 1], *([base] if base else [])])
            yield from (
                (node.lineno, f"{base}.{alias.name}" if alias.name != "*" else base) for alias in node.names
            )
        yield from walk(node)

    for line, name in walk(ast.parse(path.read_text(encoding="utf-8"))):
        if name == "persona" or name.startswith("persona."):
            yield line, name


def modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_every_module_has_a_layer() -> None:
    missing = [module_name(p) for p in modules() if layer_of(module_name(p)) is None]
    assert not missing, f"put these modules in a layer of tests/test_layers.py and ARCHITECTURE.md: {missing}"


def test_no_module_imports_from_a_higher_layer() -> None:
    upward = []
    for path in modules():
        mine = layer_of(module_name(path))
        for line, name in imports(path):
            theirs = layer_of(name)
            if mine is not None and theirs is not None and theirs > mine:
                upward.append(
                    f"{path.relative_to(ROOT)}:{line} ({LAYERS[mine][0]}) imports {name} "
                    f"({LAYERS[theirs][0]})"
                )
    assert not upward, "imports from a lower layer to a higher one:\n" + "\n".join(upward)


def test_the_checker_sees_what_it_must() -> None:
    """Imports inside functions count, relative ones resolve, TYPE_CHECKING blocks do not count."""
    source = PACKAGE / "skills" / "turn.py"
    found = {name: line for line, name in imports(source)}
    assert "persona.channels.delivery.delivering" in found  # imported inside Turn.submit
    assert "persona.app.App" not in found  # under TYPE_CHECKING
    assert layer_of("persona.app.App") == 6 and layer_of("persona.approval_detail") == 7
    assert layer_of("persona.channels.email.mailparse.parse_mail") == 1 and layer_of("persona") == 0


def rendered() -> str:
    """The layer list as ARCHITECTURE.md shows it."""
    lines = [
        f"{i}. {name}: " + ", ".join(f"persona.{m}" if m else "persona" for m in members)
        for i, (name, members) in enumerate(LAYERS, 1)
    ]
    return "\n".join(lines)


def test_architecture_md_lists_these_layers() -> None:
    text = (ROOT / "ARCHITECTURE.md").read_text(encoding="utf-8")
    assert rendered() in text, f"ARCHITECTURE.md should list the layers as:\n{rendered()}"

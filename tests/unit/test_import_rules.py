"""The import rules of ARCHITECTURE.md, read from every module's source (ast) and enforced.

Every `import` counts, wherever it is written: at the top, inside a function (the CLI's lazy
imports) or under `if TYPE_CHECKING:`. A rule is either "package A never imports B" or "only these
packages import B". The known exceptions are listed, each with the reason, in EXCEPTIONS; an
exception that no longer occurs fails too, so the list shrinks as the code is fixed.
"""

from __future__ import annotations

import ast
import shutil
import textwrap
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

# -- the rules ---------------------------------------------------------------------------------------

#: the shared kernel: values, the normalisers, the time module and config plumbing every stage
#: uses; it imports nothing else of ours
KERNEL = (
    "auditwatch.errors",
    "auditwatch.model",
    "auditwatch.schema",
    "auditwatch.normalise",
    "auditwatch.timefmt",
    "auditwatch.regexsafety",
    "auditwatch.config.spec",
    "auditwatch.config.yamlsource",
    "auditwatch.config.bundled",
)
ES = ("elasticsearch", "elastic_transport")
#: entry points, the wiring and the process around the loop: no stage imports them
TOP = (
    "auditwatch.__main__",
    "auditwatch.commands",
    "auditwatch.daemon",
    "auditwatch.delivery",
    "auditwatch.config.daemon",
    "auditwatch.jobs",
    "auditwatch.service",
)
STAGES = ("auditwatch.sources", "auditwatch.parsing", "auditwatch.reference", "auditwatch.detection")

#: importer prefix -> imported prefixes it must never import (ours or third-party)
NEVER: Mapping[str, tuple[str, ...]] = {
    **dict.fromkeys(KERNEL, ("auditwatch.", *ES)),  # minus the kernel itself, see _breaks_never
    "auditwatch.sources": (*STAGES[1:], "auditwatch.indexing", "auditwatch.pipeline", *TOP, *ES),
    "auditwatch.parsing": (
        "auditwatch.sources",
        "auditwatch.reference",
        "auditwatch.detection",
        "auditwatch.indexing",
        "auditwatch.triage",
        "auditwatch.pipeline",
        *TOP,
        *ES,
    ),
    "auditwatch.reference": (
        "auditwatch.parsing",
        "auditwatch.detection",
        "auditwatch.indexing",
        "auditwatch.triage",
        "auditwatch.pipeline",
        *TOP,
        *ES,
    ),
    "auditwatch.detection": (
        "auditwatch.sources",
        "auditwatch.parsing",
        "auditwatch.indexing",
        "auditwatch.triage",
        "auditwatch.pipeline",
        *TOP,
        *ES,
    ),
    "auditwatch.indexing": (*STAGES, "auditwatch.triage", "auditwatch.pipeline", *TOP),
    "auditwatch.pipeline": ("auditwatch.indexing", "auditwatch.reference", "auditwatch.triage", *TOP, *ES),
    "auditwatch.triage": ("auditwatch.sources", "auditwatch.parsing", "auditwatch.pipeline", *TOP),
    "auditwatch.kibana": (*STAGES, "auditwatch.triage", "auditwatch.pipeline", *TOP),
}

WIRING = ("auditwatch.commands", "auditwatch.daemon", "auditwatch.delivery")
#: imported prefix -> the only importer prefixes allowed
ONLY_IMPORTED_BY: Mapping[str, tuple[str, ...]] = {
    "auditwatch.testing": ("auditwatch.testing",),
    "auditwatch.commands": ("auditwatch.commands", "auditwatch.__main__"),
    "auditwatch.commands.cli": ("auditwatch.__main__",),
    # the batch path (scan, backfill) is also what the scenario harness scores
    "auditwatch.commands.scanning": ("auditwatch.commands", "auditwatch.testing"),
    "auditwatch.daemon": ("auditwatch.commands",),
    "auditwatch.delivery": ("auditwatch.daemon",),
    "auditwatch.config.daemon": (*WIRING, "auditwatch.jobs", "auditwatch.testing"),
    "auditwatch.service": (*WIRING, "auditwatch.config.daemon", "auditwatch.service"),
    "auditwatch.jobs": ("auditwatch.daemon",),
}

#: packages whose modules are layered: each imports only modules listed before it, none imports the
#: package itself (its __init__ gathers the public names from all of them); a new module must be
#: placed in the list
LAYERS: Mapping[str, tuple[str, ...]] = {
    "auditwatch.timefmt": ("zones", "formats", "iso", "parser"),
}

#: a stage (or the pipeline) takes another stage's public names (its package `__init__`), never one
#: of its modules; the wiring and the entry points may reach inside
PUBLIC_NAMES_ONLY = (*STAGES, "auditwatch.indexing", "auditwatch.triage", "auditwatch.kibana")
HELD_TO_PUBLIC_NAMES = (*PUBLIC_NAMES_ONLY, "auditwatch.pipeline")

#: (importer module, imported module) pairs that break a rule today, each with its reason. Measured
#: on this branch: none.
EXCEPTIONS: Mapping[tuple[str, str], str] = {}


# -- the checker ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Import:
    importer: str  # module name, e.g. auditwatch.parsing.runtime
    imported: str  # module (or package) name, e.g. auditwatch.schema
    path: Path
    line: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.importer} imports {self.imported}"


def _module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(root: Path) -> Iterator[Import]:
    """Every import in the package at `root` (a directory with __init__.py), resolved to module names.
    `from pkg import name` counts as importing `pkg.name` when that is a module, else `pkg`."""
    modules = {_module_name(root, p) for p in root.rglob("*.py")}
    for path in sorted(root.rglob("*.py")):
        importer = _module_name(root, path)
        package = importer if path.name == "__init__.py" else importer.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    yield Import(importer, alias.name, path, node.lineno)
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[: len(package.split(".")) - node.level + 1]
                    module = ".".join([*base, node.module] if node.module else base)
                else:
                    module = node.module or ""
                for alias in node.names:
                    candidate = f"{module}.{alias.name}"
                    yield Import(importer, candidate if candidate in modules else module, path, node.lineno)


def _under(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix if prefix.endswith(".") else prefix + ".")


def _owner(name: str, prefixes: Iterable[str]) -> str | None:
    """The longest prefix that `name` is under (auditwatch.parsing.x is ruled by auditwatch.parsing)."""
    found = [p for p in prefixes if _under(name, p)]
    return max(found, key=len) if found else None


def _breaks_never(imp: Import) -> bool:
    owner = _owner(imp.importer, NEVER)
    if owner is None or _under(imp.imported, owner):  # unruled, or a package's own modules
        return False
    if owner in KERNEL and _owner(imp.imported, KERNEL) is not None:  # kernel -> kernel
        return False
    return any(_under(imp.imported, forbidden) for forbidden in NEVER[owner])


def _breaks_public_names(imp: Import) -> bool:
    importer = _owner(imp.importer, HELD_TO_PUBLIC_NAMES)
    target = _owner(imp.imported, PUBLIC_NAMES_ONLY)
    return importer is not None and target is not None and target not in (importer, imp.imported)


def _breaks_only_imported_by(imp: Import) -> bool:
    target = _owner(imp.imported, ONLY_IMPORTED_BY)
    if target is None or _under(imp.importer, target):
        return False
    return not any(_under(imp.importer, allowed) for allowed in ONLY_IMPORTED_BY[target])


def _breaks_layers(imp: Import) -> bool:
    package = _owner(imp.importer, LAYERS)
    if package is None or imp.importer == package or not _under(imp.imported, package):
        return False  # unlayered, the package's __init__, or an import from outside the package
    order = LAYERS[package]
    importer = imp.importer[len(package) + 1 :].split(".")[0]
    imported = imp.imported[len(package) + 1 :].split(".")[0]
    if importer not in order or imported not in order:  # unplaced, or the package's __init__
        return importer != imported
    return order.index(imported) >= order.index(importer) and importer != imported


def violations(found: Iterable[Import]) -> list[Import]:
    return [
        imp
        for imp in found
        if imp.importer.startswith("auditwatch")
        and (
            _breaks_never(imp)
            or _breaks_only_imported_by(imp)
            or _breaks_layers(imp)
            or _breaks_public_names(imp)
        )
    ]


def _unit(name: str) -> str:
    """auditwatch.parsing.runtime -> auditwatch.parsing; auditwatch.schema -> auditwatch.schema.
    The modules of `config` are units of their own: its kernel half and the daemon's config sit on
    opposite ends of the graph."""
    parts = name.split(".")
    return ".".join(parts[:3] if parts[1:2] == ["config"] else parts[:2])


def cycles(found: Iterable[Import]) -> list[list[str]]:
    """Cycles between top-level units (packages and top-level modules) of auditwatch."""
    graph: dict[str, set[str]] = {}
    for imp in found:
        if imp.imported.startswith("auditwatch.") and imp.importer.startswith("auditwatch."):
            a, b = _unit(imp.importer), _unit(imp.imported)
            if a != b:
                graph.setdefault(a, set()).add(b)
    result: list[list[str]] = []
    state: dict[str, int] = {}  # 1 on the stack, 2 done

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                result.append([*stack[stack.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt, [*stack, nxt])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    return result


# -- the tests ------------------------------------------------------------------------------------


def test_the_code_obeys_the_import_rules() -> None:
    found = list(imports(REPO / "auditwatch"))
    assert len(found) > 500  # the walk sees the whole package, not an empty directory
    bad = [imp for imp in violations(found) if (imp.importer, imp.imported) not in EXCEPTIONS]
    assert not bad, "imports that break ARCHITECTURE.md's rules:\n" + "\n".join(map(str, bad))


def test_every_listed_exception_still_occurs() -> None:
    pairs = {(imp.importer, imp.imported) for imp in violations(imports(REPO / "auditwatch"))}
    assert not set(EXCEPTIONS) - pairs, "fixed: remove from EXCEPTIONS"


def test_no_cycles_between_packages() -> None:
    assert cycles(imports(REPO / "auditwatch")) == []


def _tree(root: Path, files: Mapping[str, str]) -> Path:
    package = root / "auditwatch"
    for name, source in {"__init__.py": "", **files}.items():
        path = package / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source), encoding="utf-8")
    return package


def test_the_checker_catches_each_kind_of_forbidden_import(tmp_path: Path) -> None:
    package = _tree(
        tmp_path,
        {
            "schema.py": "",
            "errors.py": "from auditwatch import schema\n",  # kernel -> kernel: fine
            "model.py": "from auditwatch.parsing import runtime\n",  # kernel -> stage
            "parsing/__init__.py": "",
            "parsing/runtime.py": "from auditwatch import schema\nfrom . import pattern\n",
            "parsing/pattern.py": "",
            "parsing/lazy.py": "def f():\n    from auditwatch.detection import engine\n",
            "detection/__init__.py": "",
            "detection/engine.py": "from auditwatch.timefmt import x\n",  # the kernel: fine
            "detection/bad.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
            "    from elasticsearch import Elasticsearch\n",
            "detection/deep.py": "from auditwatch.parsing.runtime import CompiledParser\n",
            "detection/rulefile.py": "",
            "triage/__init__.py": "from auditwatch.detection import Rule\n",  # public names: fine
            "triage/store.py": "from auditwatch.detection.rulefile import x\n",  # past them
            "sources/__init__.py": "from ..parsing import runtime\n",  # relative, still caught
            "reference/__init__.py": "import auditwatch.testing.elasticsearch\n",
            "testing/__init__.py": "",
            "testing/elasticsearch.py": "from auditwatch import commands\n",
            "commands/__init__.py": "",
            "commands/cli.py": "from auditwatch.commands import run\n",  # fine
            "config/__init__.py": "",
            "config/spec.py": "from auditwatch.config import daemon\n",  # kernel -> wiring
            "config/daemon.py": "from auditwatch.config import spec\n",  # fine
            "timefmt/__init__.py": "from auditwatch.timefmt.parser import P\n",  # fine
            "timefmt/zones.py": "",
            "timefmt/formats.py": "from auditwatch.timefmt import zones\n",  # an earlier layer: fine
            "timefmt/iso.py": "from auditwatch.timefmt import parser\n",  # a later layer
            "timefmt/parser.py": "from auditwatch.timefmt import Q\n",  # the package's __init__
        },
    )
    found = list(imports(package))
    assert {str(imp).split(": ", 1)[1] for imp in violations(found)} == {
        "auditwatch.model imports auditwatch.parsing.runtime",
        "auditwatch.parsing.lazy imports auditwatch.detection.engine",
        "auditwatch.detection.bad imports elasticsearch",
        "auditwatch.detection.deep imports auditwatch.parsing.runtime",
        "auditwatch.triage.store imports auditwatch.detection.rulefile",
        "auditwatch.sources imports auditwatch.parsing.runtime",
        "auditwatch.reference imports auditwatch.testing.elasticsearch",
        "auditwatch.testing.elasticsearch imports auditwatch.commands",
        "auditwatch.config.spec imports auditwatch.config.daemon",
        "auditwatch.timefmt.iso imports auditwatch.timefmt.parser",
        "auditwatch.timefmt.parser imports auditwatch.timefmt",
    }


def test_the_checker_finds_a_cycle(tmp_path: Path) -> None:
    package = _tree(
        tmp_path,
        {"a.py": "from auditwatch import b\n", "b.py": "import auditwatch.c\n", "c.py": "from . import a\n"},
    )
    assert cycles(imports(package)) == [["auditwatch.a", "auditwatch.b", "auditwatch.c", "auditwatch.a"]]


def test_a_forbidden_import_added_to_the_real_tree_fails(tmp_path: Path) -> None:
    copy = tmp_path / "auditwatch"
    shutil.copytree(REPO / "auditwatch", copy, ignore=shutil.ignore_patterns("__pycache__"))
    with (copy / "detection" / "__init__.py").open("a", encoding="utf-8") as f:
        f.write("\n\ndef _oops() -> None:\n    from auditwatch.indexing import make_client  # noqa\n")
    assert [str(imp).split(": ", 1)[1] for imp in violations(imports(copy))] == [
        "auditwatch.detection imports auditwatch.indexing"
    ]

"""The shape of the tree, held by tests: no import cycles between the project's modules, no
import of the project's own code hidden inside a function, and requirements.txt compiled from
requirements.in as it stands."""

import importlib.util
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _import_graph():
    spec = importlib.util.spec_from_file_location("import_graph", ROOT / "bin" / "import_graph.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


import_graph = _import_graph()

# What the tree still has to untangle, named so that nothing new joins it and each entry is
# removed in the change that fixes it (a fixed entry left here fails too).
CYCLES_LEFT = []
INNER_LEFT: set[str] = set()


def test_the_reader_finds_a_cycle_and_an_import_inside_a_function():
    """The check itself: a loop of two modules is a cycle; an import in a function is seen."""
    edges = {"a.x": {"a.y"}, "a.y": {"a.x"}, "a.z": {"a.x"}}
    assert import_graph.cycles(edges) == [["a.x", "a.y"]]
    assert import_graph.cycles({"a.x": {"a.y"}, "a.y": set()}) == []


def test_no_module_of_the_project_imports_itself_around_a_loop():
    graph = import_graph.build()
    assert len(graph.edges) > 50, "the reader found too few modules to be reading the tree"
    assert sorted(sorted(c) for c in import_graph.cycles(graph.edges)) == CYCLES_LEFT


def test_no_import_of_the_project_is_hidden_inside_a_function():
    """An import moved into a function to dodge a cycle still is one; the thing both sides need
    belongs where both can import it at the top."""
    inner = {f"{module} -> {target}" for module, target, _line in import_graph.build().inner}
    assert inner == INNER_LEFT


def _pins(text: str) -> dict[str, str]:
    found = {}
    for line in text.splitlines():
        match = re.match(r"^([A-Za-z0-9_.\-]+)(?:\[[^\]]*\])?==([^\s\\;]+)", line)
        if match:
            found[match[1].lower().replace("_", "-")] = match[2]
    return found


def test_requirements_txt_holds_every_direct_pin_of_requirements_in_with_hashes():
    direct = _pins((ROOT / "requirements.in").read_text())
    compiled_text = (ROOT / "requirements.txt").read_text()
    compiled = _pins(compiled_text)
    assert direct, "requirements.in lists no pins"
    assert {name: compiled.get(name) for name in direct} == direct, "run bin/lock"
    assert compiled_text.count("--hash=sha256:") >= len(compiled)

"""axe-core in the browser tests: the script, and the problems it finds that a page may not
have (serious or critical: the ones that stop a keyboard or screen-reader user)."""

import importlib.util
import os
from pathlib import Path

BLOCKING = ("serious", "critical")


def axe_source() -> str:
    """axe-core as shipped in the axe-playwright-python wheel (requirements.txt), or the file
    AXE_CORE_JS names."""
    if path := os.environ.get("AXE_CORE_JS"):
        return Path(path).read_text()
    spec = importlib.util.find_spec("axe_playwright_python")
    assert spec is not None, "axe-playwright-python is missing"
    assert spec.origin is not None, "axe-playwright-python is missing"
    return (Path(spec.origin).parent / "axe.min.js").read_text()


def serious(page, source: str) -> list[str]:
    """Each serious or critical rule broken on the page, with the elements that break it."""
    page.evaluate(source)  # through the debugger protocol: the page's CSP does not apply
    # Only the violations are read: axe then records one node of each other result, which
    # halves its time on a long page.
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{v['id']} ({v['impact']}): {', '.join(str(n['target']) for n in v['nodes'][:5])}"
        + (f" and {len(v['nodes']) - 5} more" if len(v["nodes"]) > 5 else "")
        for v in result["violations"] if v["impact"] in BLOCKING
    ]

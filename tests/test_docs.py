"""The repository's docs and layout keep their promises: every path they name exists, nothing
points outside the repository, nothing outside ``cli/`` imports ``cli/``, no module is huge."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", ROOT / "CONTRIBUTING.md", ROOT / "BENCHMARKS.md",
        *sorted((ROOT / "docs").glob("*.md")), ROOT / "examples" / "nni" / "README.md"]
#: Folders whose paths a doc may name; anything else (demo/, out/, pop.csv...) is a run's output.
TRACKED = ("regnet_space/", "docs/", "benchmarks/", "scripts/", "examples/", "results/", "tests/",
           ".ci/")
PATH = re.compile(r"(?<![\w./-])((?:%s)[\w./*-]*[\w*])" % "|".join(re.escape(t) for t in TRACKED))
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


def _named_paths(doc: Path) -> set[str]:
    text = doc.read_text()
    out = {m.group(1) for m in PATH.finditer(text)}
    out |= {m.group(1) for m in LINK.finditer(text) if "://" not in m.group(1)}
    return out


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_path_a_doc_names_exists(doc):
    base = doc.parent
    missing = []
    for p in sorted(_named_paths(doc)):
        if "*" in p:  # a pattern such as results/rank_fidelity_round1*.csv: something matches
            if not list(ROOT.glob(p)):
                missing.append(p)
            continue
        here = (base / p) if not p.startswith(TRACKED) else (ROOT / p)
        if not (here.exists() or (ROOT / p).exists()):
            missing.append(p)
    assert not missing, f"{doc.name} names paths that are not in the repository: {missing}"


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_docs_do_not_point_outside_the_repository(doc):
    text = doc.read_text()
    for bad in ("../shared", "REFERENCE.md", "INTEGRATIONS.md", "DESIGN.md"):
        assert bad not in text, f"{doc.name} points to {bad}, which users do not have"


def _modules():
    return sorted((ROOT / "regnet_space").rglob("*.py"))


def test_nothing_outside_the_cli_imports_the_cli():
    offenders = []
    for path in _modules():
        rel = path.relative_to(ROOT / "regnet_space")
        if rel.parts[0] == "cli" or rel.name == "__main__.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                name = ("." * node.level) + (node.module or "")
                parts = name.lstrip(".").split(".")
                if parts[0] == "cli" or parts[:2] == ["regnet_space", "cli"] or (
                        node.module is None and any(a.name == "cli" for a in node.names)):
                    offenders.append(f"{rel}:{node.lineno}")
            elif isinstance(node, ast.Import):
                if any(a.name.startswith("regnet_space.cli") for a in node.names):
                    offenders.append(f"{rel}:{node.lineno}")
    assert not offenders, f"modules outside cli/ import it: {offenders}"


def test_no_module_is_over_600_lines():
    long = {str(p.relative_to(ROOT)): n for p in _modules()
            if (n := len(p.read_text().splitlines())) > 600}
    assert not long, f"split these modules: {long}"

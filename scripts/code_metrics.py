"""Code-shape figures for the layout issue: files per folder, longest module and
function, docstring share, lines with a dict in a signature.

    python scripts/code_metrics.py [ROOT]

Counts every ``.py`` file under ROOT (default: the repository), ``tests/`` apart.
"""
from __future__ import annotations

import ast
import collections
import io
import sys
import tokenize
from pathlib import Path


def _docstring_lines(source: str) -> int:
    tree = ast.parse(source)
    total = 0
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            doc = ast.get_docstring(node, clean=False)
            if doc is not None and node.body and isinstance(node.body[0], ast.Expr):
                expr = node.body[0]
                total += expr.end_lineno - expr.lineno + 1
    return total


def _code_lines(source: str) -> int:
    lines = set()
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type not in (tokenize.NL, tokenize.NEWLINE, tokenize.COMMENT, tokenize.INDENT, tokenize.DEDENT,
                            tokenize.ENDMARKER):
            lines.update(range(tok.start[0], tok.end[0] + 1))
    return len(lines)


def main(root: Path) -> None:
    per_folder = collections.Counter()
    modules, functions, classes = [], [], []
    doc = code = 0
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root)
        if rel.parts[0] in {"tests", ".git", "build"} or ".venv" in rel.parts:
            continue
        source = path.read_text()
        per_folder[str(rel.parent)] += 1
        n = len(source.splitlines())
        modules.append((n, str(rel)))
        doc += _docstring_lines(source)
        code += _code_lines(source)
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                functions.append((node.end_lineno - node.lineno + 1, f"{rel}:{node.lineno} {node.name}"))
            elif isinstance(node, ast.ClassDef):
                methods = sum(isinstance(b, (ast.FunctionDef, ast.AsyncFunctionDef)) for b in node.body)
                classes.append((methods, f"{rel}:{node.lineno} {node.name}"))
    print("files per folder (tests/ apart):")
    for folder, count in sorted(per_folder.items()):
        print(f"  {folder:<40} {count}")
    print(f"modules {len(modules)}, lines {sum(n for n, _ in modules)}")
    print("longest modules:", ", ".join(f"{p} {n}" for n, p in sorted(modules, reverse=True)[:3]))
    print("longest functions:", ", ".join(f"{p} {n}" for n, p in sorted(functions, reverse=True)[:3]))
    print("most methods in a class:", ", ".join(f"{p} {n}" for n, p in sorted(classes, reverse=True)[:3]))
    print(f"docstring share of code lines: {doc / max(code, 1):.1%} ({doc} of {code})")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[1])

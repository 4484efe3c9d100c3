"""The package's shape (docs/architecture.md): every module imports only its own layer and those
below it, and no modules import each other in a cycle."""
import ast
from pathlib import Path

import bench

ROOT = Path(bench.__file__).parent
# lowest first: a module may import its own layer and the ones before it
LAYERS = [
    {"bench", "bench.errors", "bench.paths", "bench.tools", "bench.files", "bench.hashing", "bench.registry"},
    {"bench.video"},
    {"bench.metrics"},
    {"bench.suites"},
    {"bench.codecs", "bench.gol"},
    {"bench.results"},
    {"bench.run"},
    {"bench.report"},
    {"bench.cli"},
]


def module_name(path: Path) -> str:
    parts = ("bench",) + path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def source_file(module: str) -> Path:
    return (ROOT.parent / module.replace(".", "/")).with_suffix(".py")


def imports(path: Path) -> set[str]:
    """The bench modules ``path`` imports, anywhere in it (function-level imports too)."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.startswith("bench")}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.startswith("bench"):
                # "from . import x" may name a module x
                subs = {f"{target}.{a.name}" for a in node.names}
                out |= {s for s in subs if source_file(s).exists()} or {target}
    return out


def layer(module: str) -> int:
    for i, names in enumerate(LAYERS):
        if any(module == n or (n != "bench" and module.startswith(n + ".")) for n in names):
            return i
    return 0  # a top-level shared module


def graph() -> dict[str, set[str]]:
    return {module_name(p): imports(p) for p in ROOT.rglob("*.py")}


def test_no_module_imports_a_higher_layer():
    wrong = sorted(f"{m} imports {t}" for m, targets in graph().items() for t in targets if layer(t) > layer(m))
    assert wrong == []


def test_no_import_cycles():
    g = graph()
    cycles = []

    def visit(m, path):
        for t in sorted(g.get(m, ())):
            if t in path:
                cycles.append(path[path.index(t):] + [t])
            elif t not in done:
                visit(t, path + [t])
        done.add(m)

    done: set[str] = set()
    for m in sorted(g):
        if m not in done:
            visit(m, [m])
    assert cycles == []


def test_top_level_holds_packages_cli_and_a_few_shared_modules():
    modules = sorted(p.stem for p in ROOT.glob("*.py"))
    assert modules == ["__init__", "cli", "errors", "files", "hashing", "paths", "registry", "tools"]

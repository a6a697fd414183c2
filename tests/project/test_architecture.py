"""The design card's data flow: workloads -> spec_templates -> agent -> verify; evals -> (agent, verify).

verify imports none of the others, no part imports the CLI package `hwagent`, and there are no import circles.
"""

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PACKAGES = ["verify", "prompts", "accelerator_baseline", "workloads", "spec_templates", "agent", "evals", "hwagent"]
ALLOWED = {
    "verify": set(),
    "prompts": set(),
    "accelerator_baseline": {"verify"},
    "workloads": {"accelerator_baseline", "verify"},  # verify.paths: the trained weights cache
    "spec_templates": {"workloads", "accelerator_baseline", "verify"},
    "agent": {"spec_templates", "prompts", "verify"},
    "evals": {"agent", "verify", "spec_templates", "accelerator_baseline", "prompts", "workloads"},
    "hwagent": set(PACKAGES) - {"hwagent"},
}


def imports_of(package: str) -> dict[str, set[str]]:
    """Map each project package imported by `package` to the files that import it."""
    found: dict[str, set[str]] = {}
    for file in (REPO / package).rglob("*.py"):
        tree = ast.parse(file.read_text(), str(file))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            for name in names:
                root = name.split(".")[0]
                if root in PACKAGES and root != package:
                    found.setdefault(root, set()).add(str(file.relative_to(REPO)))
    return found


def test_every_package_imports_only_what_the_data_flow_allows():
    violations = {}
    for package in PACKAGES:
        for imported, files in imports_of(package).items():
            if imported not in ALLOWED[package]:
                violations[f"{package} -> {imported}"] = sorted(files)
    assert not violations, violations


def test_no_import_circles_between_packages():
    graph = {package: set(imports_of(package)) for package in PACKAGES}
    visiting, done = set(), set()

    def visit(node, path):
        assert node not in visiting, f"import circle: {' -> '.join(path + [node])}"
        if node in done:
            return
        visiting.add(node)
        for nxt in graph[node]:
            visit(nxt, path + [node])
        visiting.discard(node)
        done.add(node)

    for package in PACKAGES:
        visit(package, [])


def test_templates_ship_inside_the_wheel():
    import tomllib

    config = tomllib.loads((REPO / "pyproject.toml").read_text())
    patterns = config["tool"]["setuptools"]["package-data"]["*"]
    assert "*.j2" in patterns and "**/*.j2" in patterns


def test_ruff_is_clean():
    import shutil
    import subprocess
    import sys

    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    result = subprocess.run([ruff, "check", "--no-cache", str(REPO)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout[-3000:]

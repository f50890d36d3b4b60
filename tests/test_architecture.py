"""The layout docs/architecture.md describes, held by the code's own imports: one package owns the
call, data flows one way (calls -> build -> calls.json -> form service -> storage -> exports ->
mail), no import cycle, and the form service never loads the site builder."""

from __future__ import annotations

import ast
import os
import subprocess
import sys

from .conftest import ROOT

# Every module of the project, lowest stage first. A module may import only modules of its own
# stage or of an earlier one; calls_cli (the command line) sits above all and nothing imports it.
# A new module goes here and in docs/architecture.md.
STAGES = [
    ("call model", ["callmodel", "callmodel.addresses", "callmodel.dates", "callmodel.french", "callmodel.status", "callmodel.urls",
                    "callmodel.schema", "callmodel.record"]),
    ("read and build", ["generator.source", "generator.parallel", "generator.reader", "generator.settings",
                        "generator.history", "generator.editor", "generator.opendata", "generator.output",
                        "generator.session", "generator.search", "generator.site", "generator", "generator.build"]),
    ("form service: settings, storage and mail", ["formservice.config", "formservice.storage", "formservice.mail"]),
    ("form service: catalogue and answers", ["formservice.published", "formservice.tokens",
                                             "formservice.validation", "formservice.uploads",
                                             "formservice.submission", "formservice.staging", "formservice.drafts",
                                             "formservice.ratelimit", "formservice.receipts"]),
    ("exports, questions and alerts", ["formservice.exports", "formservice.delivery", "formservice.retention",
                                       "formservice.questions", "formservice.alerts"]),
    ("form service: web", ["formservice.services", "formservice.security", "formservice.pages",
                           "formservice.attempt", "formservice.views", "formservice.lifecycle",
                           "formservice.partner_exports", "formservice.question_pages",
                           "formservice.alert_pages", "formservice"]),
    ("command line", ["calls_cli", "calls_cli.options", "calls_cli.progress", "calls_cli.local", "calls_cli.site",
                      "calls_cli.new", "calls_cli.serve", "calls_cli.operate"]),
]
PACKAGES = ("callmodel", "generator", "formservice", "calls_cli")
# What each package may import of the others (the call model depends on none of them).
ALLOWED = {"callmodel": set(), "generator": {"callmodel"}, "formservice": {"callmodel"},
           "calls_cli": {"callmodel", "generator", "formservice"}}


def modules() -> dict[str, str]:
    found = {}
    for package in PACKAGES:
        for name in sorted(os.listdir(os.path.join(ROOT, package))):
            if name.endswith(".py"):
                module = package if name == "__init__.py" else f"{package}.{name[:-3]}"
                found[module] = os.path.join(ROOT, package, name)
    return found


def imports(module: str, path: str) -> set[str]:
    """Our modules that `module` imports, at the top or inside a function (both make a cycle)."""
    with open(path, encoding="utf-8") as handle:
        tree = ast.parse(handle.read())
    package = module if path.endswith("__init__.py") else module.rpartition(".")[0]
    known = set(modules())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[:len(parts) - node.level + 1] + ([base] if base else []))
            # `from package import module` imports that module; `from module import name`, the module.
            names = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names]
        else:
            continue
        found |= {name for name in names if name in known}
    found.discard(module)
    return found


def graph() -> dict[str, set[str]]:
    return {module: imports(module, path) for module, path in modules().items()}


def test_every_module_has_a_stage():
    staged = [m for _, names in STAGES for m in names]
    assert sorted(staged) == sorted(modules()), "place each new module in STAGES and docs/architecture.md"


def test_imports_never_go_back_up_the_flow():
    stage = {m: i for i, (_, names) in enumerate(STAGES) for m in names}
    back = [(m, target) for m, targets in graph().items() for target in targets if stage[target] > stage[m]]
    assert back == []


def test_packages_depend_only_on_what_they_may():
    wrong = [(m, t) for m, targets in graph().items() for t in targets
             if t.split(".")[0] != m.split(".")[0] and t.split(".")[0] not in ALLOWED[m.split(".")[0]]]
    assert wrong == []


def test_no_import_cycle():
    edges = graph()
    state: dict[str, int] = {}
    cycles = []

    def visit(module, path):
        state[module] = 1
        for target in sorted(edges[module]):
            if state.get(target) == 1:
                cycles.append(path[path.index(target):] + [target] if target in path else [module, target])
            elif target not in state:
                visit(target, path + [target])
        state[module] = 2

    for module in sorted(edges):
        if module not in state:
            visit(module, [module])
    assert cycles == []


def test_the_form_service_never_loads_the_site_builder():
    code = ("import sys, formservice; formservice.create_app({'SECRET_KEY': 'x' * 20}); "
            "print(sorted({m.split('.')[0] for m in sys.modules}))")
    loaded = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True,
                            env={k: v for k, v in os.environ.items() if not k.startswith("FORMSERVICE_")}).stdout
    for heavy in ("pelican", "cmarkgfm", "generator", "markdown", "icalendar", "feedgenerator", "calls_cli"):
        assert f"'{heavy}'" not in loaded, heavy


def test_site_commands_do_not_load_the_form_service():
    code = "import sys; from calls_cli import site; print(sorted({m.split('.')[0] for m in sys.modules}))"
    loaded = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                            check=True).stdout
    for heavy in ("formservice", "flask", "boto3", "openpyxl"):
        assert f"'{heavy}'" not in loaded, heavy


def test_architecture_document_names_every_package_and_stage():
    with open(os.path.join(ROOT, "docs", "architecture.md"), encoding="utf-8") as handle:
        text = handle.read()
    for package in PACKAGES:
        assert f"`{package}/`" in text, package
    for module in modules():
        if "." in module:
            assert f"`{module.split('.', 1)[1]}.py`" in text, module

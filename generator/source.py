"""YAML sources that remember where each value was written, for compiler-like messages."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

import yaml

_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class Loader(_BaseLoader):
    """Safe YAML where dates stay strings (we parse them in the call's time zone) and a repeated
    key is recorded instead of silently keeping the last value."""

    yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for first, resolvers in _BaseLoader.yaml_implicit_resolvers.items()
    }

    def __init__(self, stream):
        super().__init__(stream)
        self.duplicates: list[tuple[int, str]] = []

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            key = key_node.value
            if key in seen:
                self.duplicates.append((key_node.start_mark.line, key))
            seen.add(key)
        return super().construct_mapping(node, deep)


Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, Loader.construct_mapping)


@dataclass(frozen=True)
class Problem:
    """One error in a source file, printed like a compiler, in French: `file:line: champ : message`."""

    file: str
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}"
        return f"{where}: {self.field} : {self.message}" if self.field else f"{where}: {self.message}"


class Source:
    """A YAML document inside a file, starting at `first_line` (1-based) of that file."""

    def __init__(self, path: str, text: str, first_line: int = 1, display: str | None = None):
        self.path = path
        self.display = display or relative(path)
        self.text = text
        self.first_line = first_line
        self.problems: list[Problem] = []
        self._tree = None

    def load(self):
        """The parsed data, or None after recording a syntax error."""
        loader = Loader(self.text)
        try:
            data = loader.get_single_data()
        except yaml.YAMLError as exc:
            line, message = explain_syntax_error(exc, self.text)
            self.problems.append(Problem(self.display, self.first_line + line, "", message))
            return None
        finally:
            loader.dispose()
        for line, key in loader.duplicates:
            self.problems.append(Problem(self.display, self.first_line + line, key,
                                         "cette information est écrite deux fois : gardez-en une"))
        return data

    def error(self, field_path: tuple, message: str, *, missing: str = "") -> None:
        """Record a problem at `field_path`; `missing` names a key absent from that mapping."""
        name = ".".join(str(p) for p in field_path + ((missing,) if missing else ()) if not isinstance(p, int))
        self.problems.append(Problem(self.display, self.line(field_path), name, message))

    def line(self, field_path: tuple) -> int:
        """The line where the value at `field_path` is written (or its nearest parent)."""
        if self._tree is None:
            try:
                self._tree = yaml.compose(self.text, Loader=Loader)
            except yaml.YAMLError:
                self._tree = False
        node, line = self._tree, 0
        if node:
            line = node.start_mark.line
        for step in field_path:
            if isinstance(node, yaml.MappingNode):
                match = next(((k, v) for k, v in node.value if k.value == step), None)
                if match is None:
                    break
                line, node = match[0].start_mark.line, match[1]
            elif isinstance(node, yaml.SequenceNode) and isinstance(step, int) and step < len(node.value):
                node = node.value[step]
                line = node.start_mark.line
            else:
                break
        return self.first_line + line


def explain_syntax_error(exc: yaml.YAMLError, text: str) -> tuple[int, str]:
    """The 0-based line to fix and what to do there, in plain French, for a YAML syntax error.

    Staff write YAML by hand: the usual mistakes are a colon or a leading special character in a
    text without quotes, an unclosed bracket or quote, and a shifted indentation."""
    problem = str(getattr(exc, "problem", None) or exc)
    context = str(getattr(exc, "context", None) or "")
    mark, start = getattr(exc, "problem_mark", None), getattr(exc, "context_mark", None)
    lines = text.splitlines()
    at = mark.line if mark else 0
    line = lines[at] if at < len(lines) else ""
    opened = start.line if start else at
    if "mapping values are not allowed" in problem:
        if ": " in line[:mark.column] or line[:mark.column].rstrip().endswith(":"):
            return at, ("un « : » suivi d'un espace dans un texte sans guillemets ; mettez tout le texte "
                        f"entre guillemets droits : {quoted(line)}")
        return at, INDENTATION
    if "tab" in problem:
        return at, "une tabulation sert d'indentation : remplacez-la par des espaces"
    if "cannot start any token" in problem or "alias" in context or "block scalar" in context \
            or "could not determine a constructor" in problem:
        first = line.split(":", 1)[1].strip()[:1] if ":" in line else line.strip()[:1]
        return at, f"un texte qui commence par « {first} » s'écrit entre guillemets droits : {quoted(line)}"
    if "flow sequence" in context:
        return opened, ("crochet « [ » mal refermé : une liste s'écrit sur une ligne, [a, b] ; un élément "
                        "qui contient une virgule, un « : » ou un crochet s'écrit entre guillemets")
    if "flow mapping" in context:
        return opened, ("accolades « { … } » mal refermées : entre accolades, un texte qui contient « : », "
                        "une virgule ou une accolade s'écrit entre guillemets, par exemple "
                        '{title: "Annexe : plan", file: annexe.pdf}')
    if "quoted scalar" in context:
        return opened, ("guillemet ouvert et jamais refermé : refermez le texte par le même guillemet, "
                        "sur la même information")
    if "simple key" in context:
        return opened, ("ligne sans « : » : chaque information s'écrit « clé: valeur » ; un texte sur "
                        "plusieurs lignes s'écrit entre guillemets")
    quote = re.match(r"""^\s*(?:- )?[\w-]+:\s*(['"])""", line)
    if "expected key" in problem and quote and quote.group(1) == "'":
        return at, ("apostrophe dans un texte entre apostrophes : doublez-la ('l''air'), ou écrivez le "
                    "texte entre guillemets droits doubles (\"l'air\")")
    if "expected key" in problem and quote:
        return at, ("texte après le guillemet fermant : tout le texte s'écrit entre les guillemets ; un "
                    "guillemet à l'intérieur s'écrit \\\"")
    if "expected key" in problem or "block end" in problem or "indicator" in problem:
        return at, INDENTATION
    return at, (f"syntaxe YAML invalide ({problem}) : souvent un « : » ou un « # » dans un texte sans "
                "guillemets, ou une indentation décalée ; mettez le texte entre guillemets droits")


INDENTATION = ("indentation décalée : les informations de même niveau commencent à la même colonne, "
               "avec des espaces (jamais de tabulation)")


def quoted(line: str) -> str:
    """How to write `line` with its value between double quotes: « key: "value" »."""
    key, _, value = line.partition(":")
    value = value.strip()
    if len(value) > 1 and value[0] == value[-1] and value[0] in "\"'":
        value = value[1:-1]
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'« {key.strip()}: "{escaped}" »'


def relative(path: str) -> str:
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return path
    return path if rel.startswith("..") else rel


def load_file(path: str) -> tuple[Source, object]:
    with open(path, encoding="utf-8") as handle:
        source = Source(path, handle.read())
    return source, source.load()

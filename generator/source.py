"""YAML sources that remember where each value was written, for compiler-like messages."""

from __future__ import annotations

import os
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
    """One error in a source file, printed like a compiler: `file:line: field: message`."""

    file: str
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}"
        return f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"


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
            mark = getattr(exc, "problem_mark", None)
            line = self.first_line + (mark.line if mark else 0)
            reason = getattr(exc, "problem", None) or str(exc)
            self.problems.append(Problem(self.display, line, "", f"invalid YAML: {reason}"))
            return None
        finally:
            loader.dispose()
        for line, key in loader.duplicates:
            self.problems.append(Problem(self.display, self.first_line + line, key, "this key is written twice"))
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

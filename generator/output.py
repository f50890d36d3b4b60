"""Where a build writes: only the files whose bytes changed, each replaced atomically, and the files
the site no longer has removed at the end. A page whose inputs are unchanged is not even rendered.

The manifest (kept beside the read cache) remembers, for every file of the output folder, the key
of the inputs it was made from and the digest of its bytes. A page is skipped when its key is
unchanged; any other file is written when its digest differs. A manifest that does not describe the
folder (another folder, or the folder replaced since) is ignored: the build is then cold.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import shutil

from .reader import save_pickle

MANIFEST_VERSION = 1


def digest(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=16).digest()


def key_of(*parts) -> bytes:
    """A key for a page from the values it is rendered from: bytes as they are (other keys), any
    other value by its repr (which must say all of it)."""
    hasher = hashlib.blake2b(digest_size=16)
    for part in parts:
        data = part if isinstance(part, bytes) else repr(part).encode()
        hasher.update(len(data).to_bytes(8, "little"))
        hasher.update(data)
    return hasher.digest()


def _identity(root: str):
    """The folder as the manifest saw it last (a folder made again, or changed at its top, is not it)."""
    try:
        stat = os.stat(root)
    except FileNotFoundError:
        return None
    return (stat.st_dev, stat.st_ino, stat.st_mtime_ns)


def _write(path: str, data: bytes) -> None:
    """The bytes of a file, with one system call each to open, write and close it."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
    finally:
        os.close(fd)


class Output:
    """The output folder of a build and what is known of its files."""

    def __init__(self, root: str, manifest_path: str | None, *, verify: bool = False):
        self.root = os.path.abspath(root)
        self.manifest_path = manifest_path
        self.previous: dict[str, tuple] = {}
        self.extra: dict = {}
        if manifest_path and os.path.exists(manifest_path):
            try:
                with open(manifest_path, "rb") as handle:
                    saved = pickle.load(handle)
                if (saved.get("version") == MANIFEST_VERSION and saved.get("root") == self.root
                        and saved.get("identity") == _identity(self.root)):
                    self.previous = saved["files"]
                    self.extra = saved.get("extra", {})
                if verify:  # a file removed by hand is made again
                    self.previous = {path: entry for path, entry in self.previous.items()
                                     if os.path.exists(os.path.join(self.root, path))}
            except (OSError, EOFError, pickle.UnpicklingError, ValueError, TypeError, KeyError, AttributeError):
                self.previous = {}
        self.files: dict[str, tuple] = {}
        self.written: dict[str, None] = {}  # the paths written by this build, in order
        self.folders: set[str] = set()  # the folders this build made sure exist
        self.removed: list[str] = []

    @property
    def warm(self) -> bool:
        """Whether the folder holds the output of a previous build that this manifest describes."""
        return bool(self.previous)

    def unchanged(self, path: str, key: bytes) -> bool:
        """True when `path` was made from inputs with this `key`: it is kept as it is."""
        old = self.previous.get(path)
        if old is not None and old[0] == key:
            self.files[path] = old
            return True
        return False

    def keep(self, paths) -> bool:
        """Keep these files of the previous build as they are; False when there was none."""
        kept = {path: self.previous[path] for path in paths if path in self.previous}
        self.files.update(kept)
        return bool(kept)

    def write(self, path: str, data, key: bytes | None = None) -> bool:
        """Write `data` (text or bytes) at `path` (relative to the root) unless it holds these bytes."""
        if isinstance(data, str):
            data = data.encode("utf-8")
        new = digest(data)
        old = self.previous.get(path)
        self.files[path] = (key, new)
        if old is not None and old[1] == new:
            return False
        self._put(path, lambda target: _write(target, data))
        return True

    def copy(self, path: str, source: str, key: bytes) -> None:
        """The file `source` copied at `path` by the kernel, never read here (the call editor's 7 MB):
        made again when its `key` changes, which the manifest also records as its digest."""
        self.files[path] = (key, key)
        self._put(path, lambda target: shutil.copyfile(source, target))

    def _put(self, path: str, make) -> None:
        """`make(file)` writes the file at `path`; a visitor never reads half of it."""
        target = os.path.join(self.root, path)
        folder = os.path.dirname(target)
        if folder not in self.folders:
            try:  # one system call when its parent exists (a call's folder in appels/)
                os.mkdir(folder)
            except FileExistsError:
                pass
            except FileNotFoundError:
                os.makedirs(folder, exist_ok=True)
            self.folders.add(folder)
        if self.warm:  # into a temporary file renamed over the old one
            temporary = os.path.join(folder, f".{os.path.basename(target)}.{os.getpid()}.tmp")
            make(temporary)
            os.replace(temporary, target)
        else:  # a cold build's folder is not online until it is swapped in
            make(target)
        self.written[path] = None

    def record(self, entries: dict[str, tuple], written: list[str]) -> None:
        """What another process wrote into this folder for this build (generator.parallel)."""
        self.files.update(entries)
        self.written.update(dict.fromkeys(written))

    def finish(self, **extra) -> None:
        """Remove what this build no longer makes, then save the manifest."""
        for path in sorted(set(self.previous) - set(self.files)):
            target = os.path.join(self.root, path)
            try:
                os.remove(target)
            except FileNotFoundError:
                continue
            self.removed.append(path)
            folder = os.path.dirname(target)
            while folder != self.root and not os.listdir(folder):
                os.rmdir(folder)
                folder = os.path.dirname(folder)
        self.extra = extra
        self.save()

    def save(self) -> None:
        if self.manifest_path:
            save_pickle(self.manifest_path, {"version": MANIFEST_VERSION, "root": self.root,
                                             "identity": _identity(self.root), "files": self.files,
                                             "extra": self.extra})
        self.previous = dict(self.files)
        self.files = {}

    def relative(self, path: str) -> str:
        return os.path.relpath(os.path.abspath(path), self.root).replace(os.sep, "/")

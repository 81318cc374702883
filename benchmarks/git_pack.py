"""Commit a long run of acts, one commit each, by writing a git pack file directly.

A ledger keeps every patch in a folder of its own under `patches/`, so each act
rewrites the `patches` tree, which lists every patch: 400 KB at 10,000 patches. `git
fast-import` sorts that tree, builds a delta index of its previous version and
deflates it again for every commit; fed the 200,000 commits of 10,000 patches, with
no other work, it took 8 minutes on the benchmark machine (2026-12-02). Here the tree
is kept as bytes in git's tree format and changed in place, one entry per act. Its
object id is the sha1 of those bytes; sha1 states saved along the way are resumed
from the changed entry on, so only the bytes after it are hashed again. It is stored
as a delta whose instructions come straight from what changed (copy, insert the
changed entry, copy), never searched for.

`Acts(root, ref, parent)` takes acts in order (`act(files, who, message)`: files under
`patches/<ID>/`, at least one of them new, all of a patch's acts one after another,
on a ledger without that patch) and `close()` writes the pack and its index into
`.git/objects/pack/` and moves `ref` from `parent` to the last commit with `git
update-ref`. Objects are written as they come; what stays in memory is one 20-byte
id, an offset and a checksum per object, the ids of the objects whose content may
come again (blobs, a patch's folders), the `patches` tree and the folders of the
patch being written. The result is what `git fast-import` makes of the same acts,
commit for commit (the same ids; checked on 300 patches).

Pack layout, as git reads it (Documentation/gitformat-pack.txt): version 2. Blobs
are deflated (zlib level 6). Trees, commits and deltas, mostly object ids, are
stored in zlib streams without compression: deflating a few hundred bytes costs
more than it saves here. Each version of the `patches` tree is an OFS_DELTA against
an earlier one: the version of a patch's first act against that of the patch before
(a whole copy every 50 patches), the versions of its later acts against it, so no
delta chain is longer than 51.
"""

from __future__ import annotations

import bisect
import hashlib
import os
import struct
import subprocess
import sys
import zlib
from array import array
from pathlib import Path

OBJ_COMMIT, OBJ_TREE, OBJ_BLOB, OBJ_OFS_DELTA = 1, 2, 3, 6
TYPE_NAMES = {OBJ_COMMIT: b"commit", OBJ_TREE: b"tree", OBJ_BLOB: b"blob"}
FILE, FOLDER = b"100644", b"40000"
FULL_EVERY = 50  # keyframes of the patches tree between two whole copies
COPY_MAX = 0x10000  # the largest copy git itself writes in one delta instruction


def object_id(kind: int, data: bytes | bytearray) -> bytes:
    digest = hashlib.sha1(b"%s %d\0" % (TYPE_NAMES[kind], len(data)))
    digest.update(data)
    return digest.digest()


def deflate(data: bytes | bytearray, level: int = 6) -> bytes:
    """zlib at git's default level, with a window and tables sized to the data: most
    objects here are a few hundred bytes, for which zlib's default tables (256 KB to
    set up) would cost more than the compressing. Level 0 stores the data as it is,
    in a zlib stream all the same (RFC 1950/1951: header, stored blocks, Adler-32)."""
    if level == 0 and len(data) <= 0xFFFF:
        size = len(data)
        return b"".join((b"\x78\x01\x01", struct.pack("<HH", size, size ^ 0xFFFF), data,
                         struct.pack(">I", zlib.adler32(data))))
    if len(data) <= 4096:
        packer = zlib.compressobj(level, zlib.DEFLATED, 12, 4)
    elif len(data) <= 65536:
        packer = zlib.compressobj(6, zlib.DEFLATED, 14, 6)
    else:
        packer = zlib.compressobj(6)
    return packer.compress(data) + packer.flush()


def _varint(n: int) -> bytes:
    """A size in a delta's header: 7 bits a byte, least significant first."""
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _entry_header(kind: int, size: int) -> bytearray:
    """A pack entry's type and uncompressed size."""
    out = bytearray([(kind << 4) | (size & 0x0F)])
    size >>= 4
    while size:
        out[-1] |= 0x80
        out.append(size & 0x7F)
        size >>= 7
    return out


def _ofs(distance: int) -> bytes:
    """An OFS_DELTA's distance back to its base, in git's offset encoding."""
    out = bytearray([distance & 0x7F])
    distance >>= 7
    while distance:
        distance -= 1
        out.insert(0, 0x80 | (distance & 0x7F))
        distance >>= 7
    return bytes(out)


def _copy(out: bytearray, offset: int, size: int) -> None:
    while size > 0:
        n = min(size, COPY_MAX)
        op, args = 0x80, bytearray()
        for i in range(4):
            byte = (offset >> (8 * i)) & 0xFF
            if byte:
                op |= 1 << i
                args.append(byte)
        for i in range(3 if n != COPY_MAX else 0):  # a size of 0 means 0x10000
            byte = (n >> (8 * i)) & 0xFF
            if byte:
                op |= 0x10 << i
                args.append(byte)
        out.append(op)
        out += args
        offset, size = offset + n, size - n


def _insert(out: bytearray, data: bytes | bytearray) -> None:
    for start in range(0, len(data), 127):
        chunk = data[start:start + 127]
        out.append(len(chunk))
        out += chunk


def tree_entry(mode: bytes, name: bytes, oid: bytes) -> bytes:
    return mode + b" " + name + b"\0" + oid


def _sort_key(name: bytes, mode: bytes) -> bytes:
    return name + b"/" if mode == FOLDER else name  # git's order: folders as "name/"


def tree_bytes(entries: dict[bytes, tuple[bytes, bytes]]) -> bytes:
    """A tree object's content from name -> (mode, id)."""
    names = sorted(entries, key=lambda n: _sort_key(n, entries[n][0]))
    return b"".join(tree_entry(entries[n][0], n, entries[n][1]) for n in names)


def parse_tree(data: bytes) -> dict[bytes, tuple[bytes, bytes]]:
    entries, at = {}, 0
    while at < len(data):
        space = data.index(b" ", at)
        nul = data.index(b"\0", space)
        entries[data[space + 1:nul]] = (data[at:space], data[nul + 1:nul + 21])
        at = nul + 21
    return entries


class Pack:
    """One pack file being written, and the index that goes with it. Per object it
    keeps the id (in one bytearray), the offset and the CRC-32 the index lists."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.path = folder / f"tmp_pack_factory_{os.getpid()}"
        self._file = open(self.path, "wb")  # noqa: SIM115 (closed by finish or abandon)
        self._file.write(b"PACK" + struct.pack(">II", 2, 0))  # the count is set at the end
        self._at = 12
        self.count = 0
        self._ids = bytearray()
        self._offsets = array("Q")
        self._crcs = array("I")
        self._known: set[bytes] = set()  # ids of objects whose content may come again

    def has(self, oid: bytes) -> bool:
        return oid in self._known

    def _entry(self, oid: bytes, header: bytes | bytearray, body: bytes) -> int:
        at = self._at
        self._file.write(header)
        self._file.write(body)
        self._at += len(header) + len(body)
        self._ids += oid
        self._offsets.append(at)
        self._crcs.append(zlib.crc32(body, zlib.crc32(header)))
        self.count += 1
        return at

    def whole(self, kind: int, data: bytes | bytearray, oid: bytes, *,
              unique: bool = False, level: int = 6) -> int:
        """Store an object whole, deflated at `level`; its offset in the pack.
        `unique`: its content cannot come again (so `has` need not know it)."""
        if not unique:
            self._known.add(oid)
        return self._entry(oid, _entry_header(kind, len(data)), deflate(data, level))

    def delta(self, base: int, delta: bytes | bytearray, oid: bytes) -> int:
        """Store an object, whose content cannot come again, as a delta against the
        one at offset `base` (stored undeflated: it is mostly an entry's id)."""
        header = _entry_header(OBJ_OFS_DELTA, len(delta)) + _ofs(self._at - base)
        return self._entry(oid, header, deflate(delta, 0))

    def abandon(self) -> None:
        self._file.close()
        self.path.unlink()

    def finish(self) -> str:
        """Write the object count, the trailing checksum and the index; the pack's name."""
        self._known.clear()
        self._file.seek(8)
        self._file.write(struct.pack(">I", self.count))
        self._file.close()
        digest = hashlib.sha1()
        with open(self.path, "rb") as written:
            while block := written.read(1 << 20):
                digest.update(block)
        checksum = digest.digest()
        with open(self.path, "ab") as written:
            written.write(checksum)
        name = f"pack-{checksum.hex()}"
        index_tmp = self.path.with_suffix(".idx")
        self._index(index_tmp, checksum)
        os.replace(self.path, self.folder / f"{name}.pack")
        os.replace(index_tmp, self.folder / f"{name}.idx")
        return name

    def _index(self, path: Path, checksum: bytes) -> None:
        """Version 2 of git's pack index (Documentation/gitformat-pack.txt): the ids
        sorted (by first byte, then each of the 256 groups on its own), their CRC-32s,
        their offsets."""
        ids = self._ids
        groups = [array("I") for _ in range(256)]
        for i in range(self.count):
            groups[ids[20 * i]].append(i)
        fanout, total = array("I"), 0
        sorted_ids, crcs, offsets, large = bytearray(), array("I"), array("I"), array("Q")
        for group in groups:
            total += len(group)
            fanout.append(total)
            for i in sorted(group, key=lambda i: ids[20 * i:20 * i + 20]):
                sorted_ids += ids[20 * i:20 * i + 20]
                crcs.append(self._crcs[i])
                offset = self._offsets[i]
                if offset < 0x80000000:
                    offsets.append(offset)
                else:
                    offsets.append(0x80000000 | len(large))
                    large.append(offset)
        if sys.byteorder == "little":  # the index is in network order
            for table in (fanout, crcs, offsets, large):
                table.byteswap()
        digest = hashlib.sha1()
        with open(path, "wb") as out:
            for part in (b"\377tOc", struct.pack(">I", 2), fanout, sorted_ids, crcs, offsets,
                         large, checksum):
                digest.update(part)
                out.write(part)
            out.write(digest.digest())


class _PatchesTree:
    """The `patches` tree as bytes in git's tree format, changed one entry at a time.

    Its id is the sha1 of all its bytes, but an entry changed in place leaves the
    bytes before it as they were: sha1 states saved every MARK bytes on the way are
    copied and only the rest is hashed again. (Inserting an entry changes the
    length, which the object's header holds, so that one is hashed whole.)"""

    MARK = 4096

    def __init__(self, data: bytes) -> None:
        self.data = bytearray(data)
        self.names: list[bytes] = []  # the entries' names in git's order
        self.lengths: list[int] = []
        for name, (mode, oid) in parse_tree(data).items():
            self.names.append(_sort_key(name, mode))
            self.lengths.append(len(tree_entry(mode, name, oid)))
        self._marks: list[hashlib._Hash] = []  # sha1 states after the header, MARK * i bytes

    def where(self, key: bytes) -> tuple[int, int]:
        """Where the entry starts and its length."""
        index = bisect.bisect_left(self.names, key)
        return sum(self.lengths[:index]), self.lengths[index]

    def insert(self, key: bytes, entry: bytes) -> int:
        """Add an entry; where it starts."""
        index = bisect.bisect_left(self.names, key)
        if index < len(self.names) and self.names[index] == key:
            raise ValueError(f"{key.decode()} is in the patches tree already")
        self.names.insert(index, key)
        self.lengths.insert(index, len(entry))
        at = sum(self.lengths[:index])
        self.data[at:at] = entry
        self._marks = []
        return at

    def replace(self, at: int, entry: bytes) -> None:
        """Change the entry at `at` (the same name, so the same length)."""
        self.data[at:at + len(entry)] = entry
        del self._marks[at // self.MARK + 1:]

    def object_id(self, keep: int) -> bytes:
        """The tree's id, hashed from the last saved state that is still valid; states
        are saved up to offset `keep`, where the next change is expected."""
        with memoryview(self.data) as data:
            if self._marks:
                digest = self._marks[-1].copy()
                start = (len(self._marks) - 1) * self.MARK
            else:
                digest = hashlib.sha1(b"tree %d\0" % len(data))
                start = 0
                self._marks.append(digest.copy())
            while start + self.MARK <= min(keep, len(data)):
                digest.update(data[start:start + self.MARK])
                start += self.MARK
                self._marks.append(digest.copy())
            digest.update(data[start:])
        return digest.digest()


class _Folder:
    """A folder of the patch being written: its entries in git's order."""

    __slots__ = ("entries", "order")

    def __init__(self) -> None:
        self.entries: dict[bytes, bytes] = {}  # sort key -> the entry's bytes
        self.order: list[bytes] = []

    def set(self, mode: bytes, name: bytes, oid: bytes) -> bool:
        """Add or change an entry; True if it is new."""
        key = _sort_key(name, mode)
        new = key not in self.entries
        if new:
            if _sort_key(name, FOLDER if mode == FILE else FILE) in self.entries:
                raise ValueError(f"{name.decode()} is a file and a folder")
            bisect.insort(self.order, key)
        self.entries[key] = tree_entry(mode, name, oid)
        return new

    def data(self) -> bytes:
        return b"".join([self.entries[key] for key in self.order])


class Acts:
    """Commits acts one after another on top of `parent`, into one new pack."""

    def __init__(self, root: Path, ref: str, parent: str) -> None:
        self.root, self.ref, self.parent = root, ref, parent
        git_dir = Path(self._git("rev-parse", "--absolute-git-dir").decode().strip())
        self.pack = Pack(git_dir / "objects" / "pack")
        self.head = parent
        self.commits = 0
        root_tree = self._git("rev-parse", f"{parent}^{{tree}}").decode().strip()
        top = parse_tree(self._git("cat-file", "tree", root_tree))
        patches = top.get(b"patches")
        self._tree = _PatchesTree(self._git("cat-file", "tree", patches[1].hex())
                                  if patches else b"")
        # The root tree but for the id of the patches tree: what comes before and after.
        top[b"patches"] = (FOLDER, b"\0" * 20)
        entry = tree_entry(FOLDER, b"patches", b"\0" * 20)
        before, _, after = tree_bytes(top).partition(entry)
        self._root_around = (before + entry[:-20], after)
        self._taken = set(self._tree.names)  # patches that may not get acts here
        # The patch being written: its name, its folders (b"" its top, b"events", ...),
        # where its entry starts in the patches tree (None before its first act).
        self._patch = b""
        self._folders: dict[bytes, _Folder] = {}
        self._at: int | None = None
        # The last keyframe of the patches tree: offset and size in the pack, and the
        # entry that changes after it (the patch it was written for).
        self._key: tuple[int, int] | None = None
        self._key_entry = b""
        self._since_full = FULL_EVERY

    def _git(self, *args: str) -> bytes:
        return subprocess.run(["git", "-C", str(self.root), *args], check=True,
                              capture_output=True).stdout

    def _put(self, kind: int, data: bytes) -> bytes:
        """Store an object unless the pack has it; its id. Trees are stored undeflated:
        half their bytes are ids, and deflating costs more than it saves here."""
        oid = object_id(kind, data)
        if not self.pack.has(oid):
            self.pack.whole(kind, data, oid, level=0 if kind == OBJ_TREE else 6)
        return oid

    def _folder(self, path: bytes) -> _Folder:
        found = self._folders.get(path)
        if found is None:
            found = self._folders[path] = _Folder()
        return found

    def act(self, files: dict[str, bytes], who: bytes, message: bytes) -> str:
        """One commit adding `files` (paths under patches/<ID>/, all of one patch),
        authored and committed by `who` ("Name <email> seconds +0000"); its id."""
        dirty: set[bytes] = set()
        added = False
        for path, data in files.items():
            top, patch, rest = [*path.encode("utf-8").split(b"/", 2), b"", b""][:3]
            if top != b"patches" or not rest or (dirty and patch != self._patch):
                raise ValueError(f"an act adds files under patches/<ID>/ of one patch: {path}")
            self._open(patch)
            folder, _, leaf = rest.rpartition(b"/")
            added = self._folder(folder).set(FILE, leaf, self._put(OBJ_BLOB, data)) or added
            while folder not in dirty:  # the folder and those above it are rewritten
                dirty.add(folder)
                if not folder:
                    break
                folder = folder.rpartition(b"/")[0]
        if not added:  # then the patches tree, the root tree and the commit are new
            raise ValueError("an act adds at least one file that was not there")
        oid = b""
        for folder in sorted(dirty, key=lambda f: -1 - f.count(b"/") if f else 0):
            oid = self._put(OBJ_TREE, self._folder(folder).data())
            if folder:  # deepest first: its parent is written after it
                parent, _, child = folder.rpartition(b"/")
                self._folder(parent).set(FOLDER, child, oid)
        before, after = self._root_around
        root = before + self._store_patches_tree(oid) + after
        tree = object_id(OBJ_TREE, root)
        self.pack.whole(OBJ_TREE, root, tree, unique=True, level=0)
        commit = (b"tree %s\nparent %s\nauthor %s\ncommitter %s\n\n%s"
                  % (tree.hex().encode(), self.head.encode(), who, who, message))
        commit_id = object_id(OBJ_COMMIT, commit)
        self.pack.whole(OBJ_COMMIT, commit, commit_id, unique=True, level=0)
        self.head = commit_id.hex()
        self.commits += 1
        return self.head

    def _open(self, patch: bytes) -> None:
        """Make `patch` the patch being written: a new folder under patches/."""
        if patch == self._patch:
            return
        key = _sort_key(patch, FOLDER)
        if key in self._taken:
            raise ValueError(f"patches/{patch.decode()} exists already: a patch's acts "
                             "come one after another, on a ledger without it")
        self._taken.add(key)
        self._patch, self._folders, self._at = patch, {}, None

    def _store_patches_tree(self, patch_tree: bytes) -> bytes:
        """Write the patches tree with the current patch's folder at `patch_tree`."""
        entry = tree_entry(FOLDER, self._patch, patch_tree)
        if self._at is None:  # the patch's first act: a new entry, a new keyframe
            key = _sort_key(self._patch, FOLDER)
            self._at = self._tree.insert(key, entry)
            oid = self._tree.object_id(keep=self._at)
            if self._key is None or self._since_full >= FULL_EVERY:
                offset = self.pack.whole(OBJ_TREE, self._tree.data, oid, unique=True)
                self._since_full = 0
            else:
                regions = [(self._at, len(entry), True)]
                if self._key_entry:  # the previous patch's entry changed since
                    regions.append((*self._tree.where(self._key_entry), False))
                offset = self.pack.delta(self._key[0], self._delta(self._key[1],
                                                                   sorted(regions)), oid)
                self._since_full += 1
            self._key, self._key_entry = (offset, len(self._tree.data)), key
            return oid
        self._tree.replace(self._at, entry)
        oid = self._tree.object_id(keep=self._at)
        assert self._key is not None
        self.pack.delta(self._key[0], self._delta(self._key[1],
                                                  [(self._at, len(entry), False)]), oid)
        return oid

    def _delta(self, base_size: int, regions: list[tuple[int, int, bool]]) -> bytearray:
        """The patches tree as a delta of a version that differs only in `regions`:
        (offset in the new tree, length, True where the entry is new, not replaced)."""
        data = self._tree.data
        out = bytearray(_varint(base_size) + _varint(len(data)))
        source = target = 0
        for offset, length, new in regions:
            _copy(out, source, offset - target)
            source += offset - target
            _insert(out, data[offset:offset + length])
            target = offset + length
            source += 0 if new else length
        _copy(out, source, base_size - source)
        if base_size - source != len(data) - target:
            raise AssertionError("the patches tree delta does not add up")
        return out

    def abandon(self) -> None:
        """Throw the unfinished pack away; the ref stays where it was."""
        self.pack.abandon()

    def close(self) -> str:
        """Write the pack and its index and move the ref; the last commit."""
        if not self.commits:
            self.pack.abandon()
            return self.head
        self.pack.finish()
        self._git("update-ref", "-m", "ledger factory", self.ref, self.head, self.parent)
        return self.head

"""The zip archive torch.save writes (PyTorch's PyTorchStreamWriter over miniz): stored records,
each one's data aligned to 64 bytes by an "FB" extra field, data descriptors, zip64 end records."""
import os
import struct
import zlib

ALIGNMENT = 64
MASK = (1 << 64) - 1


def hash_combine(seed, value):
    """c10::hash_combine on 64-bit size_t."""
    return (seed ^ (value + 0x9E3779B9 + (seed << 6) + (seed >> 2))) & MASK


def archive_name(path):
    """The archive's folder name: the file's base name without its last extension."""
    base = os.fspath(path).rsplit("/", 1)[-1]
    return base.rsplit(".", 1)[0] if "." in base else base


class ArchiveWriter:
    """Writes records one after the other to ``write``; ``close()`` adds the version, the
    serialization id and the central directory, as PyTorchStreamWriter.writeEndOfFile does."""

    def __init__(self, write, name="archive"):
        self._write, self._prefix = write, name + "/"
        self._pos, self._central, self._names, self._crc = 0, [], [], 0

    def _out(self, data):
        self._write(data)
        self._pos += len(data)

    def record(self, name, data):
        """One stored (uncompressed) record; ``data`` is bytes or a contiguous memoryview."""
        full = (self._prefix + name).encode()
        size = len(data)
        pad = -(self._pos + 30 + len(full) + 4) % ALIGNMENT
        extra = b"FB" + struct.pack("<H", pad) + b"Z" * pad
        flags = 0x0808 if size else 0x0800  # UTF-8 names; a data descriptor when not empty
        offset = self._pos
        self._out(struct.pack("<IHHHHHIIIHH", 0x04034B50, 0, flags, 0, 0, 0, 0, 0, 0,
                              len(full), len(extra)) + full + extra)
        crc = 0
        if size:
            self._out(data)
            crc = zlib.crc32(data)
            self._out(struct.pack("<IIII", 0x08074B50, crc, size, size))
            self._crc = hash_combine(self._crc, crc)
        self._central.append(struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 0, 0, flags, 0, 0, 0,
                                          crc, size, size, len(full), 0, 0, 0, 0, 0, offset)
                             + full)
        self._names.append(name)

    def close(self):
        self.record("version", b"3\n")
        names = 0  # PyTorch hashes the names in its unordered_set's order: ours is crc32's
        for name in self._names:
            names = hash_combine(names, zlib.crc32(name.encode()))
        self.record(".data/serialization_id", f"{names:020d}{self._crc:020d}".encode())
        start = self._pos
        for entry in self._central:
            self._out(entry)
        n, size, end = len(self._central), self._pos - start, self._pos
        self._out(struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 0x031E, 0x2D, 0, 0, n, n, size,
                              start))
        self._out(struct.pack("<IIQI", 0x07064B50, 0, end, 1))
        self._out(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, n, n, size, start, 0))

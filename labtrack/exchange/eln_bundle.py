"""An `.eln` file opened for import: the zip checked through `zipsafe` (entries, sizes,
ratios, names), one top folder holding an RO-Crate 1.x whose root dataset is found; the
report of what an import made; and the helpers every importer shares (an entry copied
out with its checksum checked, dates, codes that must be free)."""
from __future__ import annotations

import hashlib
import json
import os
import posixpath
import re
import zipfile
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.dateparse import parse_datetime

from labtrack.exchange import zipsafe
from labtrack.samples.models import code_is

METADATA = "ro-crate-metadata.json"


@dataclass
class ElnImportReport:
    file_name: str
    kind: str = ""  # "labtrack" or the publishing software's name
    batches: list[str] = field(default_factory=list)
    samples: list[str] = field(default_factory=list)
    measurements: int = 0
    runs: int = 0
    attachments: int = 0
    skipped: list[str] = field(default_factory=list)  # what did not map, and why
    studies: list[dict] = field(default_factory=list)  # [{"id", "name"}] of the ageing studies created


@dataclass
class Bundle:
    archive: zipfile.ZipFile
    top: str
    graph: dict[str, dict]
    root: dict
    descriptor: dict
    file_name: str

    def entry(self, crate_id: str) -> str | None:
        """The zip entry of a data entity's @id, or None when it is not in the archive."""
        if crate_id.startswith("./"):
            path = crate_id[2:]  # relative: "./demo:HPPPKI/x.xrdml" is a path, not a URL
        elif re.match(r"^[a-z][a-z0-9+.-]*:", crate_id):  # a URL or a scheme id: not a file here
            return None
        else:
            path = crate_id
        from urllib.parse import unquote

        for candidate in (path, unquote(path)):
            name = posixpath.normpath(f"{self.top}/{candidate}")
            if name.startswith(f"{self.top}/") and name in self.names:
                return self.names[name]
        return None

    @property
    def names(self) -> dict[str, str]:
        """{normalised path: the entry's own name} (eLabFTW writes "folder//file")."""
        if not hasattr(self, "_names"):
            self._names = {posixpath.normpath(n): n for n in self.archive.namelist() if not n.endswith("/")}
        return self._names


def ids_of(value: Any) -> list[str]:
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    return [i["@id"] if isinstance(i, dict) else str(i) for i in items if isinstance(i, (dict, str))]


def types_of(entity: dict) -> set[str]:
    value = entity.get("@type", [])
    return set(value if isinstance(value, list) else [value])


def open_bundle(path: str, file_name: str) -> Bundle:
    """Open and check an .eln: one top folder, an RO-Crate 1.1+ metadata file with a
    root dataset. ValidationError naming the problem otherwise."""
    archive = zipsafe.open_checked(path, what=file_name)
    tops = {n.split("/", 1)[0] for n in archive.namelist() if n.strip("/")}
    if len(tops) != 1 or not any("/" in n for n in archive.namelist()):
        archive.close()
        raise ValidationError(f"{file_name} is not an .eln file: it must hold exactly one folder "
                              f"(found {len(tops)} top-level entries).")
    top = tops.pop()
    metadata_name = f"{top}/{METADATA}"
    if metadata_name not in archive.namelist():
        archive.close()
        raise ValidationError(f"{file_name} has no {METADATA} in its folder {top}/; it is not an RO-Crate.")
    try:
        metadata = json.loads(zipsafe.read_capped(archive, metadata_name, settings.LABTRACK_ELN_MAX_METADATA_BYTES))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        archive.close()
        raise ValidationError(f"{METADATA} in {file_name} is not valid JSON ({exc}).") from None
    context = metadata.get("@context") if isinstance(metadata, dict) else None
    contexts = context if isinstance(context, list) else [context]
    if not any(isinstance(c, str) and re.match(r"^https?://w3id\.org/ro/crate/1\.\d+/context$", c) for c in contexts):
        archive.close()
        raise ValidationError(f"{file_name} does not use an RO-Crate 1.x context (found {str(context)[:80]}).")
    graph = {e["@id"]: e for e in metadata.get("@graph", []) if isinstance(e, dict) and "@id" in e}
    descriptor = graph.get(METADATA) or {}
    root_id = (descriptor.get("about") or {}).get("@id", "./")
    root = graph.get(root_id)
    if root is None or "Dataset" not in types_of(root):
        archive.close()
        raise ValidationError(f"{file_name}: the crate's root dataset ({root_id}) is missing.")
    return Bundle(archive, top, graph, root, descriptor, file_name)


def publisher_of(bundle: Bundle) -> str:
    publisher = bundle.graph.get((bundle.descriptor.get("sdPublisher") or {}).get("@id", ""), {})
    return str(publisher.get("name") or "")


def native_entity(bundle: Bundle, name: str) -> dict | None:
    return next((e for e in bundle.graph.values() if e.get("name") == name and "File" in types_of(e)), None)


def extract_checked(bundle: Bundle, entry: str, sha256: str, folder: str) -> str:
    """Copy an entry to `folder`, hashing as it streams; refuse a checksum mismatch."""
    info = bundle.archive.getinfo(entry)
    target = os.path.join(folder, hashlib.sha256(entry.encode()).hexdigest())
    digest = hashlib.sha256()
    with open(target, "wb") as out:
        for chunk in zipsafe.iter_capped(bundle.archive, entry, info.file_size):
            digest.update(chunk)
            out.write(chunk)
    if sha256 and digest.hexdigest() != sha256:
        raise ValidationError(f"{entry.split('/', 1)[1]} in {bundle.file_name} does not match its checksum "
                              "(damaged or altered); nothing was imported.")
    return target


def date_time(value):
    """A date-time from the crate, or None when absent or not a valid one."""
    try:
        return parse_datetime(str(value)) if value else None
    except ValueError:
        return None


def free_or_refuse(model, code: str, what: str) -> None:
    if model.objects.filter(code_is(code)).exists():
        raise ValidationError(f"A {what} {code} already exists in this LabTrack; nothing was imported.")

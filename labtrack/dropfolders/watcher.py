"""Watching one drop folder: watchdog's observer wakes the loop on file-system events
(inotify on Linux; with `polling`, watchdog's PollingObserver, which compares listings,
for network shares where events never arrive), and the loop scans. Completeness needs a
second look after the settle time even when nothing happens, so the loop also scans every
`rescan_s`.

What is watched: the folder itself (not recursively) and, recursively, each of its
subfolders that may hold an item being written. processed/, unmatched/, duplicates/ and
failed/ are not watched: they grow for years, and a recursive watch of them would use
one inotify watch per experiment folder (the kernel's default limit is 8,192) or make
the polling observer list them all every few seconds.

Scans run in the calling thread (the observer's threads only set an Event), so the
database is used from one thread. Nothing a folder holds stops the loop: bad items are
recorded by the scan, a missing folder on the folder row, and a database that blinks is
logged and retried."""
from __future__ import annotations

import logging
import os
import threading
import time
from typing import Callable

from django.db import DatabaseError, close_old_connections
from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver, ObservedWatch
from watchdog.observers.polling import PollingObserver

from labtrack.dropfolders.files import is_ignored_name
from labtrack.dropfolders.models import DropFolder
from labtrack.dropfolders.scanning import folder_scan, reserved_names

log = logging.getLogger(__name__)
# Events come in bursts while a file is written: gather them before scanning.
DEBOUNCE_S = 0.2


class _Wake(FileSystemEventHandler):
    def __init__(self, wake: threading.Event):
        self.wake = wake

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type not in ("opened", "closed_no_write"):  # reads (ours too) change nothing
            self.wake.set()


class FolderObserver:
    """The folder (not recursive) and its item subfolders (recursive), kept in step with
    the folder's contents by `sync()` after each scan."""

    def __init__(self, path: str, reserved: set[str], wake: threading.Event, *, polling: bool,
                 poll_interval_s: float):
        self.path, self.reserved, self.handler = path, reserved, _Wake(wake)
        self.polling, self.poll_interval_s = polling, poll_interval_s
        self.observer: BaseObserver | None = None
        self.subfolders: dict[str, ObservedWatch] = {}

    def start(self) -> None:
        if not self.polling:
            try:
                self.observer = Observer()
                self.observer.schedule(self.handler, self.path, recursive=False)
                self.observer.start()
                return
            except OSError as exc:
                log.warning("no file-system events for %s (%s); polling every %.1f s instead",
                            self.path, exc, self.poll_interval_s)
        try:
            self.observer = PollingObserver(timeout=self.poll_interval_s)
            self.observer.schedule(self.handler, self.path, recursive=False)
            self.observer.start()
        except OSError as exc:
            # The folder is missing (an unmounted share): the loop's timed scans go on and
            # record the problem; the observer is started again once the folder is back.
            log.warning("cannot watch %s (%s); scanning on a timer", self.path, exc)
            self.observer = None

    @property
    def kind(self) -> str:
        return type(self.observer).__name__ if self.observer else "timer only"

    def sync(self) -> None:
        """Watch each current subfolder recursively; drop the watches of those gone."""
        if self.observer is None:
            if os.path.isdir(self.path):
                self.start()
            if self.observer is None:
                return
        try:
            current = {e.path for e in os.scandir(self.path) if e.is_dir(follow_symlinks=False)
                       and e.name not in self.reserved and not is_ignored_name(e.name)}
        except OSError:
            current = set()
        for path in set(self.subfolders) - current:
            try:
                self.observer.unschedule(self.subfolders.pop(path))
            except (KeyError, OSError):
                pass
        for path in current - set(self.subfolders):
            try:
                self.subfolders[path] = self.observer.schedule(self.handler, path, recursive=True)
            except OSError as exc:  # vanished meanwhile, or the inotify limit: timed scans still see it
                log.debug("cannot watch %s: %s", path, exc)

    def stop(self) -> None:
        if self.observer is not None:
            self.observer.stop()
            self.observer.join(timeout=10)


def watch(folder_id: int, *, stop: threading.Event, polling: bool = False, poll_interval_s: float = 5.0,
          settle_s: float | None = None, rescan_s: float | None = None,
          on_scan: Callable[[dict], None] | None = None) -> None:
    """Scan `folder_id` on every event and every `rescan_s` (default: half the settle
    time, at most 30 s) until `stop` is set."""
    folder = DropFolder.objects.get(pk=folder_id)
    settle = folder.settle_s if settle_s is None else settle_s
    rescan = rescan_s if rescan_s is not None else min(max(settle / 2, 0.1), 30.0)
    wake = threading.Event()
    observer = FolderObserver(folder.path, reserved_names(folder), wake, polling=polling,
                              poll_interval_s=poll_interval_s)
    observer.start()
    log.info("watching %s (%s) with %s", folder.path, folder.name, observer.kind)
    try:
        while not stop.is_set():
            try:
                report = folder_scan(folder_id=folder_id, settle_s=settle)
            except DatabaseError as exc:
                log.warning("drop folder %s: database unavailable (%s); retrying", folder_id, exc)
                close_old_connections()
                report = {"database_error": 1}
            observer.sync()
            if on_scan is not None:
                on_scan(report)
            if wake.wait(timeout=rescan):
                time.sleep(DEBOUNCE_S)
            wake.clear()
    finally:
        observer.stop()

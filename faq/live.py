"""Keeps the content live: a changed content file is served without a restart.

:class:`LiveContent` holds the last good :class:`~faq.content.Content`. When the
content file (or the article it is checked against) changes on disk, it is
loaded again with exactly the validation of the start (:func:`load_content`).
A valid file replaces the content at once; a broken one changes nothing for
users: the last good content stays in service and the error is logged and kept
for :meth:`LiveContent.status` (``GET /content/status`` on the action server).

Change detection is a ``stat`` of both files (modification time, size, inode)
at most every ``FAQ_CONTENT_POLL_SECONDS``: on every access to
:attr:`LiveContent.current`, and from the action server's background task so
that a broken edit is logged even when nobody asks anything. Polling works the
same for editors that save in place and for those that write a new file and
rename it, on every file system; a file whose bytes did not change (a
``touch``) is not parsed again.

Only answers, sources and their basis go live. The NLU learns from
``data/nlu`` and needs ``make train``: when a reload changes the ``questions``
of a topic, the status and the log say so.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import threading
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Text, Tuple

from faq import settings
from faq.content import Content, ContentError, load_content

logger = logging.getLogger(__name__)

#: ``(mtime_ns, size, inode)`` of each watched file; None for a missing file.
Signature = Tuple[Optional[Tuple[int, int, int]], ...]


def _stat(path: Path) -> Optional[Tuple[int, int, int]]:
    """Returns what identifies the current bytes of a file, or None."""
    try:
        info = os.stat(path)
    except OSError:
        return None
    return (info.st_mtime_ns, info.st_size, info.st_ino)


def _now() -> Text:
    """The current UTC time as ISO 8601 with seconds."""
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def retrain_notes(before: Content, after: Content) -> List[Text]:
    """Says which changes between two contents need ``make train``.

    Args:
        before: The content the running model was started with.
        after: The new content.

    Returns:
        One Dutch line per topic whose questions changed (empty: no retrain).
    """
    old, new = before.nlu_fingerprint(), after.nlu_fingerprint()
    notes = []
    for topic_id in new:
        if old.get(topic_id) != new[topic_id]:
            notes.append(
                f"De vragen (questions) van topic '{topic_id}' zijn gewijzigd: de "
                "herkenning leert ze pas na `make train` (zet ze ook in data/nlu/). "
                "Antwoorden en bronnen zijn al live."
            )
    return notes


class LiveContent:
    """The last good content of one file, reloaded when the file changes."""

    def __init__(
        self,
        path: Optional[Path] = None,
        article_path: Optional[Path] = None,
        interval: Optional[float] = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Prepares the holder; nothing is read until :meth:`load`.

        Args:
            path: The content file; defaults to ``FAQ_CONTENT_FILE``.
            article_path: The article; defaults to ``FAQ_ARTICLE_FILE``.
            interval: Minimum seconds between two looks at the files from
                :attr:`current`; defaults to ``FAQ_CONTENT_POLL_SECONDS``
                (0: never look again after the first load).
            clock: Monotonic time source (tests pass their own).
        """
        self.path = Path(path or settings.CONTENT_FILE)
        self.article_path = Path(article_path or settings.ARTICLE_FILE)
        self.interval = settings.CONTENT_POLL_SECONDS if interval is None else interval
        self._clock = clock
        self._lock = threading.RLock()
        self._content: Optional[Content] = None
        self._baseline: Optional[Content] = None
        self._signature: Signature = ()
        self._checked = 0.0
        self._loaded_at: Optional[Text] = None
        self._checked_at: Optional[Text] = None
        self._error: Optional[ContentError] = None
        self._error_since: Optional[Text] = None
        self._reloads = 0
        self._retrain: List[Text] = []

    def _signature_now(self) -> Signature:
        return (_stat(self.path), _stat(self.article_path))

    def load(self) -> Content:
        """Loads and validates the files for the first time.

        Raises:
            ContentError: When they are broken; nothing is in service then.
        """
        with self._lock:
            signature = self._signature_now()
            content = load_content(self.path, self.article_path)
            self._content = self._baseline = content
            self._signature = signature
            self._checked = self._clock()
            self._loaded_at = self._checked_at = _now()
            return content

    @property
    def current(self) -> Content:
        """The content in service; looks at the files at most every ``interval``.

        Raises:
            ContentError: Only when nothing valid was ever loaded.
        """
        if self._content is None:
            return self.load()
        if self.interval > 0 and self._clock() - self._checked >= self.interval:
            self.refresh()
        assert self._content is not None
        return self._content

    def refresh(self) -> bool:
        """Reloads the files when they changed; never raises.

        Returns:
            Whether new content went into service.
        """
        with self._lock:
            if self._content is None:
                try:
                    self.load()
                    return True
                except ContentError as error:
                    self._fail(error)
                    return False
            self._checked = self._clock()
            self._checked_at = _now()
            signature = self._signature_now()
            if signature == self._signature:
                return False
            self._signature = signature
            try:
                content = load_content(self.path, self.article_path)
            except ContentError as error:
                self._fail(error)
                return False
            if content.version == self._content.version:
                self._clear_error()
                return False
            return self._switch(content)

    def _switch(self, content: Content) -> bool:
        old = self._content
        assert old is not None and self._baseline is not None
        changed = [t.id for t in content.topics.values() if old.topics[t.id] != t]
        self._content = content
        self._loaded_at = _now()
        self._reloads += 1
        self._clear_error()
        self._retrain = retrain_notes(self._baseline, content)
        logger.info(
            "contentbestand opnieuw geladen: versie %s, gewijzigde topics: %s",
            content.version,
            ", ".join(changed) or "geen (alleen bronnen of metadata)",
        )
        for note in self._retrain:
            logger.warning("%s", note)
        return True

    def _fail(self, error: ContentError) -> None:
        if self._error is None or str(self._error) != str(error):
            logger.error(
                "contentbestand NIET geladen, de vorige versie blijft in gebruik: %s",
                error,
            )
            self._error_since = _now()
        self._error = error

    def _clear_error(self) -> None:
        if self._error is not None:
            logger.info("contentbestand weer in orde")
        self._error = None
        self._error_since = None

    def status(self) -> Dict[Text, Any]:
        """A JSON-safe summary for monitoring and editors.

        It names the file without its folder, the version (a hash of the bytes)
        in service, when it was loaded and checked, the last validation error
        (file name, topic, field, reason) and whether ``make train`` is needed.
        Content text is public (it is the article's); nothing else is shown.
        """
        with self._lock:
            content = self._content
            error = self._error
            return {
                "status": "error" if error or content is None else "ok",
                "file": self.path.name,
                "version": content.version if content else None,
                "loaded_at": self._loaded_at,
                "checked_at": self._checked_at,
                "reloads": self._reloads,
                "error": (
                    {
                        "message": error.public_message(),
                        "topic": error.topic,
                        "field": error.field or None,
                        "since": self._error_since,
                        "serving": "vorige geldige versie" if content else "niets",
                    }
                    if error
                    else None
                ),
                "retrain_needed": bool(self._retrain),
                "retrain_notes": list(self._retrain),
            }


_LIVE: Optional[LiveContent] = None
_LIVE_LOCK = threading.Lock()


def live_content() -> LiveContent:
    """Returns this process's holder of the configured content file."""
    global _LIVE
    with _LIVE_LOCK:
        if _LIVE is None:
            _LIVE = LiveContent()
        return _LIVE

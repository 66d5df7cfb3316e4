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

A changed file is also held to the coverage threshold of
``tests/test_grounding.py`` before it goes live: every answer sentence must be
covered by its basis for at least 80 %, so an edit that keeps a valid quote
and adds a claim beside it is refused like a broken one. That check needs the
Dutch spaCy pipeline (about 600 MB and 4-5 s to load), so it runs in a child
process (``python -m faq.live --check``), started from a thread: no request
waits for it and the servers never hold spaCy. Until it passes, the previous
content stays in service.

Only answers, sources and their basis go live. The NLU learns from
``data/nlu`` and needs ``make train``: when a reload changes the ``questions``
of a topic, the status and the log say so.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import subprocess
import sys
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


def check_coverage(path: Path, article_path: Path) -> Dict[Text, Any]:
    """Loads a content file and measures every sentence against its basis.

    Runs in the child process of :func:`coverage_in_child`.

    Returns:
        ``version`` of the file checked, and ``topic``, ``field`` and
        ``problem`` of the first sentence below the threshold (or None).
    """
    from faq import grounding

    content = load_content(path, article_path)
    for topic in content.topics.values():
        for _, field, sentence in topic.sentences():
            measured = grounding.coverage(sentence.text, sentence.basis)
            if measured.weak():
                return {
                    "version": content.version,
                    "topic": topic.id,
                    "field": f"{field}.text",
                    "problem": (
                        f"zin wordt maar voor {measured.share:.0%} gedekt door "
                        f"zijn basis (drempel {grounding.COVERAGE_THRESHOLD:.0%}); "
                        f"niet gedekt: {', '.join(measured.uncovered)}"
                    ),
                }
    return {"version": content.version, "topic": None}


def coverage_in_child(
    path: Path, article_path: Path, timeout: float
) -> Tuple[Optional[Text], Optional[ContentError]]:
    """Runs :func:`check_coverage` in a child process.

    Returns:
        The version the child checked (None if it failed) and the error that
        refuses the file (None when every sentence is covered).
    """
    command = [
        sys.executable,
        "-m",
        "faq.live",
        "--check",
        str(path),
        str(article_path),
    ]
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=timeout, check=False
        )
        result = json.loads(done.stdout.strip().splitlines()[-1])
    except (subprocess.TimeoutExpired, ValueError, IndexError, OSError):
        logger.exception("dekkingscontrole van het contentbestand mislukt")
        return None, ContentError(path, "dekkingscontrole mislukt (zie log)")
    if result.get("error"):
        return None, ContentError(path, str(result["error"]))
    if result.get("topic"):
        error = ContentError(
            path, str(result["problem"]), str(result["topic"]), str(result["field"])
        )
        return str(result["version"]), error
    return str(result["version"]), None


class LiveContent:
    """The last good content of one file, reloaded when the file changes."""

    def __init__(
        self,
        path: Optional[Path] = None,
        article_path: Optional[Path] = None,
        interval: Optional[float] = None,
        clock: Callable[[], float] = time.monotonic,
        check_timeout: Optional[float] = None,
    ) -> None:
        """Prepares the holder; nothing is read until :meth:`load`.

        Args:
            path: The content file; defaults to ``FAQ_CONTENT_FILE``.
            article_path: The article; defaults to ``FAQ_ARTICLE_FILE``.
            interval: Minimum seconds between two looks at the files from
                :attr:`current`; defaults to ``FAQ_CONTENT_POLL_SECONDS``
                (0: never look again after the first load).
            clock: Monotonic time source (tests pass their own).
            check_timeout: Seconds the coverage check of a changed file may
                take; defaults to ``FAQ_CONTENT_CHECK_TIMEOUT`` (0: no check).
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
        self.check_timeout = (
            settings.CONTENT_CHECK_TIMEOUT if check_timeout is None else check_timeout
        )
        #: The version whose coverage check runs now, and its thread.
        self._checking: Optional[Text] = None
        self._check_thread: Optional[threading.Thread] = None

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
                self._checking = None
                return False
            if self.check_timeout <= 0:
                return self._switch(content)
            if self._checking != content.version:
                self._checking = content.version
                self._check_thread = threading.Thread(
                    target=self._check_then_switch,
                    args=(content,),
                    name="contentcontrole",
                    daemon=True,
                )
                self._check_thread.start()
            return False

    def _check_then_switch(self, content: Content) -> None:
        """Puts ``content`` in service once its coverage check passed."""
        version, error = coverage_in_child(
            self.path, self.article_path, self.check_timeout
        )
        with self._lock:
            if self._checking != content.version:
                return  # a newer edit came in meanwhile; its own check decides
            self._checking = None
            if error is not None:
                self._fail(error)
            elif version == content.version:
                self._switch(content)
            # else the file changed under the check: the next look sees it

    def settle(self, timeout: float = 120.0) -> None:
        """Waits for a running coverage check (for tests and tools)."""
        thread = self._check_thread
        if thread is not None:
            thread.join(timeout)

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
                "checking": self._checking,
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


def main(argv: Optional[List[Text]] = None) -> int:
    """``python -m faq.live --check CONTENT ARTICLE``: prints one JSON line.

    Exit code 0 when every sentence is covered, 1 when one is not, 2 when the
    file does not load.
    """
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 3 or args[0] != "--check":
        usage = "gebruik: python -m faq.live --check INHOUD ARTIKEL"
        print(json.dumps({"error": usage}))
        return 2
    try:
        result = check_coverage(Path(args[1]), Path(args[2]))
    except ContentError as error:
        print(json.dumps({"error": str(error)}, ensure_ascii=False))
        return 2
    print(json.dumps(result, ensure_ascii=False))
    return 1 if result["topic"] else 0


if __name__ == "__main__":
    sys.exit(main())

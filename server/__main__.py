"""Starts the Rasa server the way this project runs it: patched and locked down.

``python -m server run --model … --credentials … --endpoints …`` is Rasa's own
``rasa run`` with three things done first:

1. :func:`server.rasa_patches.apply` installs the project's Rasa patches
   (only on the Rasa version they were tested against).
2. The Rasa HTTP API stays closed; ``--enable-api`` gets ``--jwt-secret`` added,
   so it is protected by a JWT in the ``Authorization`` header: the secret
   comes from ``RASA_JWT_SECRET`` (at least 32 characters) and is handed to
   Rasa inside this process, so it never shows in the process list. Rasa's
   ``--auth-token`` is refused, because it travels in the query string.
3. Request bodies are capped (``FAQ_MAX_BODY_BYTES``) before Sanic reads them.
"""

from __future__ import annotations

import os
import sys
from typing import List, Optional, Sequence, Text

from faq.privacy import install_log_masking
from server import rasa_patches, settings

MIN_JWT_SECRET_CHARS = 32


#: The flag that opens Rasa's HTTP API, and the one this module adds to it.
ENABLE_API, JWT_SECRET = "--enable-api", "--jwt-secret"


class StartError(SystemExit):
    """Refuses to start, with a Dutch message and exit code 2."""

    def __init__(self, message: Text) -> None:
        print(f"FOUT: {message}", file=sys.stderr)
        super().__init__(2)


def locked_down_args(args: Sequence[Text], jwt_secret: Optional[Text]) -> List[Text]:
    """Returns Rasa CLI arguments with the API protected, or raises StartError.

    Args:
        args: The command-line arguments after the program name.
        jwt_secret: The value of ``RASA_JWT_SECRET`` (may be None).

    Returns:
        The arguments for Rasa's CLI.
    """
    result = list(args)
    if any(a == "--auth-token" or a.startswith("--auth-token=") for a in result):
        raise StartError(
            "--auth-token zet het token in de querystring; gebruik RASA_JWT_SECRET "
            "(een JWT in de Authorization-header)."
        )
    if any(a == "--jwt-secret" or a.startswith("--jwt-secret=") for a in result):
        raise StartError(
            "geef het JWT-geheim via RASA_JWT_SECRET, niet op de opdrachtregel "
            "(daar is het zichtbaar in de proceslijst)."
        )
    if ENABLE_API in result:
        if not jwt_secret or len(jwt_secret) < MIN_JWT_SECRET_CHARS:
            raise StartError(
                f"{ENABLE_API} opent de Rasa-API; zet RASA_JWT_SECRET (minstens "
                f"{MIN_JWT_SECRET_CHARS} tekens) om hem met een JWT te beveiligen."
            )
        result += [JWT_SECRET, jwt_secret, "--jwt-method", "HS256"]
    return result


def main() -> None:
    """Applies the patches and the lockdown, then runs Rasa's CLI."""
    sys.argv[1:] = locked_down_args(sys.argv[1:], os.environ.get("RASA_JWT_SECRET"))
    os.environ.setdefault("SANIC_REQUEST_MAX_SIZE", str(settings.MAX_BODY_BYTES))
    install_log_masking()
    rasa_patches.apply()
    from rasa.__main__ import main as rasa_main

    sys.argv[0] = "rasa"
    rasa_main()


if __name__ == "__main__":
    main()

"""Shared core of the assistant, imported by both servers and the tools.

- :mod:`faq.settings`: the environment-variable helper and shared settings.
- :mod:`faq.content`: the typed content model and its validating loader.
- :mod:`faq.reply`: the ``custom`` payload contract every reply carries.
- :mod:`faq.lookup`: NLU ranking to top-k topics with answer and sources.

Nothing here imports ``actions`` or ``server``.
"""

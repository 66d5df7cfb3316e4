"""Everything loaded into the Rasa server: channels, stores, policies, patches.

Importing this package changes nothing in Rasa. The Rasa server is started
with ``python -m server run …`` (see ``scripts/run.sh``), which applies the
patches of :mod:`server.rasa_patches` explicitly, after a check of the Rasa
version, and then hands over to Rasa's own command line.

Nothing here imports the action server (``actions``); both stand on the
shared core (``faq``).
"""

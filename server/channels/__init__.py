"""Input channels of the Rasa server.

- :mod:`.rest`: the REST webhook (server-issued conversation ids).
- :mod:`.socketio`: the website widget.
- :mod:`.whatsapp_twilio`, :mod:`.whatsapp_meta`: WhatsApp through Twilio or
  Meta's Cloud API, on the shared :mod:`.whatsapp_common`.
- :mod:`.lookup`: the customer-service lookup (a route, not a chat channel).

They share :mod:`.guard`: input checks, one message per bot reply with its
``custom`` topic payload, and a Dutch apology when the bot stays silent or is
too slow (for example when the action server is down).
"""

"""Input channels of the assistant (REST, socket.io, WhatsApp).

They share :mod:`channels.guard`: input checks, one message per bot reply with
its ``custom`` topic payload, and a Dutch apology when the bot stays silent or
is too slow (for example when the action server is down).
"""

from channels import performance

performance.apply()

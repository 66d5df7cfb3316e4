"""Dialogue policies of the assistant (Rasa 3.6 graph components)."""

"""Tools for the people who run the assistant: customer service and editors.

- :mod:`staff.answer_book`: every answer as CSV (Excel) and printable HTML.
- :mod:`staff.lookup`: ask the running Rasa server's lookup route from a terminal.
"""

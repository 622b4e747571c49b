"""sim: classic versus joint visitation for Danish adult social support under one fixed budget."""

__version__ = "0.1.0"

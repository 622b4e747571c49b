"""The model core. Its hot modules run compiled when a current build exists (``native``)."""

from sim.model import native as _native

_native.install()

"""dispatchctl: Dispatch/Tekton service accounts and credentials, declared in git."""

__version__ = "0.1.0"

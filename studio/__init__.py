"""Story Studio: a desktop writing studio for novels and interactive stories."""

__version__ = "0.1.0"

"""Where the project lives on disk: the repository root, from which the bundled data
(``data/``), the shipped cache (``models_cache/``) and the default runs store and var/
folders are found."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

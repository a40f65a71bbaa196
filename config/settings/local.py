"""The embedded default: SQLite, chDB, in-process worker. `make demo` runs this."""

from config.settings.base import *
from config.settings.base import VAR_DIR
from config.settings.env import env_bool

DEBUG = env_bool("DEBUG", True)

# The embedded stores live here; a fresh clone has no var/ yet.
VAR_DIR.mkdir(parents=True, exist_ok=True)

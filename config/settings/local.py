"""The embedded default: SQLite, chDB, in-process worker. `make demo` runs this."""

from config.settings.base import *
from config.settings.env import env_bool

DEBUG = env_bool("DEBUG", True)

"""Reading frames from videos, image folders and globs (and, in other modules, writing them)."""

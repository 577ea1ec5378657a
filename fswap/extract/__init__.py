"""Geometry shared by extraction components and the extract stage: alignment template, Umeyama, masks."""

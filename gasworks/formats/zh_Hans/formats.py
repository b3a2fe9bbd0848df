"""Dates in Chinese: the same ISO order as in English (2026-11-27, 2026-11-27 14:05)."""

from gasworks.formats.en.formats import *  # noqa: F403

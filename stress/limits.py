"""Bounds of a sweep that the command line's options state too: here, in a module that
imports nothing, so that ``placement`` (whose ``stress`` command declares them) starts
without loading the stress package."""

#: bounds that keep a sweep within what a cluster can do in an evening
MAX_DRAWS = 100_000
#: the most local workers a sweep starts (bounded: each is a process with its own engine)
MAX_LOCAL_WORKERS = 64

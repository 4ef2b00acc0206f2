"""Local stand-ins of the services the bot talks to, written from their public documentation.

They ship with the package because `supportbot demo` runs the real app against them; the
test suite and the benchmarks use the same ones.
"""

"""Fuzz targets for every parser of untrusted input, shared by hypothesis and atheris.

``targets.py`` holds one function per parser, each taking plain values and asserting the
parser's contract (an exception is a finding); ``inputs.py`` decodes raw bytes into each
target's arguments. ``tests/test_fuzz_parsers.py`` drives them with hypothesis on every
test run; ``atheris_main.py`` drives the same targets with the same decoders under atheris,
coverage-guided, for as long as one cares to run it (see the README, Development).
"""

"""GPC conformance checks against an app in process or a live site, and their pytest plugin.

The parts, each importing only those listed before it: :mod:`.report` (results and the
report), :mod:`.transports` (how a request reaches an ASGI app, a WSGI app or a URL),
:mod:`.visitor`, :mod:`.context` (what a check is given and what a page carries),
:mod:`.checks` (the checks and ``CHECKS``), :mod:`.crawl`, :mod:`.runner` (``run_checks``).

Nothing is re-exported here on purpose: pytest imports this package for the plugin
(:mod:`.pytest_plugin`) in every test run, and the checks load the tracker catalog, so they
are imported only when a test or the ``check`` command asks for them.
"""

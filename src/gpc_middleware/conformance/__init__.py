"""GPC conformance checks against an app in process or a live site, and their pytest plugin.

The parts, each importing only those listed before it: :mod:`.report` (results and the
report), :mod:`.transports` (how a request reaches an ASGI app, a WSGI app or a URL),
:mod:`.visitor`, :mod:`.context` (what a check is given and what a page carries),
:mod:`.checks` (the checks and ``CHECKS``), :mod:`.crawl`, :mod:`.runner` (``run_checks``).

The browser audit (``check --browser``) beside them: :mod:`.browser_evidence` (what a visit
recorded), :mod:`.browser_scripts` (the JavaScript run in the pages), :mod:`.browser_log`
(one context's events), :mod:`.browser_reject` ("reject all"), :mod:`.browser_audit` (the
visits), :mod:`.browser_checks` (the named checks and ``BROWSER_CHECKS``),
:mod:`.html_report`, :mod:`.loopback` (an app served for the browser) and
:mod:`.browser_runner` (``run_browser_audit``). Only the code that launches or drives a
browser imports playwright, and only when it runs.

Nothing is re-exported here on purpose: pytest imports this package for the plugin
(:mod:`.pytest_plugin`) in every test run, and the checks load the tracker catalog, so they
are imported only when a test or the ``check`` command asks for them.
"""

"""The cookie-settings widget: texts in several languages, the pages, the script and styles.

Built on :mod:`gpc_middleware.core`; the routes that serve it are in
:mod:`gpc_middleware.engine.widget_routes`.
"""

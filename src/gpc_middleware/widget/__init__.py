"""The cookie-settings widget: texts in several languages, the pages, the script and styles.

Built on :mod:`gpc_middleware.core`; the routes that serve it are in
:mod:`gpc_middleware.engine.widget_routes`.

Sans-IO: every function takes plain values and returns bytes or plain values; routing,
CSRF token issuing and checking, cookies and the consent endpoint itself belong to the
middleware. What this package provides under the policy's ``endpoint_path`` (``E``):

====================  =====================================================================
``E/settings``        GET: :func:`.pages.render_settings_page`.
                      POST: :func:`.settings_form.parse_settings_form`.
``E/do-not-sell``     GET: :func:`.pages.render_do_not_sell_page`.
                      POST: :func:`.settings_form.parse_settings_form`.
``E/widget.js``       :func:`.assets.widget_assets` ``["widget.js"]``, versioned by ``?v=<digest>``.
``E/widget.css``      :func:`.assets.widget_assets` ``["widget.css"]``, versioned likewise.
``E/widget.json``     :func:`.config.render_widget_config`: texts in the negotiated language
                      and the visitor's state.
====================  =====================================================================

The modules, from the bottom up: :mod:`.texts` (the shipped texts: ``catalogs/*.json``, data only),
:mod:`.i18n` (catalogs and language negotiation), :mod:`.state` (the consent the widget
shows), :mod:`.escaping` and :mod:`.validation` (what may reach a page),
:mod:`.assets` (script, stylesheet, the script tag), :mod:`.config` (``widget.json``),
:mod:`.settings_form` (the posted form) and :mod:`.pages` (the standalone pages).
"""

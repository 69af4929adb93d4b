"""What reaches the browser: the tracker catalog, the streaming HTML rewriter (tokenizer,
decisions, actions), the ``Set-Cookie`` filter and content codings.

Built on :mod:`gpc_middleware.core`; knows nothing of ASGI, WSGI or the policy object.
"""

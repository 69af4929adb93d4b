"""The consent log: records of consent events, a bounded queue and background writer, and the
SQLite and SQLAlchemy stores.

Built on :mod:`gpc_middleware.core`; SQLAlchemy is imported only when a database URL asks for it.
"""

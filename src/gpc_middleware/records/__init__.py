"""The consent log: records of consent events, a bounded queue and background writer, and the
SQLite and SQLAlchemy stores.

Built on :mod:`gpc_middleware.core`; SQLAlchemy is imported only when a database URL asks for it.

The parts, each importing only those listed before it: :mod:`.record` (``ConsentRecord``,
``DEFAULT_RETENTION``, and the checks and row form every store shares), :mod:`.losses`
(``LossRecord``, and ``LossLedger``: the count of events that became no record),
:mod:`.summary` (``LogSummary``: what a log holds), :mod:`.deadline` (a client-side deadline
on database calls), :mod:`.sqlite_log` (``SqliteConsentLog``), :mod:`.sqlalchemy_tables` and
:mod:`.sqlalchemy_log` (``SQLAlchemyConsentLog``), :mod:`.log` (the ``ConsentLog`` and
``ConsentStore`` protocols, ``NullConsentLog`` and ``open_consent_log``, which imports
:mod:`.sqlalchemy_log` only for a URL that needs it), :mod:`.retry` (the writer's retries),
:mod:`.writer` (the writer thread) and :mod:`.recorder` (``ConsentRecorder`` and
``RecorderStats``); the last two name ``ConsentLog`` in annotations only.

Nothing is re-exported here on purpose: importing any part runs this file first, and the
policy imports the records only when a consent log is configured, so :mod:`sqlite3` loads only
then; importing :mod:`.record` (as :mod:`.sqlalchemy_log` does) loads no store and no recorder.
"""

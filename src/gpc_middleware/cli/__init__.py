"""The ``gpc-middleware`` sub-commands (``demo``, ``scan``, ``check``, ``records``), one module each;
:mod:`gpc_middleware.__main__` assembles them."""

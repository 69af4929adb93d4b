"""The middleware's decisions for one site: the policy, consent precedence, the consent and
widget endpoints, and the per-request engine the two adapters drive.

Puts :mod:`~gpc_middleware.core`, :mod:`~gpc_middleware.enforcement`,
:mod:`~gpc_middleware.widget` and :mod:`~gpc_middleware.records` together; still sans-IO.
"""

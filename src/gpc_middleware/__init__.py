"""gpc_middleware."""

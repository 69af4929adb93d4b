"""GPC conformance checks against an app in process or a live site, and their pytest plugin."""

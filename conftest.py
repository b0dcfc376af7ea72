"""Hubtab's tests load their fixtures and hooks from the `hubtab.testing` plugin."""

pytest_plugins = ["hubtab.testing.plugin"]

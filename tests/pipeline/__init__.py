"""Pipeline tests through Meltano into real warehouses.

A package, so that its conftest is `pipeline.conftest` and never replaces the `conftest` module
that the tests one level up import from.
"""

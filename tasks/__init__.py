"""Pipeline stages as plain functions of paths and params (engine-free, testable directly).

Each module also exposes its stage as a Prefect task (`*_task`); flows/ composes them.
"""

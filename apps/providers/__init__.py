"""Platform adapters: plain Python, no Django models, no other app imported.

Each platform is one module with one `Provider` subclass registered in `registry.py`; the
rest of the project asks the registry and never branches on a platform's name.
"""

"""The wire: everything client and server agree on, declared once.

``commands`` (client → server), ``messages`` (server → client JSON), ``frame`` (the binary
frame layout table and its encoder), ``catalogue`` (losses, activations, optimizers, limits:
what ``/api/options`` serves). The page reads these through generated files
(``frontend/wire.gen.js``) or from the server, never from a copy of its own.
"""

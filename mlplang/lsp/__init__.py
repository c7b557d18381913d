"""`mlp lsp`: a language server for `.mlp` files (pygls, imported only by `mlp lsp`).

`positions` converts our spans to LSP positions, `analysis` answers questions
about one document (no pygls there, so it is unit-testable), `server` wires
them to the protocol.
"""

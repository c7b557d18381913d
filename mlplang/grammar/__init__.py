"""The MLP grammar (mlp.lark) and the LALR tables generated from it (lalr_tables.py)."""

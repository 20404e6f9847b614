"""The FEEL built-in library, one module per family; `functions.BUILTINS` is the registry."""

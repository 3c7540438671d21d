"""One reader per file format. Each exposes `read(path, settings, password) -> Document`.

`safety` checks a file before any library opens it (size, magic bytes, zip bombs); `common` holds
the block builder and text cleaning every reader shares; `budget` refuses a file whose Document
would not fit the per-file memory budget; `rows` stores table-row cells compactly.
"""

"""One module per command: each has HELP, add_arguments(parser) and run(args) -> exit code.

Commands are thin: parse flags, call one function of a stage (pipeline/, export/, targets/,
persistence/, ...), print the result. The menu (cli/menu.py) calls the same functions.
"""

from src.cli.commands import (
                              analyze_errors,
                              batches,
                              export,
                              generate,
                              ingest,
                              list_datasets,
                              models,
                              push,
                              report,
                              restore,
                              stats,
                              tokens,
                              train,
                              validate,
)

COMMANDS = {
    "generate": generate,
    "ingest": ingest,
    "validate": validate,
    "tokens": tokens,
    "stats": stats,
    "export": export,
    "analyze-errors": analyze_errors,
    "list": list_datasets,
    "models": models,
    "restore": restore,
    "push": push,
    "report": report,
    "train": train,
    "batches": batches,
}

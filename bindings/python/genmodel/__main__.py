"""``python -m genmodel ARGS``: the genmodel command-line tool, run as if
it had been typed (``python -m genmodel vae train --help``).

The tool is looked for as GENMODEL_TOOL names it, then where `meson
install` put it with this package, then in the bin directory of the prefix
the library was loaded from, then on PATH; the first that exists replaces
this process. Without one, a message says where it was looked for and the
exit status is 127, as a shell's for a missing command.
"""
from __future__ import annotations

import os
import shutil
import sys
from typing import NoReturn, Optional

from ._lib import installed
from .common import library_path

#: The tool's file name.
TOOL = "genmodel"


def _beside_library() -> list[str]:
    """PREFIX/bin/genmodel for a library in PREFIX/lib or PREFIX/lib/<triplet>
    (only for a library loaded by its path, not by its soname)."""
    lib = library_path()
    if os.sep not in lib:
        return []
    libdir = os.path.dirname(os.path.realpath(lib))
    return [os.path.join(prefix, "bin", TOOL) for prefix in (os.path.dirname(libdir),
                                                              os.path.dirname(os.path.dirname(libdir)))]


def candidates() -> list[str]:
    """Where the tool is looked for, in order (see the module's docstring)."""
    override = os.environ.get("GENMODEL_TOOL")
    if override:
        return [override]  # an explicit choice, as GENMODEL_LIBRARY is
    found = shutil.which(TOOL)
    return [*installed("TOOL"), *_beside_library(), *([found] if found else [])]


def find_tool() -> Optional[str]:
    """The genmodel tool to run: the first candidate that is an executable
    file, or None."""
    return next((c for c in candidates() if os.path.isfile(c) and os.access(c, os.X_OK)), None)


def main(argv: Optional[list[str]] = None) -> NoReturn:
    """Replace this process with the tool, given argv (sys.argv[1:] by
    default); exit with status 127 when there is no tool."""
    args = sys.argv[1:] if argv is None else argv
    tool = find_tool()
    if tool is None:
        looked = candidates() or [f"{TOOL} on PATH"]
        sys.stderr.write(f"python -m genmodel: the {TOOL} tool was not found (looked for: {', '.join(looked)}); "
                         "install libgenmodel with its tool (meson install), or set GENMODEL_TOOL to its path\n")
        sys.exit(127)
    sys.stdout.flush()
    os.execv(tool, [tool, *args])


if __name__ == "__main__":
    main()

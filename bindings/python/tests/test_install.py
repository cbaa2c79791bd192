"""The package installs offline both ways the documentation gives, and the
installed copy imports: `meson install` (beside the library, which it then
loads without GENMODEL_LIBRARY), and pip with Debian's setuptools into a
virtual environment or a --target directory."""
import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1]
SOURCES = sorted(p.name for p in (PACKAGE / "genmodel").iterdir() if p.suffix in (".py", ".typed"))

# what an installed copy reports: where it is, and what it loaded
REPORT = ("import genmodel, genmodel.__main__ as m; print(genmodel.__file__); print(genmodel.library_path()); "
          "print(genmodel.__version__, genmodel.backend_name()); print(m.find_tool())")


def run(command, **env):
    """Run a command in an environment without the source tree's package or
    the build's library: only what was installed is found."""
    env = {**os.environ, "PYTHONPATH": None, "GENMODEL_LIBRARY": None, "GENMODEL_TOOL": None, **env}
    result = subprocess.run(list(map(str, command)), capture_output=True, text=True, cwd="/",
                            env={k: v for k, v in env.items() if v is not None})
    assert result.returncode == 0, f"{' '.join(map(str, command))}:\n{result.stdout}{result.stderr}"
    return result.stdout


def source_copy(tmp_path):
    """The package's sources, copied: pip builds in the tree and would leave
    build/ and *.egg-info behind."""
    source = tmp_path / "src"
    shutil.copytree(PACKAGE, source, ignore=shutil.ignore_patterns("tests", "examples", "__pycache__", "build",
                                                                   "*.egg-info", ".mypy_cache"))
    return source


def need_pip():
    # setuptools before 70 builds wheels with the wheel package
    if not all(importlib.util.find_spec(name) for name in ("pip", "setuptools", "wheel")):
        pytest.skip("pip, setuptools or wheel is not installed (python3-pip, python3-setuptools, python3-wheel)")


def test_pip_install_into_a_target_directory(tmp_path):
    need_pip()
    target = tmp_path / "site"
    run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-build-isolation", "--no-index", "--quiet",
         "--target", target, source_copy(tmp_path)])
    assert sorted(p.name for p in (target / "genmodel").iterdir() if p.name != "__pycache__") == SOURCES
    location, *_ = run([sys.executable, "-c", REPORT], PYTHONPATH=str(target),
                       GENMODEL_LIBRARY=os.environ.get("GENMODEL_LIBRARY")).splitlines()
    assert Path(location).is_relative_to(target)


def test_pip_install_into_a_virtual_environment(tmp_path):
    need_pip()
    venv = tmp_path / "venv"
    # the system's site-packages give the venv pip, setuptools, wheel and numpy
    run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", venv])
    python = venv / "bin" / "python"
    run([python, "-m", "pip", "install", "--no-build-isolation", "--no-index", "--quiet", source_copy(tmp_path)])
    location, *_ = run([python, "-c", REPORT], GENMODEL_LIBRARY=os.environ.get("GENMODEL_LIBRARY")).splitlines()
    assert Path(location).is_relative_to(venv)


def test_meson_install_points_the_package_at_the_installed_library(tmp_path):
    build = os.environ.get("GENMODEL_BUILD_ROOT")
    if not build:
        pytest.skip("GENMODEL_BUILD_ROOT is not set (meson test sets it)")
    root = tmp_path / "root"
    run(["meson", "install", "-C", build, "--no-rebuild", "--quiet", "--destdir", root])
    (init,) = root.rglob("genmodel/__init__.py")
    package = init.parent
    assert sorted(p.name for p in package.iterdir()) == sorted(SOURCES + ["_paths.py"])
    (library,) = root.rglob("libgenmodel.so.0")
    tools = list(root.rglob("bin/genmodel"))
    # no GENMODEL_LIBRARY, nor LD_LIBRARY_PATH: the generated _paths.py
    # leads to the library installed with the package, here under DESTDIR
    location, loaded, versions, tool = run([sys.executable, "-c", REPORT], PYTHONPATH=str(package.parent),
                                           LD_LIBRARY_PATH=None).splitlines()
    assert (Path(location), Path(loaded)) == (init, library)
    assert tool == (str(tools[0]) if tools else "None")
    if tools:  # python -m genmodel runs the installed tool (its library found by LD_LIBRARY_PATH)
        out = run([sys.executable, "-m", "genmodel", "--version"], PYTHONPATH=str(package.parent),
                  LD_LIBRARY_PATH=str(library.parent))
        assert out.startswith(f"genmodel (libgenmodel {versions.split()[0]}")

"""The package's own surface: what it says about itself, `python -m
genmodel`, a docstring and type hints on every public name, and mypy."""
import inspect
import os
import subprocess
import sys
from pathlib import Path

import pytest

import genmodel
from helpers import python_env, under_asan

PACKAGE = Path(genmodel.__file__).resolve().parent
CLASSES = [getattr(genmodel, name) for name in genmodel.__all__ if inspect.isclass(getattr(genmodel, name))]


def test_version_library_and_backend():
    assert genmodel.__version__ == genmodel.version()
    assert os.path.basename(genmodel.library_path()).startswith("libgenmodel.so")
    assert genmodel.backend_name() in ("openblas", "onednn")


def python_m_genmodel(*args, **env):
    return subprocess.run([sys.executable, "-m", "genmodel", *args], capture_output=True, text=True,
                          env=python_env(**env))


def test_python_m_genmodel_runs_the_tool():
    if not os.environ.get("GENMODEL_TOOL"):
        pytest.skip("GENMODEL_TOOL is not set")
    result = python_m_genmodel("--version")
    assert result.returncode == 0, result.stderr
    # ", MPI" when the tool was built for data-parallel training
    assert result.stdout in (f"genmodel (libgenmodel {genmodel.version()}, {genmodel.backend_name()} backend{mpi})\n"
                             for mpi in ("", ", MPI"))
    assert python_m_genmodel("no-such-command").returncode == 2  # the tool's own status comes back


def test_python_m_genmodel_without_the_tool_says_so():
    result = python_m_genmodel("--version", GENMODEL_TOOL="/nonexistent/genmodel")
    assert result.returncode == 127
    assert "the genmodel tool was not found" in result.stderr and "/nonexistent/genmodel" in result.stderr


def public_members(cls):
    """(name, object) of a class's public attributes defined in genmodel."""
    for name, member in inspect.getmembers(cls):
        owner = next((c for c in cls.__mro__ if name in vars(c)), None)
        if not name.startswith("_") and owner is not None and owner.__module__.startswith("genmodel"):
            yield name, vars(owner)[name]


def test_every_public_name_has_a_docstring():
    missing = [name for name in genmodel.__all__
               if (inspect.isclass(getattr(genmodel, name)) or callable(getattr(genmodel, name)))
               and not inspect.getdoc(getattr(genmodel, name))]
    for cls in CLASSES:
        missing += [f"{cls.__name__}.{name}" for name, member in public_members(cls)
                    if (callable(member) or isinstance(member, (property, classmethod, staticmethod)))
                    and not inspect.getdoc(member)]
    assert not missing, "no docstring: " + ", ".join(missing)


def annotated(function):
    """The parameters and return of a function that have no annotation."""
    signature = inspect.signature(function)
    lacking = [p for p in signature.parameters if p not in ("self", "cls")
               and signature.parameters[p].annotation is inspect.Parameter.empty]
    return lacking + (["return"] if signature.return_annotation is inspect.Signature.empty else [])


def test_every_public_callable_has_type_hints():
    functions = [(name, getattr(genmodel, name)) for name in genmodel.__all__ if inspect.isfunction(getattr(genmodel, name))]
    for cls in CLASSES:
        if issubclass(cls, BaseException) or issubclass(cls, tuple):
            continue  # the exceptions and namedtuples take what their bases take
        functions.append((cls.__name__, cls.__init__))
        for name, member in public_members(cls):
            member = member.fget if isinstance(member, property) else getattr(member, "__func__", member)
            if inspect.isfunction(member):
                functions.append((f"{cls.__name__}.{name}", member))
    missing = [f"{name}: {', '.join(lacking)}" for name, f in functions if (lacking := annotated(f))]
    assert not missing, "no type hints: " + "; ".join(missing)


def test_the_package_is_marked_typed():
    assert (PACKAGE / "py.typed").is_file()


def test_mypy_passes_on_the_package_and_examples(tmp_path):
    if subprocess.run([sys.executable, "-c", "import mypy"], capture_output=True).returncode:
        pytest.skip("mypy is not installed (Debian: python3-mypy)")
    if under_asan():
        pytest.skip("mypy is no part of the library: not run under the sanitizers")
    env = {k: v for k, v in os.environ.items() if k not in ("LD_PRELOAD", "PYTHONPATH")}
    result = subprocess.run([sys.executable, "-m", "mypy", "--cache-dir", str(tmp_path)], capture_output=True,
                            text=True, cwd=PACKAGE.parent, env=env)
    assert result.returncode == 0, result.stdout + result.stderr

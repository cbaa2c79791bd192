"""`pip install` of the package works offline with the system's setuptools,
and the installed copy imports."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1]


def test_pip_install_and_import(tmp_path):
    # setuptools before 70 builds wheels with the wheel package
    if subprocess.run([sys.executable, "-c", "import pip, wheel"], capture_output=True).returncode != 0:
        pytest.skip("pip or wheel is not installed (python3-pip, python3-wheel)")
    # build from a copy: an in-tree build would leave build/ and *.egg-info behind
    source = tmp_path / "src"
    shutil.copytree(PACKAGE, source, ignore=shutil.ignore_patterns("tests", "examples", "__pycache__", "build",
                                                                   "*.egg-info"))
    target = tmp_path / "site"
    install = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-build-isolation",
                              "--no-index", "--quiet", "--target", str(target), str(source)],
                             capture_output=True, text=True)
    assert install.returncode == 0, install.stderr
    env = {**os.environ, "PYTHONPATH": str(target)}
    check = subprocess.run([sys.executable, "-c", "import genmodel; print(genmodel.__file__, genmodel.__version__); "
                            "genmodel.VAE(input_dim=4, latent_dim=1).close()"],
                           capture_output=True, text=True, env=env, cwd=tmp_path)
    assert check.returncode == 0, check.stderr
    location, version = check.stdout.split()
    assert Path(location).is_relative_to(target) and version == __import__("genmodel").__version__

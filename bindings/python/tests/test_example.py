"""examples/train_vae.py runs, with matplotlib and without it."""
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import python_env

SCRIPT = Path(__file__).resolve().parents[1] / "examples" / "train_vae.py"

# run the script with matplotlib made unimportable
WITHOUT_MATPLOTLIB = """
import runpy, sys
sys.modules["matplotlib"] = None
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")
"""


def have_matplotlib():
    return subprocess.run([sys.executable, "-c", "import matplotlib"], capture_output=True).returncode == 0


@pytest.mark.parametrize("matplotlib", [
    pytest.param(True, marks=pytest.mark.skipif(not have_matplotlib(), reason="matplotlib is not installed")),
    False,
], ids=["matplotlib", "library-grids"])
def test_train_vae_example(mnist_dir, tmp_path, matplotlib):
    out = tmp_path / "out"
    args = [SCRIPT, "--data", mnist_dir, "--epochs", "2", "--hidden", "16", "--latent", "2", "--batch", "32",
            "--out", out]
    command = [sys.executable, *args] if matplotlib else [sys.executable, "-c", WITHOUT_MATPLOTLIB, *args]
    result = subprocess.run(list(map(str, command)), capture_output=True, text=True, env=python_env())
    assert result.returncode == 0, result.stderr
    assert "epoch   2/2  train -ELBO" in result.stdout
    written = sorted(p.name for p in out.iterdir())
    if matplotlib:
        assert written == ["losses.png", "reconstructions.png", "samples.png", "vae.safetensors"]
    else:
        assert written[-1] == "vae.safetensors" and len(written) == 3
        assert "no loss plot" in result.stderr

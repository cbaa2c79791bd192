"""Each gm_status raises its own GenModelError subclass, carrying the
library's message from gm_last_error()."""
import errno
import os
import pickle
import resource
import subprocess
import sys
import tempfile
import threading

import numpy as np
import pytest

import genmodel
from genmodel import _lib
from helpers import TINY_VAE, python_env, read_safetensors, write_safetensors


@pytest.fixture
def vae():
    with genmodel.VAE(**TINY_VAE) as model:
        yield model


def test_classes_are_rooted_and_pythonic():
    pairs = {
        genmodel.InvalidArgumentError: ValueError, genmodel.NoMemoryError: MemoryError,
        genmodel.FileError: OSError, genmodel.NumericError: ArithmeticError,
    }
    for cls, builtin in pairs.items():
        assert issubclass(cls, genmodel.GenModelError) and issubclass(cls, builtin)
    statuses = [cls.status for cls in genmodel.GenModelError.__subclasses__()]
    assert sorted(statuses) == list(range(1, 10))


def test_invalid_argument():
    with pytest.raises(genmodel.InvalidArgumentError) as info:
        genmodel.VAE(latent_dim=0)
    assert str(info.value) == "gm_vae_create: latent_dim must be in [1, 16777216] (got 0)"
    assert info.value.status == 1 and info.value.message == str(info.value)
    assert isinstance(info.value, ValueError)


def test_input_outside_the_likelihood_domain(vae):
    x = np.full((2, 16), 0.5, np.float32)
    x[1, 3] = 2.0
    with pytest.raises(genmodel.InvalidArgumentError, match=r"x\[1\]\[3\] = 2 is outside the Bernoulli"):
        vae.train_step(x)
    assert vae.step == 0


def test_labels_for_an_unconditional_model(vae):
    with pytest.raises(genmodel.InvalidArgumentError, match="labels must be NULL for an unconditional model"):
        vae.sample(2, labels=[0, 1])


def test_no_memory():
    # sizes within every limit (8 GiB of weights, gradients and moments),
    # with 1 GiB of address space left to allocate them in
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    with open("/proc/self/statm") as f:
        mapped = int(f.read().split()[0]) * resource.getpagesize()
    resource.setrlimit(resource.RLIMIT_AS, (mapped + (1 << 30), hard))
    try:
        with pytest.raises(genmodel.NoMemoryError, match="cannot allocate") as info:
            genmodel.VAE(input_dim=2**22, enc_hidden=(64,), dec_hidden=(64,))
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
    assert isinstance(info.value, MemoryError) and info.value.status == 2


def test_io(tmp_path):
    missing = tmp_path / "missing.safetensors"
    with pytest.raises(genmodel.FileError, match=f"cannot open '{missing}': No such file or directory") as info:
        genmodel.VAE.load(missing)
    assert isinstance(info.value, OSError) and info.value.status == 3


def os_error(call):
    """The FileError call raises, checked to carry what Python's own
    OSError would: errno, strerror, and the library's message as str()."""
    with pytest.raises(genmodel.FileError) as info:
        call()
    err = info.value
    assert err.strerror == os.strerror(err.errno) and str(err).endswith(f": {err.strerror}")
    return err


def test_a_missing_file_is_a_file_not_found_error(tmp_path):
    missing = tmp_path / "missing.safetensors"
    for call in (lambda: genmodel.VAE.load(missing), lambda: genmodel.checkpoint_info(missing),
                 lambda: genmodel.Dataset(missing)):
        err = os_error(call)
        assert isinstance(err, FileNotFoundError) and type(err) is genmodel.FileError.FileNotFoundError
        assert (err.errno, err.filename, err.filename2) == (errno.ENOENT, str(missing), None)
    err = os_error(lambda: genmodel.Dataset.load_dir(tmp_path))  # the name the library looked for last
    assert isinstance(err, FileNotFoundError) and err.filename == str(tmp_path / "train-images-idx3-ubyte.gz")


def test_writing_into_a_missing_directory_is_a_file_not_found_error(vae, tmp_path):
    target = tmp_path / "no" / "such" / "dir" / "out"
    for call in (lambda: vae.save(target), lambda: genmodel.write_idx(target, np.zeros((1, 4))),
                 lambda: genmodel.write_image_grid(target, np.zeros((1, 4)))):
        err = os_error(call)
        assert isinstance(err, FileNotFoundError) and err.errno == errno.ENOENT
        assert err.filename.startswith(str(target))  # save() names its temporary file beside the target


def test_a_path_through_a_regular_file_is_not_a_directory(vae, tmp_path):
    # ENOTDIR bites as root too, where a permission test cannot
    (tmp_path / "file").write_bytes(b"x")
    under = tmp_path / "file" / "vae.safetensors"
    for call in (lambda: genmodel.VAE.load(under), lambda: vae.save(under)):
        err = os_error(call)
        assert isinstance(err, NotADirectoryError) and err.errno == errno.ENOTDIR
    err = os_error(lambda: genmodel.GAN.load(tmp_path))
    assert isinstance(err, IsADirectoryError) and (err.errno, err.filename) == (errno.EISDIR, str(tmp_path))


UNREADABLE = """
import errno, sys
import genmodel
try:
    genmodel.VAE.load(sys.argv[1])
except PermissionError as err:
    assert isinstance(err, genmodel.FileError) and (err.errno, err.filename) == (errno.EACCES, sys.argv[1]), err
    print("ok")
"""


def test_an_unreadable_file_is_a_permission_error(vae):
    # root reads any file, so as root the check runs in a child as nobody
    as_root = os.geteuid() == 0
    with tempfile.TemporaryDirectory() as tmp:
        os.chmod(tmp, 0o755)
        path = os.path.join(tmp, "vae.safetensors")
        vae.save(path)
        os.chmod(path, 0)
        if not as_root:
            err = os_error(lambda: genmodel.VAE.load(path))
            assert isinstance(err, PermissionError) and (err.errno, err.filename) == (errno.EACCES, path)
            return
        result = subprocess.run([sys.executable, "-c", UNREADABLE, path], capture_output=True, text=True,
                                env=python_env(), user=65534)
    if "ModuleNotFoundError" in result.stderr or "ImportError" in result.stderr:
        pytest.skip(f"user nobody cannot import genmodel here: {result.stderr.strip().splitlines()[-1]}")
    assert (result.returncode, result.stdout) == (0, "ok\n"), result.stderr


def test_a_failure_without_an_errno_is_a_plain_file_error():
    # /dev/null opens, but is no regular file: no errno to report
    with pytest.raises(genmodel.FileError, match="not a regular file") as info:
        genmodel.VAE.load("/dev/null")
    assert type(info.value) is genmodel.FileError and info.value.errno is None


def test_file_errors_pickle_whole(tmp_path):
    # as multiprocessing sends them back from a worker
    err = os_error(lambda: genmodel.Dataset(tmp_path / "missing"))
    again = pickle.loads(pickle.dumps(err))
    assert type(again) is type(err) and str(again) == str(err)
    assert (again.errno, again.strerror, again.filename, again.status) == (err.errno, err.strerror, err.filename, 3)


def test_format(vae):
    with pytest.raises(genmodel.FormatError, match="too short for the 8-byte header length"):
        genmodel.VAE.load(b"garbage")
    blob = bytearray(vae.to_bytes())
    blob[-1] ^= 0xFF  # a weight's byte: the data checksum no longer matches
    with pytest.raises(genmodel.FormatError, match="crc|CRC|checksum"):
        genmodel.VAE.load(bytes(blob))


def test_version(vae):
    tensors, meta = read_safetensors(vae.to_bytes())
    with pytest.raises(genmodel.VersionError, match="format"):
        genmodel.VAE.load(write_safetensors(tensors, dict(meta, **{"gm.format_version": "2"})))


def test_mismatch(vae):
    with pytest.raises(genmodel.MismatchError, match="the file holds a vae, not a gan"):
        genmodel.GAN.load(vae.to_bytes())


def test_state(vae):
    # the allocator cannot change while a handle holds memory from it
    with pytest.raises(genmodel.StateError, match="gm_set_allocator: .* still live"):
        _lib.lib.gm_set_allocator(None)


def test_numeric_changes_nothing():
    with genmodel.VAE(**dict(TINY_VAE, likelihood="gaussian")) as vae:
        before = vae.to_bytes()
        with pytest.raises(genmodel.NumericError, match="no update was made") as info:
            vae.train_step(np.full((4, 16), 1e30, np.float32))
        assert isinstance(info.value, ArithmeticError) and info.value.status == 8
        assert vae.to_bytes() == before and vae.step == 0


def test_unsupported(vae):
    tensors, meta = read_safetensors(vae.to_bytes())
    tensors["dec.0.bias"] = tensors["dec.0.bias"].astype("<f2")
    with pytest.raises(genmodel.UnsupportedError, match="only F32 is supported"):
        genmodel.VAE.load(write_safetensors(tensors, meta))


def test_png_without_libpng_is_unsupported(tmp_path):
    if genmodel.have_png():
        pytest.skip("this build writes PNG")
    with pytest.raises(genmodel.UnsupportedError, match="no PNG support"):
        genmodel.write_image_grid(tmp_path / "grid.png", np.zeros((1, 4)))


def test_each_thread_reads_its_own_message():
    # gm_last_error() is thread-local and errcheck reads it on the calling
    # thread, so concurrent failures never see each other's text.
    failures = []

    def provoke(make, expected):
        for _ in range(200):
            try:
                make()
            except genmodel.GenModelError as e:
                if expected not in str(e):
                    failures.append(str(e))

    threads = [
        threading.Thread(target=provoke, args=(lambda: genmodel.VAE(latent_dim=0), "latent_dim")),
        threading.Thread(target=provoke, args=(lambda: genmodel.Dataset("/nonexistent/images"), "/nonexistent")),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []

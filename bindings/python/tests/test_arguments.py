"""Every public function and method, given each kind of wrong argument,
raises TypeError or ValueError naming the argument, before any C call:
never ctypes.ArgumentError, never a silently wrapped integer or a float
rounded to infinity. The values Python treats as numbers (numpy scalars,
an unaligned or byte-swapped array) are accepted.

ARGUMENTS lists each public callable's arguments by kind; a new public
function or method must join it, or test_every_public_callable_is_listed
fails."""
import ctypes
import inspect
from fractions import Fraction

import numpy as np
import pytest

import genmodel
from helpers import TINY_GAN, TINY_SR, TINY_VAE, patterns

# (value, the exception it must raise) for each kind of argument
BAD = {
    "float": [("a", TypeError), (None, TypeError), (True, TypeError), (1 + 2j, TypeError),
              (np.array([1e-3]), TypeError), (10**400, ValueError), (1e39, ValueError), (-1e39, ValueError)],
    "int": [(2.0, TypeError), ("3", TypeError), (None, TypeError), (True, TypeError), (np.bool_(True), TypeError),
            (np.float64(3), TypeError), (2**31, ValueError), (-2**31 - 1, ValueError),
            (np.uint64(2**63), ValueError), (10**30, ValueError)],
    "seed": [(2.0, TypeError), (None, TypeError), (True, TypeError), (-1, ValueError), (2**64, ValueError)],
    "path": [(None, TypeError), (3, TypeError), (["a"], TypeError), ("a\0b", ValueError), (b"a\0b", ValueError)],
    "source": [(None, TypeError), (3, TypeError), (["a"], TypeError), ("a\0b", ValueError)],  # bytes: a checkpoint
    "file name": [(None, TypeError), (3, TypeError), ("a\0b", ValueError), (b"name", TypeError),
                  (bytearray(b"name"), TypeError)],  # bytes elsewhere are a checkpoint
    "optional path": [(3, TypeError), ("a\0b", ValueError)],
    "split": [(None, TypeError), (b"train", TypeError), ("train\0", ValueError)],
    "backend": [(None, TypeError), (b"openblas", TypeError), ("openblas\0", ValueError)],
    "widths": [(400, TypeError), ("400", TypeError), ((8.0,), TypeError), ((2**31,), ValueError)],
    "callback": [(3, TypeError), ("fn", TypeError), (np.zeros(2), TypeError)],
    "pair": [(0.9, TypeError), ((0.9,), ValueError), ((0.9, "a"), TypeError)],
    "choice": [(1, TypeError), (None, TypeError), ("swish", ValueError)],
    "rows": [(None, ValueError), ("abc", ValueError), (np.zeros((2, 3), np.float32), ValueError),
             (np.zeros(5, np.float32), ValueError)],
    "images": [(None, ValueError), ("abc", ValueError), (np.zeros(5, np.float32), ValueError)],
    "indices": [(["a"], TypeError), ([0.5], TypeError), ([[0]], ValueError), ([2**40], ValueError)],
    "dataset": [(None, TypeError), ("x.idx", TypeError), (3, TypeError)],
}

BAD["optional int"] = [(value, error) for value, error in BAD["int"] if value is not None]  # None: the default

# values of each kind that Python treats as numbers: accepted as they are
GOOD = {
    "float": [np.float32(1e-3), np.float64(1e-3), np.int64(1), Fraction(1, 1000)],
    "int": [np.int64(2), np.int32(2), np.uint8(2)],
    "optional int": [np.int64(2), np.int32(2), np.uint8(2)],
    "seed": [np.uint64(2**64 - 1), np.int8(1)],
}


def unaligned(a):
    """a copy of a (float32) that starts one byte into its buffer."""
    a = np.ascontiguousarray(a, np.float32)
    buf = np.empty(a.nbytes + 1, np.uint8)
    view = buf[1:].view(np.float32).reshape(a.shape)
    view[...] = a
    assert not view.flags.aligned
    return view


class World:
    """What the calls act on: a VAE, a GAN, an SR, a dataset, and data for each."""

    def __init__(self, tmp_path):
        self.tmp = tmp_path
        self.x = patterns(8)[0]
        self.vae, self.gan = genmodel.VAE(**TINY_VAE), genmodel.GAN(**TINY_GAN)
        self.sr = genmodel.SR(**TINY_SR)
        self.vae.fit_latent(self.x)  # for the default score
        genmodel.write_idx(tmp_path / "x.idx", self.x, 4, 4)
        self.images = str(tmp_path / "x.idx")
        self.ds = genmodel.Dataset(self.images)
        (tmp_path / "vae.safetensors").write_bytes(self.vae.to_bytes())
        self.checkpoint = str(tmp_path / "vae.safetensors")
        self.extra = []

    def table_vae(self):
        """a new VAE that standardizes its 16 columns"""
        self.extra.append(genmodel.VAE(**dict(TINY_VAE, likelihood="gaussian", standardize=1)))
        return self.extra[-1]

    def close(self):
        for obj in (self.vae, self.gan, self.sr, self.ds, *self.extra):
            obj.close()


def rows_of(dim, table=False):
    """A "rows" argument of dim columns: the good values are arrays numpy
    converts (an unaligned view, float64, big-endian, a list); patterns of
    16 pixels, or with table (or another width) columns that vary."""
    x = patterns(3, dim=dim)[0] if dim == 16 and not table else np.linspace(-1, 1, 3 * dim).reshape(3, dim)
    return ("rows", [unaligned(x), x.astype(np.float64), x.astype(">f4"), x.tolist()])


def pixels_of(*shape):
    """An "images" argument of that shape: the good values, pixels in [0,
    1], as rows_of gives them."""
    x = np.linspace(0, 1, int(np.prod(shape))).reshape(shape)
    return ("images", [unaligned(x), x.astype(np.float64), x.astype(">f4"), x.tolist()])


# the upscaler's patches (TINY_SR: scale 2, patch 2) and an image
LO, HI = np.full((3, 2, 2, 1), 0.5), np.full((3, 4, 4, 1), 0.5)


# callable name -> [(argument name, kind or (kind, good values), call(world, value))]
ARGUMENTS = {
    "VAE": [("latent_dim", "int", lambda w, v: genmodel.VAE(**dict(TINY_VAE, latent_dim=v)).close()),
            ("lr", "float", lambda w, v: genmodel.VAE(**dict(TINY_VAE, lr=v)).close()),
            ("seed", "seed", lambda w, v: genmodel.VAE(**dict(TINY_VAE, seed=v)).close()),
            ("enc_hidden", "widths", lambda w, v: genmodel.VAE(**dict(TINY_VAE, enc_hidden=v))),
            ("betas", "pair", lambda w, v: genmodel.VAE(**dict(TINY_VAE, betas=v))),
            ("activation", "choice", lambda w, v: genmodel.VAE(**dict(TINY_VAE, activation=v)))],
    "GAN": [("noise_dim", "int", lambda w, v: genmodel.GAN(**dict(TINY_GAN, noise_dim=v)).close()),
            ("gen_lr", "float", lambda w, v: genmodel.GAN(**dict(TINY_GAN, gen_lr=v)).close()),
            ("seed", "seed", lambda w, v: genmodel.GAN(**dict(TINY_GAN, seed=v)).close()),
            ("disc_hidden", "widths", lambda w, v: genmodel.GAN(**dict(TINY_GAN, disc_hidden=v))),
            ("gen_betas", "pair", lambda w, v: genmodel.GAN(**dict(TINY_GAN, gen_betas=v))),
            ("loss", "choice", lambda w, v: genmodel.GAN(**dict(TINY_GAN, loss=v)))],
    "SR": [("scale", "int", lambda w, v: genmodel.SR(**dict(TINY_SR, scale=v)).close()),
           ("channels", ("int", [np.int64(3), np.uint8(1)]),
            lambda w, v: genmodel.SR(**dict(TINY_SR, channels=v)).close()),
           ("lr", "float", lambda w, v: genmodel.SR(**dict(TINY_SR, lr=v)).close()),
           ("seed", "seed", lambda w, v: genmodel.SR(**dict(TINY_SR, seed=v)).close()),
           ("body_channels", "widths", lambda w, v: genmodel.SR(**dict(TINY_SR, body_channels=v))),
           ("disc_betas", "pair", lambda w, v: genmodel.SR(**dict(TINY_SR, disc_betas=v))),
           ("pixel_loss", "choice", lambda w, v: genmodel.SR(**dict(TINY_SR, pixel_loss=v)))],
    "VAE.load": [("source", "source", lambda w, v: genmodel.VAE.load(v))],
    "SR.load": [("source", "source", lambda w, v: genmodel.SR.load(v))],
    "SR.save": [("path", "path", lambda w, v: w.sr.save(v))],
    "SR.set_lr": [("lr", "float", lambda w, v: w.sr.set_lr(v, 1e-3)),
                  ("disc_lr", "float", lambda w, v: w.sr.set_lr(1e-3, v))],
    "SR.train_step": [("lo", pixels_of(3, 2, 2, 1), lambda w, v: w.sr.train_step(v, HI)),
                      ("hi", pixels_of(3, 4, 4, 1), lambda w, v: w.sr.train_step(LO, v))],
    "SR.upscale": [("image", pixels_of(3, 4), lambda w, v: w.sr.upscale(v))],
    "SR.patches": [("dataset", "dataset", lambda w, v: w.sr.patches(v, 2)),
                   ("n", "int", lambda w, v: w.sr.patches(w.ds, v))],
    "SR.evaluate": [("dataset", "dataset", lambda w, v: w.sr.evaluate(v))],
    "SR.fit": [("dataset", "dataset", lambda w, v: w.sr.fit(v, 1)),
               ("steps", "int", lambda w, v: w.sr.fit(w.ds, v, batch=2)),
               ("batch", "int", lambda w, v: w.sr.fit(w.ds, 1, batch=v)),
               ("callback", "callback", lambda w, v: w.sr.fit(w.ds, 1, batch=2, callback=v))],
    "GAN.load": [("source", "source", lambda w, v: genmodel.GAN.load(v))],
    "VAE.save": [("path", "path", lambda w, v: w.vae.save(v))],
    "GAN.save": [("path", "path", lambda w, v: w.gan.save(v))],
    "VAE.set_lr": [("lr", "float", lambda w, v: w.vae.set_lr(v))],
    "GAN.set_lr": [("gen_lr", "float", lambda w, v: w.gan.set_lr(v, 1e-3)),
                   ("disc_lr", "float", lambda w, v: w.gan.set_lr(1e-3, v))],
    "VAE.train_step": [("x", rows_of(16), lambda w, v: w.vae.train_step(v))],
    "GAN.train_step": [("x", rows_of(16), lambda w, v: w.gan.train_step(v))],
    "VAE.set_allreduce": [("fn", "callback", lambda w, v: w.vae.set_allreduce(v)),
                          ("rank", "int", lambda w, v: w.vae.set_allreduce(lambda buf: None, v, 3)),
                          ("size", "int", lambda w, v: w.vae.set_allreduce(lambda buf: None, 0, v))],
    "GAN.set_allreduce": [("fn", "callback", lambda w, v: w.gan.set_allreduce(v)),
                          ("rank", "int", lambda w, v: w.gan.set_allreduce(lambda buf: None, v, 3)),
                          ("size", "int", lambda w, v: w.gan.set_allreduce(lambda buf: None, 0, v))],
    "VAE.sample": [("n", "int", lambda w, v: w.vae.sample(v))],
    "GAN.sample": [("n", "int", lambda w, v: w.gan.sample(v))],
    "VAE.shuffle": [("n", "int", lambda w, v: w.vae.shuffle(v))],
    "GAN.shuffle": [("n", "int", lambda w, v: w.gan.shuffle(v))],
    "VAE.fit": [("x", rows_of(16), lambda w, v: w.vae.fit(v, 1)),
                ("epochs", "int", lambda w, v: w.vae.fit(w.x, v)),
                ("batch_size", "int", lambda w, v: w.vae.fit(w.x, 1, batch_size=v))],
    "GAN.fit": [("x", rows_of(16), lambda w, v: w.gan.fit(v, 1)),
                ("epochs", "int", lambda w, v: w.gan.fit(w.x, v)),
                ("batch_size", "int", lambda w, v: w.gan.fit(w.x, 1, batch_size=v))],
    "VAE.encode": [("x", rows_of(16), lambda w, v: w.vae.encode(v))],
    "VAE.reparameterize": [("mu", rows_of(2), lambda w, v: w.vae.reparameterize(v, np.zeros((3, 2)))),
                           ("logvar", rows_of(2), lambda w, v: w.vae.reparameterize(np.zeros((3, 2)), v))],
    "VAE.decode": [("z", rows_of(2), lambda w, v: w.vae.decode(v))],
    "VAE.elbo": [("x", rows_of(16), lambda w, v: w.vae.elbo(v))],
    "VAE.iwae": [("x", rows_of(16), lambda w, v: w.vae.iwae(v, 2)),
                 ("k", "int", lambda w, v: w.vae.iwae(w.x, v))],
    "VAE.reconstruct": [("x", rows_of(16), lambda w, v: w.vae.reconstruct(v))],
    "VAE.interpolate": [("a", rows_of(16), lambda w, v: w.vae.interpolate(v, v)),
                        ("steps", "int", lambda w, v: w.vae.interpolate(w.x, w.x, v))],
    "VAE.manifold": [("side", "int", lambda w, v: w.vae.manifold(v))],
    "VAE.calibrate": [("x", rows_of(16), lambda w, v: w.vae.calibrate(v)),
                      ("kind", "choice", lambda w, v: w.vae.calibrate(w.x, kind=v))],
    "VAE.flag": [("x", rows_of(16), lambda w, v: (w.vae.calibrate(w.x), w.vae.flag(v)))],
    "VAE.fit_latent": [("x", rows_of(16), lambda w, v: w.vae.fit_latent(v))],
    "VAE.fit_standardization": [("x", rows_of(16, table=True), lambda w, v: w.table_vae().fit_standardization(v))],
    "VAE.anomaly_map": [("x", rows_of(16), lambda w, v: w.vae.anomaly_map(v))],
    "VAE.score": [("x", rows_of(16), lambda w, v: w.vae.score(v)),
                  ("m", "int", lambda w, v: w.vae.score(w.x, v)),
                  ("kind", "choice", lambda w, v: w.vae.score(w.x, kind=v))],
    "GAN.generate": [("z", rows_of(4), lambda w, v: w.gan.generate(v))],
    "GAN.discriminate": [("x", rows_of(16), lambda w, v: w.gan.discriminate(v))],
    "GAN.score": [("x", rows_of(16), lambda w, v: w.gan.score(v))],
    "Dataset": [("images_path", "path", lambda w, v: genmodel.Dataset(v)),
                ("labels_path", "optional path", lambda w, v: genmodel.Dataset(w.images, v))],
    "Dataset.open": [("path", "path", lambda w, v: genmodel.Dataset.open(v)),
                     ("labels_path", "optional path", lambda w, v: genmodel.Dataset.open(w.images, v)),
                     ("format", "choice", lambda w, v: genmodel.Dataset.open(w.images, format=v)),
                     ("delimiter", "choice", lambda w, v: genmodel.Dataset.open(w.images, delimiter=v))],
    "write_dataset": [("directory", "path", lambda w, v: genmodel.write_dataset(v, w.x)),
                      ("format", "choice", lambda w, v: genmodel.write_dataset(w.tmp / "d", w.x, format=v))],
    "Dataset.load_dir": [("directory", "path", lambda w, v: genmodel.Dataset.load_dir(v)),
                         ("split", "split", lambda w, v: genmodel.Dataset.load_dir(w.tmp, v))],
    "Dataset.gather": [("indices", "indices", lambda w, v: w.ds.gather(v))],
    "Dataset.image": [("i", "int", lambda w, v: w.ds.image(v))],
    "Dataset.image_size": [("i", "int", lambda w, v: w.ds.image_size(v))],
    "load": [("source", "source", lambda w, v: genmodel.load(v))],
    "checkpoint_info": [("path", "file name", lambda w, v: genmodel.checkpoint_info(v))],
    "load_mnist": [("directory", "path", lambda w, v: genmodel.load_mnist(v)),
                   ("split", "split", lambda w, v: genmodel.load_mnist(w.tmp, v))],
    "write_image_grid": [("path", "path", lambda w, v: genmodel.write_image_grid(v, w.x)),
                         ("images", ("images", rows_of(16)[1]), lambda w, v: genmodel.write_image_grid(w.tmp / "g.pgm", v)),
                         ("height", "optional int", lambda w, v: genmodel.write_image_grid(w.tmp / "g.pgm", w.x, v)),
                         ("width", "optional int", lambda w, v: genmodel.write_image_grid(w.tmp / "g.pgm", w.x, 8, v)),
                         ("cols", "optional int", lambda w, v: genmodel.write_image_grid(w.tmp / "g.pgm", w.x, cols=v))],
    "write_image": [("path", "path", lambda w, v: genmodel.write_image(v, np.zeros((2, 3)))),
                    ("image", pixels_of(3, 4), lambda w, v: genmodel.write_image(w.tmp / "one.pgm", v))],
    "read_image": [("path", "path", lambda w, v: genmodel.read_image(v))],
    "write_idx": [("path", "path", lambda w, v: genmodel.write_idx(v, w.x)),
                  ("images", ("images", rows_of(16)[1]), lambda w, v: genmodel.write_idx(w.tmp / "x2.idx", v)),
                  ("height", "optional int", lambda w, v: genmodel.write_idx(w.tmp / "x2.idx", w.x, v)),
                  ("width", "optional int", lambda w, v: genmodel.write_idx(w.tmp / "x2.idx", w.x, 8, v))],
    "set_num_threads": [("n", "int", lambda w, v: genmodel.set_num_threads(v))],
    "set_backend": [("name", "backend", lambda w, v: genmodel.set_backend(v))],
}


def public_callables():
    """Every public function, constructor and method that takes arguments."""
    names = set()
    for name in genmodel.__all__:
        obj = getattr(genmodel, name)
        if inspect.isfunction(obj) and inspect.signature(obj).parameters:
            names.add(name)
    for cls in (genmodel.VAE, genmodel.GAN, genmodel.SR, genmodel.Dataset):
        names.add(cls.__name__)
        for name, member in inspect.getmembers(cls, callable):
            if not name.startswith("_") and not inspect.isclass(member):
                params = [p for p in inspect.signature(member).parameters if p != "self"]
                if params:
                    names.add(f"{cls.__name__}.{name}")
    return names


def test_every_public_callable_is_listed():
    assert public_callables() == set(ARGUMENTS)


def cases(table):
    for name, args in ARGUMENTS.items():
        for arg, kind, call in args:
            kind, goods = kind if isinstance(kind, tuple) else (kind, GOOD.get(kind, []))
            for value in (BAD[kind] if table is BAD else goods):
                yield pytest.param(name, arg, call, value, id=f"{name}-{arg}-{value!r:.30}")


@pytest.fixture
def world(tmp_path):
    w = World(tmp_path)
    before = genmodel.get_num_threads()
    yield w
    genmodel.set_num_threads(before)
    w.close()


@pytest.mark.parametrize("name, arg, call, bad", cases(BAD))
def test_a_wrong_argument_is_a_type_or_value_error_naming_it(world, name, arg, call, bad):
    value, expected = bad
    try:
        call(world, value)
    except ctypes.ArgumentError as e:  # a subclass of neither
        pytest.fail(f"{name}({arg}={value!r}) leaked ctypes.ArgumentError: {e}")
    except expected as e:
        assert not isinstance(e, genmodel.GenModelError), e  # refused before the C call
        assert arg in str(e), str(e)
    else:
        pytest.fail(f"{name}({arg}={value!r}) did not raise {expected.__name__}")


@pytest.mark.parametrize("name, arg, call, good", cases(GOOD))
def test_what_python_treats_as_a_number_or_an_array_is_accepted(world, name, arg, call, good):
    call(world, good)

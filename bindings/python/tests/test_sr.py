"""The upscaler (SR): training on patches, upscaling grey and colour
images, checkpoints that resume bit for bit, the library's errors, and the
evaluation against scikit-image's PSNR and SSIM of Pillow's bicubic."""
import pickle
import threading

import numpy as np
import pytest

import genmodel
from helpers import TINY_GAN, TINY_SR

Image = pytest.importorskip("PIL.Image")
metrics = pytest.importorskip("skimage.metrics")

needs_png = pytest.mark.skipif(not genmodel.have_png(), reason="a build without libpng")


def smooth_images(n, height, width, channels=1, seed=0):
    """n smooth images (n, height, width[, channels]) in [0, 1]: a few low
    frequencies each, quantized to 8 bits as a PNG keeps them."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width] / max(height, width)
    out = np.empty((n, height, width, channels))
    for i in range(n):
        for c in range(channels):
            f = rng.uniform(0.5, 3, size=(3, 2))
            phase = rng.uniform(0, 2 * np.pi, size=3)
            wave = sum(np.sin(2 * np.pi * (f[k, 0] * y + f[k, 1] * x) + phase[k]) for k in range(3))
            out[i, :, :, c] = 0.5 + 0.15 * wave
    out = np.round(np.clip(out, 0, 1) * 255) / 255
    return out[..., 0] if channels == 1 else out


def png_folder(path, images):
    """images (n, h, w) or (n, h, w, 3) in [0, 1] as 8-bit PNG files in the
    folder path, opened as a Dataset."""
    path.mkdir()
    for i, image in enumerate(images):
        pixels = np.round(image * 255).astype(np.uint8)
        Image.fromarray(pixels, "L" if image.ndim == 2 else "RGB").save(path / f"{i:03d}.png")
    return genmodel.Dataset.open(path)


@pytest.fixture
def grey_images(tmp_path):
    if not genmodel.have_png():
        pytest.skip("a build without libpng")
    with png_folder(tmp_path / "grey", smooth_images(6, 32, 32)) as ds:
        yield ds


def test_training_lowers_the_loss(grey_images):
    with genmodel.SR(**dict(TINY_SR, patch=8, lr=3e-3)) as sr:
        lo, hi = sr.patches(grey_images, 16)
        assert lo.shape == (16, 8, 8, 1) and hi.shape == (16, 16, 16, 1)
        assert lo.dtype == hi.dtype == np.float32
        first = sr.train_step(lo, hi)
        for _ in range(60):
            last = sr.train_step(lo, hi)
        assert isinstance(last, genmodel.SRLosses) and last.g_adv == last.d_loss == 0
        assert last.pixel < 0.5 * first.pixel
        assert sr.step == 61


def test_fit_draws_new_patches_and_stops_when_told(grey_images):
    seen = []
    with genmodel.SR(**dict(TINY_SR, patch=8)) as sr:
        history = sr.fit(grey_images, 5, batch=4, callback=lambda step, losses: seen.append(step) or step < 3)
        assert len(history) == 3 and seen == [1, 2, 3] and sr.step == 3
        assert all(np.isfinite(h).all() for h in history)


def test_upscale_grey_and_colour_images():
    rng = np.random.default_rng(0)
    with genmodel.SR(**dict(TINY_SR, scale=3)) as sr:
        grey = sr.upscale(rng.random((7, 9)))
        assert grey.shape == (21, 27) and grey.dtype == np.float32
        colour = sr.upscale(rng.random((5, 6, 3)))
        assert colour.shape == (15, 18, 3)
        one = sr.upscale(rng.random((4, 4, 1)))
        assert one.shape == (12, 12, 1)
        for y in (grey, colour, one):
            assert np.all((y >= 0) & (y <= 1))
        # a 2-D image is the same as the same image of one channel
        image = rng.random((6, 5))
        assert np.array_equal(sr.upscale(image), sr.upscale(image[..., None])[..., 0])
    with genmodel.SR(**dict(TINY_SR, channels=3)) as rgb:
        assert rgb.upscale(rng.random((5, 6, 3))).shape == (10, 12, 3)
        with pytest.raises(genmodel.InvalidArgumentError, match="^gm_sr_upscale: .*grey"):
            rgb.upscale(rng.random((5, 6)))


def test_a_checkpoint_resumes_bit_for_bit(grey_images, tmp_path, one_thread):
    with genmodel.SR(**dict(TINY_SR, patch=4, adv_weight=0.01, disc_channels=(4, 8))) as sr:
        for _ in range(3):
            sr.train_step(*sr.patches(grey_images, 4))
        sr.save(tmp_path / "sr.safetensors")
        copies = [genmodel.SR.load(tmp_path / "sr.safetensors"), genmodel.SR.load(sr.to_bytes()),
                  pickle.loads(pickle.dumps(sr)), genmodel.load(sr.to_bytes())]
        info = genmodel.checkpoint_info(tmp_path / "sr.safetensors")
        assert info.kind == "sr" and info.step == 3 and info.config == sr.config
        want = sr.train_step(*sr.patches(grey_images, 4))
        assert want.d_loss != 0
        for copy in copies:
            with copy:
                assert isinstance(copy, genmodel.SR) and copy.step == 3 and copy.config == sr.config
                assert copy.train_step(*copy.patches(grey_images, 4)) == want  # the same draws and step
                assert copy.to_bytes() == sr.to_bytes()


def test_threads_train_their_own_upscalers_and_share_one(one_thread):
    rng = np.random.default_rng(2)
    batches = [(rng.random((4, 2, 2, 1)), rng.random((4, 4, 4, 1))) for _ in range(8)]
    image = rng.random((9, 11, 3))

    def work(sr):
        for lo, hi in batches:
            sr.train_step(lo, hi)
        return sr.to_bytes(), sr.upscale(image)

    with genmodel.SR(**TINY_SR) as alone:
        want = work(alone)
    models = [genmodel.SR(**TINY_SR) for _ in range(3)]
    shared = genmodel.SR(**TINY_SR)
    results = [None] * 3
    threads = [threading.Thread(target=lambda i=i: results.__setitem__(i, work(models[i]))) for i in range(3)]
    threads += [threading.Thread(target=work, args=(shared,)) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for got in results:
        assert got[0] == want[0] and np.array_equal(got[1], want[1])  # each its own: as one thread alone
    assert shared.step == 3 * len(batches)  # one shared: every call took its turn
    for m in models + [shared]:
        m.close()


def test_the_library_refuses_with_its_message(tmp_path):
    with genmodel.SR(**TINY_SR) as sr:
        lo, hi = np.full((2, 2, 2, 1), 0.5), np.full((2, 4, 4, 1), 0.5)
        hi[1, 2, 3, 0] = 1.5
        with pytest.raises(genmodel.InvalidArgumentError, match=r"^gm_sr_train_step: hi\[1\]\[11\] = 1.5 "):
            sr.train_step(lo, hi)
        with pytest.raises(genmodel.InvalidArgumentError, match=r"^gm_sr_upscale: x\[0\]\[1\] = nan"):
            sr.upscale([[0.5, np.nan], [0.5, 0.5]])
        with pytest.raises(genmodel.InvalidArgumentError, match="^gm_sr_upscale: an image of 0 x 3"):
            sr.upscale(np.zeros((0, 3)))
        with pytest.raises(genmodel.InvalidArgumentError, match="^gm_sr_set_lr: "):
            sr.set_lr(0, 1e-3)
        assert sr.step == 0  # nothing changed
        with pytest.raises(ValueError, match=r"hi must have shape \(2, 4, 4, 1\)"):
            sr.train_step(lo, hi[:, :3])
        with pytest.raises(ValueError, match=r"lo must have shape \(n, h, w, 1\)"):
            sr.train_step(lo[..., 0], hi)
        with pytest.raises(TypeError, match="dataset must be a genmodel.Dataset"):
            sr.patches("images", 2)
        (tmp_path / "table.csv").write_text("0.1,0.2\n0.3,0.4\n")
        with genmodel.Dataset.open(tmp_path / "table.csv") as table:
            with pytest.raises(genmodel.InvalidArgumentError, match="^gm_sr_patches: .*table"):
                sr.patches(table, 2)
            with pytest.raises(genmodel.InvalidArgumentError, match="^gm_sr_evaluate: .*table"):
                sr.evaluate(table)
        blob = sr.to_bytes()
    with pytest.raises(genmodel.InvalidArgumentError, match="^gm_sr_create: scale"):
        genmodel.SR(scale=5)
    with genmodel.GAN(**TINY_GAN) as gan:
        with pytest.raises(genmodel.MismatchError, match="^gm_sr_load_buffer: "):
            genmodel.SR.load(gan.to_bytes())
    with pytest.raises(genmodel.MismatchError, match="^gm_gan_load_buffer: "):
        genmodel.GAN.load(blob)


def luma(image):
    """BT.601 studio-range luminance of an (h, w) grey or (h, w, 3) RGB
    image in [0, 1], a grey image's as R = G = B."""
    rgb = np.repeat(image[..., None], 3, axis=2) if image.ndim == 2 else image
    return (16 + rgb @ np.array([65.481, 128.553, 24.966])) / 255


def bicubic(image, height, width):
    """Pillow's BICUBIC resize of an (h, w) or (h, w, 3) float image, in
    mode 'F', plane by plane."""
    planes = image[..., None] if image.ndim == 2 else image
    out = np.stack([np.asarray(Image.fromarray(np.ascontiguousarray(planes[..., c], np.float32), "F")
                               .resize((width, height), Image.BICUBIC)) for c in range(planes.shape[2])], -1)
    return out[..., 0] if image.ndim == 2 else out


def measure(a, b, border):
    """(PSNR, SSIM) of luminances a and b, border pixels cropped, as
    scikit-image computes them."""
    a, b = a[border:-border, border:-border], b[border:-border, border:-border]
    return (metrics.peak_signal_noise_ratio(a, b, data_range=1.0),
            metrics.structural_similarity(a, b, data_range=1.0, gaussian_weights=True, sigma=1.5,
                                          use_sample_covariance=False))


@needs_png
@pytest.mark.parametrize("scale, channels, model", [(2, 1, 1), (3, 1, 1), (2, 3, 1), (4, 3, 1), (3, 3, 3)])
def test_evaluate_measures_as_scikit_image(tmp_path, scale, channels, model):
    # images grey or RGB, a model of Y or RGB; both measured on Y
    images = smooth_images(3, 37, 41, channels, seed=scale)
    with png_folder(tmp_path / "images", images) as ds, \
            genmodel.SR(**dict(TINY_SR, scale=scale, channels=model)) as sr:
        scores = sr.evaluate(ds)
        psnr, ssim, bic_psnr, bic_ssim = [], [], [], []
        for image in images:
            h, w = image.shape[0] // scale, image.shape[1] // scale
            hr = image[:h * scale, :w * scale].astype(np.float32)
            lr = bicubic(hr, h, w)
            for out, p, s in ((bicubic(lr, h * scale, w * scale), bic_psnr, bic_ssim),
                              (sr.upscale(np.clip(lr, 0, 1)), psnr, ssim)):
                q = measure(luma(hr.astype(np.float64)), luma(out.astype(np.float64)), scale)
                p.append(q[0])
                s.append(q[1])
    assert scores.images == 3
    # Pillow's bicubic is the library's to float rounding, so are the figures
    # (about 1e-6 dB apart). Smooth images: where bicubic overshoots [0, 1]
    # the library clamps after each pass, as Pillow's 8-bit modes do and its
    # mode 'F' does not.
    assert scores.bicubic_psnr == pytest.approx(np.mean(bic_psnr), abs=1e-4)
    assert scores.bicubic_ssim == pytest.approx(np.mean(bic_ssim), abs=1e-7)
    assert scores.psnr == pytest.approx(np.mean(psnr), abs=1e-4)
    assert scores.ssim == pytest.approx(np.mean(ssim), abs=1e-7)
    assert 20 < scores.bicubic_psnr < 80 and 0 < scores.bicubic_ssim <= 1


@needs_png
def test_evaluate_refuses_images_too_small(tmp_path):
    with png_folder(tmp_path / "small", smooth_images(2, 14, 30)) as ds, genmodel.SR(**TINY_SR) as sr:
        with pytest.raises(genmodel.InvalidArgumentError, match="^gm_sr_evaluate: image 0 .* too small"):
            sr.evaluate(ds)

"""VAE specifics: what each method computes, checked against its
definition."""
import numpy as np
import pytest

import genmodel
from helpers import TINY_VAE, patterns, table


@pytest.fixture
def vae():
    with genmodel.VAE(**dict(TINY_VAE, lr=1e-2)) as model:
        model.fit(patterns(256)[0], 20, batch_size=32)
        yield model


def test_losses_add_up():
    x = patterns(32)[0]
    with genmodel.VAE(**dict(TINY_VAE, beta=0.5)) as vae:
        losses = vae.train_step(x)
    assert isinstance(losses, genmodel.VAELosses)
    assert losses.loss == pytest.approx(losses.recon + 0.5 * losses.kl)
    assert losses.neg_elbo == pytest.approx(losses.recon + losses.kl)


def test_reconstruct_decodes_the_posterior_mean(vae):
    x = patterns(8)[0]
    mu, _ = vae.encode(x)
    assert np.array_equal(vae.reconstruct(x), vae.decode(mu))


def test_reparameterize_draws_around_mu(vae):
    mu = np.tile(np.array([[1.0, -2.0]], np.float32), (20000, 1))
    logvar = np.log(np.full_like(mu, 0.25))
    z = vae.reparameterize(mu, logvar)
    assert np.allclose(z.mean(axis=0), [1.0, -2.0], atol=0.02)
    assert np.allclose(z.std(axis=0), [0.5, 0.5], atol=0.02)
    assert np.array_equal(vae.reparameterize(mu[:3], np.full((3, 2), -200.0, np.float32)), mu[:3])


def test_bounds_and_scores(vae):
    x = patterns(16)[0]
    mean_elbo = np.mean([vae.elbo(x) for _ in range(400)], axis=0)  # E_q[ELBO], one draw per call
    assert np.all(mean_elbo < 0)
    assert vae.iwae(x, 200).mean() > mean_elbo.mean() + 0.1  # the importance-weighted bound is tighter
    scores = vae.score(x, m=400, kind="neg_elbo")  # the negative ELBO averaged over m draws
    assert np.allclose(scores, -mean_elbo, rtol=0.1) and scores.mean() == pytest.approx(-mean_elbo.mean(), rel=0.02)


def test_anomalies_score_higher(vae):
    normal = patterns(64)[0]
    odd = patterns(64, seed=99)[0]  # other prototypes
    assert vae.score(odd, kind="neg_elbo").mean() > vae.score(normal, kind="neg_elbo").mean() + 5


def test_samples_are_probabilities(vae):
    samples = vae.sample(32)
    assert np.all((samples >= 0) & (samples <= 1))


def test_set_lr(vae):
    vae.set_lr(0.5)
    assert vae.config["lr"] == 0.5
    with pytest.raises(genmodel.InvalidArgumentError, match="lr > 0"):
        vae.set_lr(0)


def test_gaussian_likelihood_takes_any_real():
    with genmodel.VAE(**dict(TINY_VAE, likelihood="gaussian", lr=1e-2)) as vae:
        x = patterns(64)[0] * 6 - 3
        history = vae.fit(x, 10, batch_size=16)
        assert history[-1].loss < 0.7 * history[0].loss


def test_walks():
    """interpolate: ends are the reconstructions; manifold: the quantile
    lattice decoded, z_1 to the right and z_2 upwards."""
    with genmodel.VAE(input_dim=16, latent_dim=2, enc_hidden=(8,), dec_hidden=(8,), seed=1) as vae:
        a, b = np.random.default_rng(0).random((2, 3, 16), dtype=np.float32)
        walk = vae.interpolate(a, b, steps=4)
        assert walk.shape == (3, 4, 16)
        np.testing.assert_array_equal(walk[:, 0], vae.reconstruct(a))
        np.testing.assert_array_equal(walk[:, -1], vae.reconstruct(b))
        grid = vae.manifold(3)
        q = np.array([-0.9674215661017010, 0.0, 0.9674215661017010], np.float32)
        z = np.array([[q[c], q[2 - r]] for r in range(3) for c in range(3)], np.float32)
        np.testing.assert_array_equal(grid, vae.decode(z))
        with pytest.raises(ValueError, match="steps"):
            vae.interpolate(a, b, steps=1)
    with genmodel.VAE(input_dim=16, latent_dim=3, enc_hidden=(8,), dec_hidden=(8,)) as vae3:
        with pytest.raises(ValueError, match="2-D latent"):
            vae3.manifold(3)


def test_score_kinds():
    """score(kind=...) is gm_vae_score_as: neg_elbo is the old score, iwae
    the negated IWAE bound over the same draws, reconstruction
    deterministic, and complexity subtracts a positive length."""
    x = np.random.default_rng(2).random((5, 16), dtype=np.float32)
    made = [genmodel.VAE(**TINY_VAE) for _ in range(4)]
    try:
        a, b, c, d = made
        np.testing.assert_array_equal(a.score(x, 3, kind="iwae"), -b.iwae(x, 3))
        np.testing.assert_array_equal(c.score(x, 3, kind="neg_elbo"), d.score(x, 3, kind="neg_elbo"))
        r = a.score(x, kind="reconstruction")
        np.testing.assert_array_equal(r, a.score(x, kind="reconstruction"))
        # c and d drew alike so far: the same draws, less a positive length
        assert np.all(c.score(x, 3, kind="complexity") < d.score(x, 3, kind="iwae"))
        np.testing.assert_allclose(a.anomaly_map(x).sum(1, dtype=np.float64), r, rtol=1e-5)
        with pytest.raises(ValueError, match="fit it first"):
            a.score(x, kind="latent")
        with pytest.raises(ValueError, match="fit them first"):
            a.score(x)  # the default, latent_knn
        with pytest.raises(ValueError, match="kind"):
            a.score(x, kind="mahalanobis")
    finally:
        for m in made:
            m.close()


def test_scoring():
    """fit_latent keeps mu's mean and covariance: the latent score is the
    squared Mahalanobis distance numpy computes from the posterior means,
    and it survives a save and a load."""
    rng = np.random.default_rng(4)
    x = rng.random((200, 16), dtype=np.float32)
    with genmodel.VAE(**TINY_VAE) as vae:
        vae.fit(x, 2, batch_size=50)
        vae.fit_latent(x)
        mu = vae.encode(x)[0].astype(np.float64)
        cov = np.cov(mu, rowvar=False)
        cov += np.eye(len(cov)) * (1e-6 * np.trace(cov) / len(cov) + 1e-12)
        d = mu[:10] - mu.mean(0)
        want = np.einsum("ij,jk,ik->i", d, np.linalg.inv(cov), d)
        got = vae.score(x[:10], kind="latent")
        np.testing.assert_allclose(got, want, rtol=1e-4)
        # latent_knn: the mean Mahalanobis distance to the 10 nearest training means
        pairwise = mu[:10, None, :] - mu[None, :, :]
        dist = np.sqrt(np.einsum("abj,jk,abk->ab", pairwise, np.linalg.inv(cov), pairwise))
        knn = vae.score(x[:10])
        np.testing.assert_allclose(knn, np.sort(dist, axis=1)[:, :10].mean(1), rtol=1e-4)
        blob = vae.to_bytes()
    with genmodel.load(blob) as again:
        np.testing.assert_array_equal(again.score(x[:10], kind="latent"), got)
        np.testing.assert_array_equal(again.score(x[:10]), knn)


def test_calibrated_flags(tmp_path):
    """calibrate keeps the threshold that flags fpr of the held-out rows;
    flag gives scores, p-values that fall as scores rise (no lower than
    1 / (held-out + 1)) and flags, and a saved model keeps all of it."""
    rng = np.random.default_rng(6)
    held_out = rng.random((400, 16), dtype=np.float32)
    with genmodel.VAE(**TINY_VAE) as vae:
        with pytest.raises(ValueError, match="calibrate"):
            vae.flag(held_out)
        vae.calibrate(held_out, fpr=0.1, kind="reconstruction")
        scores, p, flags = vae.flag(held_out)
        np.testing.assert_array_equal(scores, vae.score(held_out, kind="reconstruction"))
        assert abs(flags.mean() - 0.1) <= 1 / 400
        order = np.argsort(scores)
        assert np.all(np.diff(p[order]) <= 1e-12) and p.min() >= 1 / 401 - 1e-12
        assert abs((p <= 0.1).mean() - 0.1) <= 0.01
        vae.save(tmp_path / "m.safetensors")
    with genmodel.VAE.load(tmp_path / "m.safetensors") as again:
        s2, p2, f2 = again.flag(held_out)
        np.testing.assert_array_equal(s2, scores)
        np.testing.assert_array_equal(p2, p)
        np.testing.assert_array_equal(f2, flags)


def test_table_workflow_in_python():
    """A table on its own scales, end to end in Python: fit() standardizes
    and fits the latent scores, calibrate() at 5% on held-out rows, flag()
    the new ones: the rows off the training data's pattern are flagged,
    few of the others; reconstructions come back in the table's units."""
    rng = np.random.default_rng(7)
    x, held, new = table(rng, 400), table(rng, 200), np.vstack([table(rng, 100), table(rng, 100, shift=1.0)])
    with genmodel.VAE(input_dim=4, latent_dim=2, enc_hidden=(16,), dec_hidden=(16,), likelihood="gaussian",
                      standardize=1, seed=1) as vae:
        vae.fit(x, 30, batch_size=32)
        vae.calibrate(held, fpr=0.05, kind="reconstruction")
        _, p, flags = vae.flag(new)
        assert flags[:100].mean() <= 0.15 and flags[100:].mean() >= 0.8, (flags[:100].mean(), flags[100:].mean())
        assert np.all(p[100:][flags[100:]] <= 0.05 + 1e-9)
        back = vae.reconstruct(x[:50])
        assert (np.abs(back - x[:50]).mean(0) < x.std(0)).all()
        with pytest.raises(ValueError, match="trained"):
            vae.fit_standardization(x)

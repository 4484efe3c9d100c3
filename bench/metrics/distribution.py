"""Statistics between two sets of network features: the Fréchet distance (FID, FVD) and the
kernel inception distance (KID, by piq).

The Fréchet distance needs Tr sqrt(S_a S_b). piq (like pytorch-fid) takes a D x D matrix square root
(Newton-Schulz, 100 iterations of 2048^3 products: about 15 s per call on two CPU cores). With N
samples and centred features A, B (scaled by 1/sqrt(N-1)), S_a S_b = A^T A B^T B has the same
non-zero eigenvalues as (A B^T)(A B^T)^T, so Tr sqrt(S_a S_b) is exactly the nuclear norm of the
N_a x N_b matrix A B^T. When N is below D (always, for the samples one sequence gives) that is a
small SVD; otherwise the symmetric form sqrt(S_a) S_b sqrt(S_a) is used. Both are exact; a test
checks them against piq."""
from __future__ import annotations

import numpy as np
import torch


def frechet_distance(a: np.ndarray, b: np.ndarray) -> tuple[float, str | None]:
    """Fréchet distance between Gaussians fitted to feature sets ``a`` and ``b`` (N, D), by
    ``piq.FID().compute_metric`` (unbiased covariance, Newton-Schulz square root). With a single
    sample per side there is no covariance: the distance is then ||mu_a - mu_b||^2 and the second
    value says so."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    d = a.mean(0) - b.mean(0)
    if len(a) < 2 or len(b) < 2:
        return float(d @ d), "a single sample per side: covariance term omitted (mean term only)"
    ca = (a - a.mean(0)) / np.sqrt(len(a) - 1)
    cb = (b - b.mean(0)) / np.sqrt(len(b) - 1)
    tr_a, tr_b = float((ca * ca).sum()), float((cb * cb).sum())
    if min(len(a), len(b)) <= a.shape[1]:
        tr_sqrt = float(np.linalg.svd(ca @ cb.T, compute_uv=False).sum())
    else:
        w, v = np.linalg.eigh(ca.T @ ca)
        root_a = (v * np.sqrt(np.clip(w, 0, None))) @ v.T
        m = root_a @ (cb.T @ cb) @ root_a
        tr_sqrt = float(np.sqrt(np.clip(np.linalg.eigvalsh((m + m.T) / 2), 0, None)).sum())
    return max(float(d @ d) + tr_a + tr_b - 2 * tr_sqrt, 0.0), None


def kernel_distance(a: np.ndarray, b: np.ndarray, subset_size: int = 1000, subsets: int = 100) -> tuple[float, str | None]:
    """KID (Bińkowski et al. 2018): unbiased MMD^2 with the cubic polynomial kernel, averaged over
    random subsets (``piq.KID``; subsets of min(1000, N) samples)."""
    import piq

    n = min(len(a), len(b))
    if n < 2:
        return float("nan"), "KID needs at least 2 samples per side"
    torch.manual_seed(0)  # piq draws the subsets with torch's generator: make KID reproducible
    kid = piq.KID(subset_size=min(subset_size, n), n_subsets=subsets, ret_var=False)
    return float(kid.compute_metric(torch.from_numpy(a).double(), torch.from_numpy(b).double())), None

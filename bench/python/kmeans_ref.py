"""Reference k-means for the cluster benchmark: scipy.cluster.vq.kmeans2 (minit='++', default
iter=10), best of R restarts by inertia, on a float64 row-major file written by the suite.

usage: kmeans_ref.py DATA ROWS COLUMNS K SEED RESTARTS [REPEATS]
prints one JSON object: labels, inertia, ms (restarts + inertia, not loading; the median over
REPEATS timed runs on the same seed, default 1), peak_rss_delta_kb.
"""
import json
import resource
import sys
import time

import numpy as np
from scipy.cluster.vq import kmeans2


def rss_kb():
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize() // 1024


def main():
    path, rows, columns, k, seed, restarts = sys.argv[1:7]
    rows, columns, k, seed, restarts = int(rows), int(columns), int(k), int(seed), int(restarts)
    repeats = int(sys.argv[7]) if len(sys.argv) > 7 else 1
    data = np.fromfile(path, dtype="<f8").reshape(rows, columns)
    before = rss_kb()
    timings = []
    for _ in range(repeats):
        rng = np.random.default_rng(seed)
        started = time.perf_counter()
        best_inertia, best_labels = np.inf, None
        for _ in range(restarts):
            centroids, labels = kmeans2(data, k, minit="++", rng=rng)
            inertia = float(((data - centroids[labels]) ** 2).sum())
            if inertia < best_inertia:
                best_inertia, best_labels = inertia, labels
        timings.append((time.perf_counter() - started) * 1000)
    elapsed = sorted(timings)[len(timings) // 2]
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({
        "labels": best_labels.tolist(),
        "inertia": best_inertia,
        "ms": elapsed,
        "peak_rss_delta_kb": max(0, peak - before),
    }))


if __name__ == "__main__":
    main()

"""scipy.stats.bootstrap side of `npm run bench -- bootstrap`.

Usage: python3 bootstrap_ref.py JOB.json   (prints one JSON object on stdout)

JOB is {"mode": ..., "data": "file of little-endian float64", "rows": R, "cols": C, ...}:
  mode "time":     one bootstrap of the mean (vectorized) of a vector; reports seconds, the
                   interval and peak RSS.  Fields: method, resamples, batch, seed.
  mode "interval": intervals for several vectors (percentile and BCa).  Fields: resamples, seed, level.
  mode "coverage": BCa intervals for R datasets of C values at once (axis=-1); reports how many
                   cover `truth`.  Fields: resamples, batch, seed, level, truth.
"""
import json
import resource
import sys
import time

import numpy as np
from scipy import stats


def mean(x, axis=-1):
    return np.mean(x, axis=axis)


def main():
    job = json.load(open(sys.argv[1]))
    data = np.fromfile(job["data"], dtype="<f8").reshape(job["rows"], job["cols"])
    rng = np.random.default_rng(job.get("seed", 1))
    mode = job["mode"]
    if mode == "time":
        x = data[0]
        start = time.perf_counter()
        res = stats.bootstrap((x,), mean, vectorized=True, n_resamples=job["resamples"], method=job["method"],
                              batch=job.get("batch"), rng=rng)
        seconds = time.perf_counter() - start
        ci = res.confidence_interval
        out = {"seconds": seconds, "low": float(ci.low), "high": float(ci.high),
               "maxRssMb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    elif mode == "interval":
        out = {"intervals": []}
        for row in data:
            row = row[~np.isnan(row)]
            entry = {}
            for method in ("percentile", "bca"):
                res = stats.bootstrap((row,), mean, vectorized=True, n_resamples=job["resamples"], method=method,
                                      confidence_level=job["level"], batch=job.get("batch"), rng=rng)
                entry[method] = [float(res.confidence_interval.low), float(res.confidence_interval.high)]
            out["intervals"].append(entry)
    elif mode == "coverage":
        start = time.perf_counter()
        res = stats.bootstrap((data,), mean, vectorized=True, axis=-1, n_resamples=job["resamples"], method="bca",
                              confidence_level=job["level"], batch=job.get("batch"), rng=rng)
        low, high = res.confidence_interval
        truth = job["truth"]
        out = {"covered": int(np.sum((low <= truth) & (truth <= high))), "replications": int(data.shape[0]),
               "seconds": time.perf_counter() - start}
    else:
        raise SystemExit(f"unknown mode {mode}")
    print(json.dumps(out))


if __name__ == "__main__":
    main()

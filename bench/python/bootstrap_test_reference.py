"""Reference intervals for packages/engine/test/stats/scipyReference.ts.

Run `python3 bench/python/bootstrap_test_reference.py > ref.json`: prints the data (numpy
default_rng(20240607), rounded to 4 decimals) and scipy.stats.bootstrap intervals at 199,999
resamples for every statistic, method and level the tests check; the jackknife accelerations
from scipy's `_bca_interval` go to stderr. The test file holds these values as literals.
"""
import numpy as np, json
from scipy import stats
rng = np.random.default_rng(20240607)
r4 = lambda a: [round(float(v), 4) for v in a]
data = {
  "skewed": r4(rng.lognormal(0, 0.8, 40)),
  "weightsX": r4(rng.normal(0.7, 0.15, 30)),
  "weights": [float(v) for v in rng.integers(1, 4, 30)],
  "pairedX": r4(rng.beta(5, 2, 40)),
}
data["pairedY"] = r4(np.clip(np.array(data["pairedX"]) + rng.normal(0.04, 0.08, 40), 0, 1))
data["indepX"] = r4(rng.normal(0.6, 0.2, 30))
data["indepY"] = r4(rng.gamma(3, 0.25, 45))
D = {k: np.array(v) for k, v in data.items()}
cases = {
  "mean": ((D["skewed"],), lambda x, axis: np.mean(x, axis=axis), False),
  "weighted_mean": ((D["weightsX"], D["weights"]), lambda x, w, axis: np.sum(w * x, axis=axis) / np.sum(w, axis=axis), True),
  "mean_diff_paired": ((D["pairedX"], D["pairedY"]), lambda x, y, axis: np.mean(y - x, axis=axis), True),
  "mean_diff_independent": ((D["indepX"], D["indepY"]), lambda x, y, axis: np.mean(y, axis=axis) - np.mean(x, axis=axis), False),
  "ratio_of_means_paired": ((D["pairedX"], D["pairedY"]), lambda x, y, axis: np.mean(y, axis=axis) / np.mean(x, axis=axis), True),
  "ratio_of_means_independent": ((D["indepX"], D["indepY"]), lambda x, y, axis: np.mean(y, axis=axis) / np.mean(x, axis=axis), False),
}
out = {}
for name, (samples, stat, paired) in cases.items():
  for method in ["percentile", "basic", "bca"]:
    for level in [0.95, 0.8]:
      res = stats.bootstrap(samples, stat, paired=paired, vectorized=True, n_resamples=199999, method=method, confidence_level=level, rng=np.random.default_rng(1), batch=20000)
      out[f"{name}/{method}/{level}"] = [float(res.confidence_interval.low), float(res.confidence_interval.high)]
print(json.dumps({"data": data, "reference": out}))
from scipy.stats._resampling import _bca_interval
import sys
acc = {}
for name, (samples, stat, paired) in cases.items():
  if paired:
    n = len(samples[0])
    data_ = (np.arange(n),)
    st = lambda i, axis=-1, samples=samples, stat=stat: stat(*[s[i] for s in samples], axis=axis)
  else:
    data_, st = samples, stat
  a = _bca_interval(data_, st, axis=-1, alpha=0.025, theta_hat_b=np.zeros((1,)) + 1.0, batch=None, xp=np)[2]
  acc[name] = float(a)
print(json.dumps(acc), file=sys.stderr)

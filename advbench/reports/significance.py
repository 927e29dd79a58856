"""Intervals and bold marks of a run folder's table cells, from its stored scores (``advbench.runs.intervals``).

``FolderStats`` holds a folder's scores and draws every cell's bootstrap replicates from them:
per seed, the cell's AUC on the drawn images (the normal test set against an attack's images,
or a class's test images against the other classes'), then the mean over the drawn seeds. The
paired and matched AUCs need each adversarial image's clean source (``source_index``, the
``pairing``: from the data file, or derived where the attack kept every test image,
``report.source_indices``); a column without it keeps mean ± std and bolds its best mean, and the
footnote says which and why. The figures of ``advbench.runs.detection_metrics`` other than AUROC
(named as there: ``fpr95``, ...) are resampled like the unpaired AUC, on the same images, with
their ``weighted`` form. Each seed's replicates at unit weights are checked against the
stored AUC, so scores that do not belong to their results line (or give no number) stop the
rendering (DataError).

``check_resamples`` refuses a bootstrap of fewer resamples than the intervals and the tests need
(``intervals.resamples_for_interval`` and ``resamples_for_test`` over the comparisons of a group
of the folder's rows): too few give an interval that may exclude its mean and bold every cell.

``annotate`` gives every cell of a table its interval and decides the bold marks per group of
cells (a column of a GTSRB table, a normal class of an MNIST one): the best mean, and every cell
whose paired test against it is not significant at ``ALPHA`` after Holm's correction over the
group. A cell with fewer seeds than the table is never bold nor tested (its mean is over other
seeds), nor is one whose mean is not a number (``Cell.comparable``), and a group with fewer than
two comparable cells has no bold mark.
"""

from __future__ import annotations

import hashlib

import numpy as np

from advbench.datasets.protocols import CLEAN_TEST
from advbench.errors import AdvbenchError, DataError
from advbench.runs import detection_metrics, intervals

#: The numbers that a results line stores; the other metrics are computed from the scores.
STORED = ("auc", "paired_auc", "matched_auc")
#: The detection metrics resampled here (AUROC is the unpaired AUC, ``auc``).
DETECTION = tuple(name for name in detection_metrics.NAMES if name != "auroc")
#: Tolerance of the check of a seed's unweighted AUC against its results line.
_TOLERANCE = 1e-9


def summary(ci: bool) -> str:
    """What a cell shows, for a caption."""
    if ci:
        return f"mean over seeds [{100 * intervals.LEVEL:.0f}% interval]"
    return "mean and sample standard deviation over seeds"


def footnote(
    bootstrap: intervals.Bootstrap, ci: bool, bold: bool = False, untested: tuple = (), within: str = "column"
) -> str:
    """The note under a table: what its intervals are (with ``ci``) and, for a table with ``bold``
    marks, what they mean per ``within`` (a column or row); ``untested``: the columns (labels)
    without a pairing, which have neither intervals nor a test."""
    plan = f"{bootstrap.resamples} resamples, bootstrap seed {bootstrap.seed}"
    notes = [f"[low, high]: {100 * intervals.LEVEL:.0f}% {intervals.METHOD}, {plan}."] if ci else []
    if bold:
        notes.append(
            f"Bold: the best mean of the {within} and every detector not significantly worse at the "
            f"{100 * intervals.ALPHA:.0f}% level by a {intervals.TEST.replace('column', within)}"
            + ("." if ci else f" ({plan}).")
        )
    if untested:
        notes.append(
            f"{', '.join(untested)}: no interval nor test, the best mean in bold (the data file that pairs each "
            "adversarial image with its clean source was not found; give it with --data)."
        )
    return " ".join(notes)


def fewest_resamples(rows: int) -> int:
    """The fewest resamples with which the percentile intervals exist and a column of ``rows`` cells
    (``rows - 1`` comparisons with its best) can hold a significant difference."""
    return max(intervals.resamples_for_interval(), intervals.resamples_for_test(rows - 1))


def check_resamples(bootstrap: intervals.Bootstrap, rows: int) -> None:
    """AdvbenchError naming ``--resamples`` when ``bootstrap`` has fewer resamples than
    ``fewest_resamples(rows)``, saying which need sets the minimum."""
    for_interval = intervals.resamples_for_interval()
    for_test = intervals.resamples_for_test(rows - 1)
    fewest = fewest_resamples(rows)
    if bootstrap.resamples < fewest:
        raise AdvbenchError(
            f"--resamples {bootstrap.resamples}: too few, this folder needs at least {fewest}: a "
            f"{100 * intervals.LEVEL:g}% percentile interval needs {for_interval} (an order statistic beyond each "
            f"end) and a {100 * intervals.ALPHA:g}% test over a column of {rows} rows {for_test} (the smallest "
            f"p-value, 1/(resamples + 1), times the {rows - 1} comparison(s) of Holm's correction must fall "
            f"below {intervals.ALPHA:g}, else every cell is bold)"
        )


def _paired(own_sources, adversarial, weights, _same) -> np.ndarray:
    """``weighted_paired_auc`` with ``weighted_auc``'s arguments (the pairs' weights given twice)."""
    return intervals.weighted_paired_auc(adversarial, own_sources, weights)


def _digest(*arrays) -> str:
    digest = hashlib.sha256()
    for array in arrays:
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()


class FolderStats:
    """Bootstrap replicates of a folder's cells (see the module docstring).

    ``scores``: ``{row: {(seed, normal class or None): read_scores(...)}}`` for every row name (a
    detector or one of its score variants); ``pairing``: ``{attack: source_index}`` of the attacks
    whose pairing is known (``report.source_indices``); ``records``: the folder's result lines, for the
    check and the seeds of a cell.
    """

    def __init__(self, scores: dict, records: list[dict], seeds: list[int], bootstrap, pairing=None, by_class=False):
        self.scores, self.seeds, self.bootstrap, self.pairing = scores, list(seeds), bootstrap, pairing or {}
        self.by_class = by_class
        self.seed_counts = bootstrap.seed_counts(self.seeds)
        self.stored = {}
        for record in records:
            if record["error"] is None:
                key = (record["detector"], record["attack"], self._class(record))
                self.stored.setdefault(key, {})[int(record["seed"])] = record
        self._universes: dict[str, np.ndarray] = {}
        self._weights: dict[tuple, np.ndarray] = {}
        self._per_seed: dict[tuple, np.ndarray] = {}

    def _class(self, record: dict) -> int | None:
        return int(record["normal_class"]) if self.by_class else None

    def untested(self, metric: str, attacks: list[str]) -> list[str]:
        """The ``attacks`` whose ``metric`` cannot be resampled: for the paired and matched AUCs,
        those whose pairing is unknown."""
        if metric not in ("paired_auc", "matched_auc"):
            return []
        return [attack for attack in attacks if attack not in self.pairing]

    # -- the image sets ------------------------------------------------------------------------
    @staticmethod
    def _rows(found: dict, pool: str) -> np.ndarray | None:
        """The rows of one seed's image set ``pool`` (``normal_test`` or ``attack:<name>``; None when
        the seed has no such set): the stored rows where the protocol has them, else ``0..n-1``."""
        if pool == "normal_test":
            return found.get("test_rows", np.arange(len(found["normal_test"])))
        values = found["attacks"].get(pool.removeprefix("attack:"))
        return None if values is None else found.get("anomaly_rows", np.arange(len(values)))

    def _pool(self, name: str, normal_class) -> str:
        return name if normal_class is None else f"class-{normal_class}:{name}"

    def _image_weights(self, name: str, normal_class, rows: np.ndarray) -> np.ndarray:
        """How often each of ``rows`` is drawn, per replicate; the pool's images are the rows of
        every seed (one draw per pool, shared by every seed and row that uses it)."""
        pool = self._pool(name, normal_class)
        if pool not in self._universes:
            every = [
                self._rows(scores, name)
                for by_seed in self.scores.values()
                for (_, c), scores in by_seed.items()
                if c == normal_class
            ]
            self._universes[pool] = np.unique(np.concatenate([rows for rows in every if rows is not None]))
        key = (pool, _digest(rows))
        if key not in self._weights:
            self._weights[key] = self.bootstrap.image_counts(pool, self._universes[pool], rows)
        return self._weights[key]

    # -- one seed ------------------------------------------------------------------------------
    def _seed_replicates(
        self, row: str, attack: str, metric: str, seed: int, normal_class, check: bool = False
    ) -> np.ndarray:
        """One seed's ``metric`` per replicate (with ``check``: once, on every image once)."""
        found = self.scores[row][seed, normal_class]
        negatives, adversarial = found["normal_test"], found["attacks"][attack]
        if metric not in ("paired_auc", "matched_auc"):  # the unpaired AUC and the detection metrics
            arrays, pools = (negatives, adversarial), ("normal_test", f"attack:{attack}")
        else:  # the attack's sources: the official test images (scored as clean-test under heldout-train)
            own = found["attacks"].get(CLEAN_TEST, negatives)[self.pairing[attack]]
            arrays, pools = (own, adversarial), (f"attack:{attack}", f"attack:{attack}")
        compute = _paired if metric == "paired_auc" else intervals.weighted_auc
        weights = None if check else [self._image_weights(p, normal_class, self._rows(found, p)) for p in pools]
        if weights is None:  # the check: every image once
            return compute(*arrays, *(np.ones((1, len(array))) for array in arrays))[:1]
        key = (attack, _digest(*arrays), *map(id, weights))  # weights: one cached array per image set
        if (metric, *key) not in self._per_seed:  # a detector that ignores the seed is resampled once
            if metric in STORED:
                self._per_seed[metric, *key] = compute(*arrays, *weights)
            else:  # every detection metric at once, from one curve
                for name, values in detection_metrics.weighted(*arrays, *weights, names=DETECTION).items():
                    self._per_seed[name, *key] = values
        return self._per_seed[metric, *key]

    def check(self) -> None:
        """DataError naming the first results line whose AUCs its stored scores (and the data file's
        pairing) do not give: run before anything is written."""
        for (row, attack, normal_class), by_seed in self.stored.items():
            for seed, record in by_seed.items():
                for metric in ("auc", "paired_auc", "matched_auc"):
                    if record.get(metric) is None or self.untested(metric, [attack]):
                        continue
                    value = float(self._seed_replicates(row, attack, metric, seed, normal_class, check=True)[0])
                    if not abs(value - record[metric]) <= _TOLERANCE:  # NaN differs too
                        raise DataError(
                            f"{row}, seed {seed}, {attack}: its stored scores give {metric} {value:.6f}, its results "
                            f"line {record[metric]:.6f}; the scores or the data file do not belong to the results"
                        )

    # -- cells ---------------------------------------------------------------------------------
    def _seeds_of(self, row: str, attack: str, metric: str, normal_class) -> list[int]:
        """The seeds whose results line has ``metric`` (a detection metric: the unpaired AUC, whose scores it reads)."""
        stored = metric if metric in STORED else "auc"
        by_seed = self.stored.get((row, attack, normal_class), {})
        return [seed for seed in self.seeds if seed in by_seed and by_seed[seed].get(stored) is not None]

    def of(self, metric: str):
        """``replicates`` of one (row, attack) cell of ``metric``, as ``annotate_table`` takes it."""
        return lambda row, attack: self.replicates(row, [(attack, None)], metric)

    def replicates(self, row: str, parts: list[tuple[str, int | None]], metric: str) -> np.ndarray | None:
        """The replicates of ``row``'s mean over seeds of its mean AUC over ``parts`` ((attack, normal
        class) pairs: one for a plain cell, several for a mean over attacks or classes), over the
        seeds that hold every part; None when none does or the metric cannot be resampled."""
        if self.untested(metric, [attack for attack, _ in parts]):
            return None
        if row not in self.scores:
            return None
        seeds = set(self.seeds)
        for attack, normal_class in parts:
            seeds &= set(self._seeds_of(row, attack, metric, normal_class))
        if not seeds:
            return None
        per_seed = {
            seed: np.mean([self._seed_replicates(row, a, metric, seed, c) for a, c in parts], axis=0)
            for seed in sorted(seeds)
        }
        return intervals.mean_over_seeds(per_seed, self.seed_counts, self.seeds)

    def seedwise(self, row: str, attack_of_seed: dict[int, str], metric: str = "auc") -> np.ndarray | None:
        """The replicates of ``row``'s mean over seeds when each seed has its own attack set
        (``{seed: attack}``, e.g. a set made against the detector fitted with that seed); None when
        the row has no scores, no seed is given or the metric cannot be resampled."""
        if row not in self.scores or not attack_of_seed or self.untested(metric, list(attack_of_seed.values())):
            return None
        per_seed = {seed: self._seed_replicates(row, a, metric, seed, None) for seed, a in attack_of_seed.items()}
        return intervals.mean_over_seeds(per_seed, self.seed_counts, self.seeds)


def annotate(groups: dict, test: bool = True, lower_is_better: bool = False) -> None:
    """Give each cell its interval and, with ``test``, bold marks per group (``{group: {row: (cell,
    replicates or None)}}``, see the module docstring): a group whose complete cells all have
    replicates is tested, any other is bolded by its best mean; the best is the lowest mean with
    ``lower_is_better`` (a false-positive rate), the test then one-sided the other way."""
    sign = -1.0 if lower_is_better else 1.0
    for members in groups.values():
        for cell, found in members.values():
            if found is not None and cell.values:
                cell.interval = intervals.interval(found)
        complete = {row: (cell, found) for row, (cell, found) in members.items() if cell.comparable}
        if not test:
            continue
        for cell, _ in members.values():
            cell.bold = False
        if len(complete) < 2:  # the best of one says nothing
            continue
        best = max(complete, key=lambda row: sign * complete[row][0].mean)
        tested = all(found is not None for _, found in complete.values())
        others = [row for row in complete if row != best]
        if tested:
            p = [intervals.worse_p_value(sign * complete[best][1], sign * complete[r][1]) for r in others]
            adjusted = intervals.holm(p)
            for row, p in zip(others, adjusted, strict=True):
                complete[row][0].p_value = p
        top = round(100 * complete[best][0].mean, 1)
        for row, (cell, _) in complete.items():
            cell.bold = (row == best or cell.p_value >= intervals.ALPHA) if tested else round(100 * cell.mean, 1) == top


def annotate_table(
    cells: dict, rows: list[str], columns: list, replicates, test: bool = True, lower_is_better: bool = False
) -> None:
    """``annotate`` the cells ``{(row, column): Cell}`` of a table, grouped by column;
    ``replicates(row, column)`` gives a cell's replicates (or None)."""
    annotate({c: {r: (cells[r, c], replicates(r, c)) for r in rows} for c in columns}, test, lower_is_better)

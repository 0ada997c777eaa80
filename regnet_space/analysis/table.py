"""The population table: one row per sampled (and possibly trained) model.

Every producer (``regnet-space sweep``, the Optuna and NNI exports, the benchmark harness) writes
this table with :func:`write_population`, and every consumer (analysis, plots, the report, the
search benchmark) reads it with :func:`read_population`. CSV is the default format; ``.parquet``
works when ``pyarrow`` is installed (the ``all`` extra installs it).

Columns (the contract):

============  ==========  ==========================================================================
column        type        meaning
============  ==========  ==========================================================================
``space``     str         design-space name as in the registry (``regnetx``, ``anynetx_a``, ...)
``config``    str         the decoded :class:`~regnet_space.config.NetConfig` as JSON
``flops``     int         multiply-adds at the config's resolution (pycls convention)
``params``    int         parameters
``acts``      int         activations
``error``     float       top-1 error as a fraction (0..1); NaN where ``status`` is not ``ok``
``status``    str         ``ok`` (trained, error valid), ``infeasible`` (rejected by a constraint or
                          budget, not trained), ``failed`` (training crashed or diverged),
                          ``pruned`` (stopped early; its error is not comparable)
<params>      number      one column per sampled parameter, named exactly as the space's
                          :class:`~regnet_space.spaces.Param` (``d, w0, wa, wm, b, g`` for RegNet;
                          ``d1, w1, b1, g1, ..., d4, w4, b4, g4`` for AnyNetX_A, ``b``/``g`` when
                          shared). Populations of different spaces have different columns.
``val_error`` float       (optional) the validation error the search ranked by, when the recipe has
                          a validation split (then ``error`` is the test error, scored once)
``error_sd``  float       (optional) sample sd of ``error`` over ``seeds`` training seeds (K > 1;
                          ``error`` is then their mean); ``val_error_sd`` likewise
(optional)    any         metadata, e.g. ``trial``, ``seed``, ``epochs``, ``dataset``, ``time_s``,
                          ``sampler``, and the provenance columns (``package_version``, ``git_commit``,
                          ``torch_version``, ``recipe``, ``cpu_capability``, ``device_name``);
                          listed in :data:`META_COLUMNS` when known. Never reuse a
                          parameter name for metadata.
============  ==========  ==========================================================================

Only ``status == "ok"`` rows enter the statistics (EDFs, bootstrap, efficiency); the others are
counted and reported separately.

Example:
    >>> import pandas as pd
    >>> from regnet_space.spaces import get_space
    >>> df = from_samples("regnetx", get_space("regnetx").sample(3, seed=0), error=[.30, .31, .32])
    >>> list(df.columns[:7]) == list(POPULATION_COLUMNS)
    True
    >>> param_columns(df)
    ['d', 'w0', 'wa', 'wm', 'b', 'g']
    >>> len(configs(df))
    3
"""

from __future__ import annotations

import zlib
from os import PathLike
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from ..config import NetConfig
from ..errors import ConfigError, DataNotFoundError
from ..files import atomic_write

#: The fixed columns, in the order :func:`write_population` writes them.
POPULATION_COLUMNS: tuple[str, ...] = ("space", "config", "flops", "params", "acts", "error", "status")
#: What :func:`read_population` insists on by default (all fixed columns).
REQUIRED_COLUMNS: tuple[str, ...] = POPULATION_COLUMNS
#: Allowed ``status`` values.
STATUSES: tuple[str, ...] = ("ok", "infeasible", "failed", "pruned")
#: Known metadata columns (never treated as sampled parameters).
META_COLUMNS: tuple[str, ...] = (
    "trial", "trial_id", "number", "id", "seed", "epochs", "dataset", "time_s", "train_time_s",
    "sampler", "study", "worker", "source", "label", "loss", "train_error", "lr", "wd",
    "batch_size", "resolution", "datetime", "e_fit", "message", "gpu", "device", "feasible",
    "value", "parameter_id", "trial_job_id", "job_id", "consistent", "experiment",
    # provenance (regnet_space.training.provenance.FIELDS)
    "package_version", "git_commit", "torch_version", "recipe", "cpu_capability", "onednn_isa",
    "device_name",
    # the validation error a search ranked by, and several seeds' spread (``--seeds K``)
    "val_error", "test_error", "error_sd", "val_error_sd", "seeds", "train_seed",
)
SUFFIXES = (".csv", ".csv.gz", ".parquet")


def error_columns(value: Any, fields: Mapping[str, Any]) -> dict:
    """The error columns of one trained row from its evaluator's fields (an ``EvalResult`` as a
    dict, or the NNI trial's final result): ``error`` is ``value`` (what the search ranked by),
    or the test error scored once when the recipe had a validation split (then ``val_error`` =
    ``value``); with several seeds also ``error_sd``/``val_error_sd`` and ``seeds``.

    Example:
        >>> error_columns(0.21, {"eval_split": "val", "test_error": 0.2, "seeds": 2,
        ...                      "test_error_sd": 0.004})
        {'error': 0.2, 'val_error': 0.21, 'error_sd': 0.004, 'seeds': 2}
    """
    out = {"error": value}
    if fields.get("eval_split") == "val" and fields.get("test_error") is not None:
        out = {"error": fields["test_error"], "val_error": value}
        if fields.get("val_error_sd") is not None:
            out["val_error_sd"] = fields["val_error_sd"]
        if fields.get("test_error_sd") is not None:
            out["error_sd"] = fields["test_error_sd"]
    elif fields.get("error_sd") is not None:
        out["error_sd"] = fields["error_sd"]
    if fields.get("seeds") is not None:
        out["seeds"] = int(fields["seeds"])
    return out


def _suffix(path: Path) -> str:
    name = path.name.lower()
    for s in SUFFIXES:
        if name.endswith(s):
            return s
    raise ConfigError(f"population file {str(path)!r}: unknown format; use a .csv, .csv.gz or "
                     f".parquet path")


def _need_pyarrow(path: Path, action: str) -> None:
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        raise ConfigError(f"{action} {str(path)!r} needs pyarrow, which is not installed "
                         f"(pip install pyarrow), or use a .csv path instead") from None


def _rows_text(rows: np.ndarray, values: np.ndarray, shown: int = 5) -> str:
    # 0-based data rows, as pandas counts them (header excluded)
    items = ", ".join(f"{int(r)} = {v:g}" for r, v in zip(rows[:shown], values[:shown]))
    return "data rows " + items + (f", ... ({rows.size - shown} more)" if rows.size > shown else "")


def _check_errors(err: np.ndarray, ok: np.ndarray, source: str) -> None:
    """Refuse errors that are not fractions: a percent or a sign slip would otherwise flow into
    every statistic and the search benchmark without a trace (rows are 0-based data rows)."""
    missing = np.flatnonzero(ok & ~np.isfinite(err))
    if missing.size:
        raise ConfigError(f"{source}: {missing.size} row(s) with status 'ok' have no finite error "
                         f"({_rows_text(missing, err[missing])}); mark them 'failed'")
    finite = np.isfinite(err)
    bad = np.flatnonzero(finite & ((err < 0) | (err > 1)))
    if bad.size:
        e = err[finite]
        # percents when every value fits 0..100 and most exceed 1 (one typo is not a unit slip)
        percents = e.min() >= 0 and e.max() <= 100 and np.mean(e > 1) >= 0.5
        hint = "; they look like percents: divide by 100" if percents else ""
        raise ConfigError(f"{source}: column 'error' must hold fractions in [0, 1]; {bad.size} "
                         f"row(s) outside: {_rows_text(bad, err[bad])}{hint}")


def validate(df: pd.DataFrame, required: Sequence[str] = REQUIRED_COLUMNS, *,
             source: str = "population") -> pd.DataFrame:
    """Check a population DataFrame and normalise its types; returns a new DataFrame.

    Raises ConfigError naming the missing columns, unknown status values, ``ok`` rows without a
    finite error, or errors outside [0, 1] (with the first offending rows; errors must be
    fractions, and a column of percents is named as such). Non-``ok`` rows may hold NaN.

    Example:
        >>> df = pd.DataFrame({"space": ["regnetx"] * 2, "config": ["{}"] * 2, "flops": [1, 1],
        ...                    "params": [1, 1], "acts": [1, 1], "error": [31.5, 0.4],
        ...                    "status": ["ok", "ok"]})
        >>> try:
        ...     validate(df)
        ... except ConfigError as e:
        ...     print(str(e).replace("; ", ";\\n"))
        population: column 'error' must hold fractions in [0, 1];
        1 row(s) outside: data rows 0 = 31.5;
        they look like percents: divide by 100
    """
    if not isinstance(df, pd.DataFrame):
        raise ConfigError(f"{source}: expected a pandas DataFrame, got {type(df).__name__}")
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise ConfigError(f"{source}: missing required column(s) {missing}; a population table "
                         f"needs {list(required)} (see docs/architecture.md, 'Population table')")
    df = df.copy()
    if "status" in df.columns:
        df["status"] = df["status"].astype(str).str.strip().str.lower()
        bad = sorted(set(df["status"]) - set(STATUSES))
        if bad:
            raise ConfigError(f"{source}: unknown status value(s) {bad}; allowed: {list(STATUSES)}")
    if "error" in df.columns:
        err = pd.to_numeric(df["error"], errors="coerce")
        if err.isna().sum() > df["error"].isna().sum():
            raise ConfigError(f"{source}: column 'error' has non-numeric values")
        df["error"] = err.astype(float)
        ok = df["status"].eq("ok") if "status" in df.columns else pd.Series(True, index=df.index)
        _check_errors(df["error"].to_numpy(), ok.to_numpy(), source)
    for c in ("flops", "params", "acts"):
        if c in df.columns:
            v = pd.to_numeric(df[c], errors="coerce")
            if v.isna().sum() > df[c].isna().sum():
                raise ConfigError(f"{source}: column {c!r} has non-numeric values")
            df[c] = v
    if "space" in df.columns:
        df["space"] = df["space"].astype(str)
    return df


def read_population(path_or_df: str | PathLike | pd.DataFrame,
                    required: Sequence[str] = REQUIRED_COLUMNS, *,
                    single: bool = False) -> pd.DataFrame:
    """Read (or validate) a population table from .csv / .csv.gz / .parquet or a DataFrame.

    Raises ConfigError for a missing or damaged file or (naming the missing columns) for
    a table that does not follow the contract. With ``single=True`` (what the analysis asks) a
    table that mixes design spaces or repeats a row exactly is refused too.

    Example:
        >>> df = pd.DataFrame({"space": ["regnetx"], "config": ["{}"], "flops": [1], "params": [1],
        ...                    "acts": [1], "error": [0.30], "status": ["OK"]})
        >>> read_population(df)["status"].tolist()
        ['ok']
    """
    if isinstance(path_or_df, pd.DataFrame):
        return _single(validate(path_or_df, required), "population", single)
    if not isinstance(path_or_df, (str, PathLike)):
        raise TypeError(f"path_or_df must be a file path or a pandas DataFrame, got "
                        f"{type(path_or_df).__name__}")
    path = Path(path_or_df)
    suffix = _suffix(path)
    if not path.is_file():
        raise DataNotFoundError(f"population file not found: {str(path)!r}")
    if suffix == ".parquet":
        _need_pyarrow(path, "reading")
    try:
        df = pd.read_parquet(path) if suffix == ".parquet" else pd.read_csv(path)
    except pd.errors.EmptyDataError:
        raise ConfigError(f"population file {str(path)!r} is empty") from None
    except (pd.errors.ParserError, UnicodeDecodeError, EOFError, OSError, ValueError,
            ImportError, zlib.error) as e:  # a corrupt gzip, a truncated parquet, a bad CSV
        first = (str(e).splitlines() or [type(e).__name__])[0]
        kind = "Parquet" if suffix == ".parquet" else "CSV"
        raise ConfigError(f"population file {str(path)!r} is not a readable {kind} file "
                          f"(damaged or truncated?): {first}") from None
    return _single(validate(df, required, source=str(path)), str(path), single)


def _single(df: pd.DataFrame, source: str, single: bool) -> pd.DataFrame:
    """Refuse a table that pools two spaces or repeats rows (its statistics would be wrong)."""
    if not single:
        return df
    if "space" in df.columns and df["space"].nunique() > 1:
        raise ConfigError(f"{source} mixes design spaces {sorted(df['space'].unique())}; one "
                          "table is one population: split it by the 'space' column")
    dup = df.duplicated(keep="first").to_numpy()
    if dup.any():
        rows = np.flatnonzero(dup)
        raise ConfigError(f"{source} repeats {rows.size} row(s) exactly (first: data row "
                          f"{int(rows[0])}); a repeated row narrows every confidence interval: "
                          "drop the copies")
    return df


def _ordered(df: pd.DataFrame) -> pd.DataFrame:
    fixed = [c for c in POPULATION_COLUMNS if c in df.columns]
    params = [c for c in param_columns(df) if c not in fixed]
    rest = [c for c in df.columns if c not in fixed and c not in params]
    return df[fixed + params + rest]


def write_population(df: pd.DataFrame, path: str | PathLike,
                     required: Sequence[str] = REQUIRED_COLUMNS) -> Path:
    """Validate and write a population table; the format follows the suffix (.csv, .csv.gz,
    .parquet). Fixed columns come first, then the parameter columns, then metadata. Parent
    folders are created. Returns the path written.
    """
    path = Path(path)
    suffix = _suffix(path)
    df = _ordered(validate(df, required, source=str(path)))
    if suffix == ".parquet":
        _need_pyarrow(path, "writing")
        return atomic_write(path, lambda tmp: df.to_parquet(tmp, index=False))
    # pandas infers the compression from the name: the temporary file's name must not hide it
    comp = "gzip" if suffix == ".csv.gz" else None
    return atomic_write(path, lambda tmp: df.to_csv(tmp, index=False, compression=comp))


def _space_names(space: str) -> tuple[str, ...] | None:
    from ..spaces import get_space
    try:
        return get_space(space).names
    except (ValueError, KeyError):
        return None


def curves_path(out: str) -> str:
    """The learning-curve table beside a population table: ``pop.csv`` -> ``pop.curves.csv``.

    Example:
        >>> curves_path("runs/pop.csv.gz"), curves_path("pop.parquet")
        ('runs/pop.curves.csv.gz', 'pop.curves.parquet')
    """
    for suffix in (".csv.gz", ".csv", ".parquet"):
        if out.lower().endswith(suffix):
            return out[: -len(suffix)] + ".curves" + out[-len(suffix):]
    return out + ".curves.csv"


def param_columns(df: pd.DataFrame) -> list[str]:
    """The sampled-parameter columns of a population table, in the spaces' parameter order.

    For registered spaces (the ``space`` column) these are the space's parameter names present in
    the table (the union over spaces, first-seen order). For unknown spaces, or without a ``space``
    column, they are the numeric columns that are neither fixed (:data:`POPULATION_COLUMNS`) nor
    known metadata (:data:`META_COLUMNS`).
    """
    out: list[str] = []
    fallback = "space" not in df.columns
    if not fallback:
        for name in pd.unique(df["space"].astype(str)):
            names = _space_names(name)
            if names is None:
                fallback = True
                continue
            out += [n for n in names if n in df.columns and n not in out]
    if fallback:
        skip = set(POPULATION_COLUMNS) | set(META_COLUMNS)
        out += [c for c in df.columns if c not in skip and c not in out
                and pd.api.types.is_numeric_dtype(df[c])]
    return out


def configs(df: pd.DataFrame) -> list[NetConfig]:
    """The rows' NetConfigs (from the ``config`` JSON column), in row order."""
    if "config" not in df.columns:
        raise ConfigError("population has no 'config' column (NetConfig JSON per row)")
    out = []
    for i, text in enumerate(df["config"]):
        try:
            out.append(NetConfig.from_json(str(text)))
        except ValueError as e:
            raise ConfigError(f"row {i}: config is not a valid NetConfig: {e}") from None
    return out


def from_samples(space: str, samples: Iterable[Any], error: Iterable[float] | float | None = None,
                 status: Iterable[str] | str = "ok", **meta: Any) -> pd.DataFrame:
    """A population DataFrame from :class:`~regnet_space.spaces.Sample` objects.

    ``error`` (one per sample, a scalar, or None for NaN) and ``status`` fill the result columns;
    ``meta`` adds constant or per-row metadata columns.
    """
    samples = list(samples)
    n = len(samples)
    rows = []
    for s in samples:
        row = {"space": space, "config": s.config.to_json(), "flops": int(s.flops),
               "params": int(s.params), "acts": int(s.acts)}
        row.update({k: (v.item() if hasattr(v, "item") else v) for k, v in s.values.items()})
        rows.append(row)
    df = pd.DataFrame(rows, columns=None if rows else list(POPULATION_COLUMNS))
    if error is None:
        df["error"] = np.nan
    else:
        df["error"] = np.broadcast_to(np.asarray(error, dtype=float), (n,)).copy()
    df["status"] = [status] * n if isinstance(status, str) else list(status)
    for k, v in meta.items():
        df[k] = v
    return _ordered(df)

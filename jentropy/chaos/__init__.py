"""jentropy.chaos — the chaotic-systems database on JAX.

Reference: W. Gilpin, "Chaos as an interpretable benchmark for forecasting and data-driven
modelling", NeurIPS 2021 Datasets and Benchmarks (the `dysts` database; metadata carried over from
dysts 0.96 under Apache-2.0, see ``jentropy/chaos/data/NOTICE.md``).

Example::

    from jentropy import chaos
    lorenz = chaos.get("Lorenz")
    chaos.list_systems("flow", dim=3)
"""

from ._dimension import CorrelationDimension as CorrelationDimension
from ._dimension import correlation_dimension as correlation_dimension
from ._dimension import correlation_integral as correlation_integral
from ._ensemble import make_ensemble as make_ensemble
from ._ensemble import random_initial_conditions as random_initial_conditions
from ._forecast_baselines import LinearAR as LinearAR
from ._forecast_baselines import NaiveDrift as NaiveDrift
from ._forecast_baselines import NaiveLast as NaiveLast
from ._forecast_baselines import NaiveMean as NaiveMean
from ._forecast_baselines import SeasonalNaive as SeasonalNaive
from ._forecast_data import GRANULARITIES as GRANULARITIES
from ._forecast_data import ForecastTask as ForecastTask
from ._forecast_data import forecast_systems as forecast_systems
from ._forecast_data import make_forecast_tasks as make_forecast_tasks
from ._forecast_models import fit_forecaster as fit_forecaster
from ._forecast_models import fit_forecasters as fit_forecasters
from ._forecast_models import forecast as forecast
from ._forecast_models import forecast_many as forecast_many
from ._forecast_models import ridge_regression as ridge_regression
from ._forecast_nbeats import NBeats as NBeats
from ._forecast_nbeats import NBeatsNetwork as NBeatsNetwork
from ._forecast_reservoir import NVAR as NVAR
from ._forecast_reservoir import EchoStateNetwork as EchoStateNetwork
from ._forecast_runner import ForecastResults as ForecastResults
from ._forecast_runner import default_forecasters as default_forecasters
from ._forecast_runner import run_forecast_benchmark as run_forecast_benchmark
from ._lyapunov import LyapunovResult as LyapunovResult
from ._lyapunov import kaplan_yorke_dimension as kaplan_yorke_dimension
from ._lyapunov import lyapunov_spectrum as lyapunov_spectrum
from ._lyapunov import max_lyapunov_exponent as max_lyapunov_exponent
from ._lyapunov import pesin_entropy as pesin_entropy
from ._metrics import METRICS as METRICS
from ._metrics import coefficient_of_variation as coefficient_of_variation
from ._metrics import forecast_metrics as forecast_metrics
from ._metrics import kendall as kendall
from ._metrics import mae as mae
from ._metrics import mape as mape
from ._metrics import marre as marre
from ._metrics import mase as mase
from ._metrics import mse as mse
from ._metrics import nrmse as nrmse
from ._metrics import pearson as pearson
from ._metrics import r2_score as r2_score
from ._metrics import rmse as rmse
from ._metrics import smape as smape
from ._metrics import spearman as spearman
from ._metrics import wape as wape
from ._multiscale import MultiscaleEntropy as MultiscaleEntropy
from ._multiscale import coarse_grain as coarse_grain
from ._multiscale import multiscale_entropy as multiscale_entropy
from ._multiscale import sample_entropy as sample_entropy
from ._spectral import dominant_frequency as dominant_frequency
from ._spectral import dominant_period as dominant_period
from ._spectral import power_spectrum as power_spectrum
from ._system import KINDS as KINDS
from ._system import System as System
from ._system import get as get
from ._system import list_systems as list_systems
from ._table import TableConfig as TableConfig
from ._table import property_table as property_table
from ._table import system_properties as system_properties
from ._table import table_config as table_config
from ._trajectory import Trajectory as Trajectory
from ._trajectory import make_trajectory as make_trajectory
from ._zero_one import zero_one_test as zero_one_test

__all__ = [
    "GRANULARITIES",
    "KINDS",
    "METRICS",
    "NVAR",
    "CorrelationDimension",
    "EchoStateNetwork",
    "ForecastResults",
    "ForecastTask",
    "LinearAR",
    "LyapunovResult",
    "MultiscaleEntropy",
    "NBeats",
    "NBeatsNetwork",
    "NaiveDrift",
    "NaiveLast",
    "NaiveMean",
    "SeasonalNaive",
    "System",
    "TableConfig",
    "Trajectory",
    "coarse_grain",
    "coefficient_of_variation",
    "correlation_dimension",
    "correlation_integral",
    "default_forecasters",
    "dominant_frequency",
    "dominant_period",
    "fit_forecaster",
    "fit_forecasters",
    "forecast",
    "forecast_many",
    "forecast_metrics",
    "forecast_systems",
    "get",
    "kaplan_yorke_dimension",
    "kendall",
    "list_systems",
    "lyapunov_spectrum",
    "mae",
    "make_ensemble",
    "make_forecast_tasks",
    "make_trajectory",
    "mape",
    "marre",
    "mase",
    "max_lyapunov_exponent",
    "mse",
    "multiscale_entropy",
    "nrmse",
    "pearson",
    "pesin_entropy",
    "power_spectrum",
    "property_table",
    "r2_score",
    "random_initial_conditions",
    "ridge_regression",
    "rmse",
    "run_forecast_benchmark",
    "sample_entropy",
    "smape",
    "spearman",
    "system_properties",
    "table_config",
    "wape",
    "zero_one_test",
]

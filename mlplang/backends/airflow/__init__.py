"""The Apache Airflow 3 target: `mlp compile --target airflow`."""

from mlplang.backends.airflow.backend import AirflowBackend
from mlplang.backends.airflow.options import AirflowOptions

__all__ = ["AirflowBackend", "AirflowOptions"]

"""The code MLflow runs to load a seqapps model ("models from code": no pickle involved)."""

import mlflow.models

from seqapps.mlflow_model import SeqappsModel

mlflow.models.set_model(SeqappsModel())

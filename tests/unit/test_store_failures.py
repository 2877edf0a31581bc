"""Which errors mean a lost tracking store (exit 75, resume later) and which do not."""

import sqlite3

from mlflow.exceptions import MlflowException

from seqapps.tracking import first_line, is_store_failure


def test_database_and_connection_errors_are_store_failures():
    assert is_store_failure(sqlite3.OperationalError("database or disk is full"))
    assert is_store_failure(MlflowException("API request to http://h/api failed with exception"))


def test_a_bad_request_or_a_training_error_is_not():
    assert not is_store_failure(MlflowException("Invalid value for param 'x'"))
    assert not is_store_failure(ValueError("shapes do not match"))


def test_first_line_keeps_the_whole_first_line():
    error = RuntimeError("the store says " + "x" * 400 + " set FIX=true\n[SQL: INSERT ...]")
    assert first_line(error).endswith("set FIX=true")

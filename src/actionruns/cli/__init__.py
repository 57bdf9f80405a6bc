"""The ``actionruns`` command line."""

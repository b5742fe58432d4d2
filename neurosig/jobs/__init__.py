"""Jobs: orchestration of data, models and reports that runs from a YAML file (above every library layer)."""

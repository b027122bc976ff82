"""The worker process: `python -m background` consumes the bus into the stores."""

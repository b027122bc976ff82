"""The one place in `core` that imports Streamlit: cached services, the embedded worker,
session-state keys and shared widgets. Pages import from here; `core` logic never does."""

"""Instroom's product logic in plain Python; never imports streamlit."""

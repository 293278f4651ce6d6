"""Streamlit UI only: the router (app.py), pages (app_pages/) and the one cache layer."""

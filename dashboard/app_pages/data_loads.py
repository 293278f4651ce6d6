"""Placeholder: being built."""

import streamlit as st

st.title("data_loads")

"""Placeholder: being built."""

import streamlit as st

st.title("at_a_glance")

"""The browser benchmark's yardstick: a bare Streamlit page with one small Plotly chart.

What any Streamlit page with a Plotly chart costs this machine's Chromium (loading the app,
then Plotly's code), with no data behind it: the dashboard's times are reported beside it.
"""

import plotly.graph_objects as go
import streamlit as st

st.title("Reference")
st.metric("Figure", "1")
figure = go.Figure(go.Bar(x=[20, 35, 33, 12], y=["2024-25"] * 4, orientation="h"))
figure.update_layout(title="Reference chart", barmode="stack")
st.plotly_chart(figure)

"""Pure query functions over the store: no Streamlit, scope on every call."""

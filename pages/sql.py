"""Placeholder: sql."""

import streamlit as st

st.title("sql")
st.info("Coming soon.")

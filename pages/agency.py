"""Placeholder: agency."""

import streamlit as st

st.title("agency")
st.info("Coming soon.")

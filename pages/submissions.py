"""Placeholder: submissions."""

import streamlit as st

st.title("submissions")
st.info("Coming soon.")

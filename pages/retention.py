"""Placeholder: retention."""

import streamlit as st

st.title("retention")
st.info("Coming soon.")

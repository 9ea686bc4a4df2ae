"""Placeholder: certification."""

import streamlit as st

st.title("certification")
st.info("Coming soon.")

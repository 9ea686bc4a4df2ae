"""Placeholder: billing."""

import streamlit as st

st.title("billing")
st.info("Coming soon.")

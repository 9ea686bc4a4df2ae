"""Placeholder: regions."""

import streamlit as st

st.title("regions")
st.info("Coming soon.")

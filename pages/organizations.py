"""Placeholder: organizations."""

import streamlit as st

st.title("organizations")
st.info("Coming soon.")

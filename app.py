"""Digit Lab: navigation and the frame every page shares. Run: streamlit run app.py"""

import streamlit as st

st.set_page_config(page_title="Digit Lab", page_icon="✍️", layout="wide")

pages = [
    st.Page("pages/overview.py", title="Overview", icon="🏠", default=True),
    st.Page("pages/train.py", title="Train", icon="🏋️"),
    st.Page("pages/regularization.py", title="Regularization", icon="📉"),
    st.Page("pages/denoising.py", title="Denoising", icon="🧂"),
    st.Page("pages/latent.py", title="Latent space", icon="🌌"),
    st.Page("pages/draw.py", title="Draw", icon="✏️"),
]
page = st.navigation(pages)
st.sidebar.caption("Digit Lab · neural networks on MNIST · models trained on the real MNIST set")
page.run()

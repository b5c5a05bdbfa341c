"""Digit Lab: navigation and the frame every page shares. Run: streamlit run app.py"""

import streamlit as st

st.set_page_config(page_title="Digit Lab", page_icon=":material/draw:", layout="wide")

pages = [
    st.Page("pages/overview.py", title="Overview", icon=":material/home:", default=True),
    st.Page("pages/train.py", title="Train", icon=":material/model_training:"),
    st.Page("pages/regularization.py", title="Regularization", icon=":material/tune:"),
    st.Page("pages/denoising.py", title="Denoising", icon=":material/blur_on:"),
    st.Page("pages/latent.py", title="Latent space", icon=":material/scatter_plot:"),
    st.Page("pages/draw.py", title="Draw", icon=":material/draw:"),
]
page = st.navigation(pages)
st.sidebar.caption("Digit Lab · neural networks on MNIST · models trained on the real MNIST set")
page.run()

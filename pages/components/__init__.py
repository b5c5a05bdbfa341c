"""The pages' own browser components (``st.components.v2``): HTML, CSS and JavaScript
beside a Python function each."""

"""The page of `sim app` (Streamlit): a front door beside the command line, on the same use
cases."""

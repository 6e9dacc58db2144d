"""Training data and recipes for the plate recogniser (issue 13)."""

"""Pure analyses over indexed chain data (DataFrames in, DataFrames out)."""

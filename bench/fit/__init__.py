"""Fitting what qa ships: the answerer weights and the reader."""

"""Reproduction of Szegedy et al. 2013."""

"""Reproduce the Music Mood study and export models for the integration."""

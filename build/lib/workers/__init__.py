"""Dramatiq broker setup, actors and the stream process."""

"""Widgets shared by the tabs: editors generated from the registries."""

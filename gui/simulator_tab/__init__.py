"""The Simulator tab: map, runs, playback and side plots."""

"""The Training tab: configure, run and compare real PyTorch training with live curves."""

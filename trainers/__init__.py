"""OptiScope's training engine: real PyTorch training, headless (torch, numpy, scikit-learn; never Qt)."""

"""masked: discrete diffusion over palette indices with an absorbing MASK state (MaskGIT /
D3PM-absorbing line). Settings in config.py (no TensorFlow), the model in model.py."""

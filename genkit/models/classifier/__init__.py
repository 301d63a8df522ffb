"""The `classifier` family, genkit's judge of realness for digits: settings in config.py (no
TensorFlow), the model in model.py."""

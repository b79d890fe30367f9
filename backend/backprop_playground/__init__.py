"""Backprop Playground: watch a neural network learn by backpropagation, live."""

__version__ = "0.1.0"

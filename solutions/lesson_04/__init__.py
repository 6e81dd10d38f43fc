"""Lesson 04: backpropagation, the gradient of the loss with respect to every weight, and how to check it."""

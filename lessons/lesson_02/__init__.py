"""Lesson 02: the forward pass, from pixels to ten class probabilities."""

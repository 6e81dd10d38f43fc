"""Lesson 03: the loss, one number that says how wrong the network is, and accuracy."""

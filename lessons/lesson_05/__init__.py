"""Lesson 05: training, mini-batch stochastic gradient descent with momentum and a cosine schedule."""

"""Pretraining of the SPA models (classifier, attribute manipulator, noise generator), resumable per epoch."""

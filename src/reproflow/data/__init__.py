"""Datasets: loading through torchvision, the embedded digits, rotation attributes, storage."""
